"""The values the study notes list (../shared/seeds/README.md), reproduced through the API.

    python examples/seeds.py

Each line shows what tinygrad_ko computes and what the notes give. A note like "0.1999..." is
a value cut off after its digits, "0.0975" one rounded to them. Exits with status 1 if any
value disagrees with its note.
"""

import sys

import numpy as np

from tinygrad_ko import gradient_descent, numerical_diff, numerical_gradient
from tinygrad_ko.engine.functions import cross_entropy_error, sum_squares_error


def function_1(x):  # 4.3.2
    return 0.01 * x**2 + 0.1 * x


def function_2(x):  # 4.3.3
    return x[0] ** 2 + x[1] ** 2


def agrees(value, note):
    """Whether value reads as the note: cut off ("0.1999...") or rounded ("0.0975")."""
    digits = note.removesuffix("...")
    mantissa, _, exponent = digits.partition("e")
    decimals = len(mantissa.partition(".")[2])
    unit = 10.0 ** (int(exponent or 0) - decimals)
    quoted = float(digits)
    if note.endswith("..."):  # truncated toward zero
        return abs(quoted) <= abs(value) < abs(quoted) + unit and np.sign(value) == np.sign(quoted)
    return abs(value - quoted) <= unit / 2


def main():
    correct_2 = [0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]  # 4.2.1: the "2" is likely
    wrong_7 = [0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0]  # the "7" is likely
    t = [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]  # the answer is 2
    descent = gradient_descent(function_2, np.array([-3.0, 4.0]), lr=0.1, step_num=100)
    checks = [
        ("sum_squares_error, correct '2'", sum_squares_error(correct_2, t), "0.0975"),
        ("sum_squares_error, wrong '7'", sum_squares_error(wrong_7, t), "0.5975"),
        ("cross_entropy_error, correct '2'", cross_entropy_error(correct_2, t), "0.5108"),
        ("cross_entropy_error, wrong '7'", cross_entropy_error(wrong_7, t), "2.3026"),
    ]
    for point, note in [
        ((3.0, 4.0), ("6", "8")),
        ((0.0, 2.0), ("0", "4")),
        ((3.0, 0.0), ("6", "0")),
    ]:
        grad = numerical_gradient(function_2, np.array(point))
        for i in (0, 1):
            checks.append((f"numerical_gradient of x0²+x1² at {point}, x{i}", grad[i], note[i]))
    checks += [
        ("numerical_diff of 0.01x²+0.1x at 5", numerical_diff(function_1, 5), "0.1999..."),
        ("numerical_diff of 0.01x²+0.1x at 10", numerical_diff(function_1, 10), "0.2999..."),
        ("gradient_descent from (-3, 4), lr 0.1, 100 steps, x0", descent[0], "-6.1e-10"),
        ("gradient_descent from (-3, 4), lr 0.1, 100 steps, x1", descent[1], "8.1e-10"),
        ("∂f/∂x0 at (3, 4)", numerical_diff(lambda x0: x0 * x0 + 4.0**2, 3.0), "6.00..."),
        ("∂f/∂x1 at (3, 4)", numerical_diff(lambda x1: 3.0**2 + x1 * x1, 4.0), "7.999..."),
    ]

    failures = 0
    for what, value, note in checks:
        ok = agrees(float(value), note)
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {what:56s} {float(value):<24.16g} notes: {note}")
    print(f"{len(checks) - failures} of {len(checks)} values agree with the notes")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
