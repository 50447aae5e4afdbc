"""Gradient descent on f(x0, x1) = x0² + x1², from (-3, 4) (4.4.1, figure 4-10).

    python examples/gradient_descent.py [--plot path.png]

The gradient is taken numerically, as in chapter 4. With lr 0.1 the path reaches the minimum at
the origin in 100 steps; too large a rate diverges, too small a rate barely moves.
"""

import argparse

import numpy as np

from tinygrad_ko import gradient_descent, numerical_gradient


def function_2(x):
    return x[0] ** 2 + x[1] ** 2


parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--plot", metavar="FILE.png", help="draw the path (needs matplotlib)")
args = parser.parse_args()

init_x = np.array([-3.0, 4.0])
print("gradient at (3, 4):", numerical_gradient(function_2, np.array([3.0, 4.0])))  # (6, 8)
x, path = gradient_descent(function_2, init_x, lr=0.1, step_num=100, return_path=True)
print(f"lr 0.1,   100 steps: x = {x}  (the notes: about (-6.1e-10, 8.1e-10))")
for lr in (10.0, 1e-10):
    print(f"lr {lr:g}: x = {gradient_descent(function_2, init_x, lr=lr, step_num=100)}")

if args.plot:
    from tinygrad_ko.display import require_matplotlib

    figure = require_matplotlib()(figsize=(5, 5))
    ax = figure.subplots()
    ax.plot([-5, 5], [0, 0], "--b", [0, 0], [-5, 5], "--b", linewidth=0.5)
    ax.plot(path[:21, 0], path[:21, 1], "o")  # the first 20 steps, as figure 4-10
    ax.set(xlim=(-3.5, 3.5), ylim=(-4.5, 4.5), xlabel="x0", ylabel="x1")
    figure.savefig(args.plot)
    print(f"saved the path to {args.plot}")
