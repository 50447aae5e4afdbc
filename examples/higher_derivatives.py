"""tanh and its first four derivatives, each found by backpropagating the one before (book 3,
step 35's figure), and the computational graph of the fourth.

    python examples/higher_derivatives.py [--out tanh.png] [--graph tanh-4th.svg]

Each derivative is grad(previous.sum(), x, create_graph=True): the gradient comes back as a
tensor with a graph of its own, so it can be differentiated again. The check against the
closed forms (1 - t², -2t(1 - t²), ...) is printed. The graph is drawn with Graphviz's dot
where it is installed; a .dot name saves the DOT text without it. Needs matplotlib (`plot`).
"""

import argparse

import numpy as np

from tinygrad_ko import Tensor, grad
from tinygrad_ko.display import draw_graph, new_figure, save_figure

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", default="tanh.png", metavar="FILE.png", help="the figure")
parser.add_argument("--graph", default="tanh-4th.svg", metavar="FILE", help=".svg .png .dot")
args = parser.parse_args()

x = Tensor(np.linspace(-7, 7, 200), requires_grad=True, name="x")
curves = [x.tanh()]
for _ in range(4):
    (derivative,) = grad(curves[-1].sum(), [x], create_graph=True)
    curves.append(derivative)

t = np.tanh(x.data)
closed = [t, 1 - t**2, -2 * t * (1 - t**2), -2 * (1 - t**2) * (1 - 3 * t**2),
          8 * t * (1 - t**2) * (2 - 3 * t**2)]  # fmt: skip
worst = max(np.abs(c.data - f).max() for c, f in zip(curves, closed))
verdict = "agree with" if worst < 1e-12 else "DIFFER from"
print(f"derivatives 1-4 of tanh on 200 points {verdict} the closed forms (largest |difference| "
      f"{worst:.1e})")  # fmt: skip

figure, kind = new_figure(args.out, "higher_derivatives.py:", figsize=(7, 4.5), dpi=100)
axes = figure.subplots()
labels = ["y = tanh(x)", "y'", "y''", "y'''", "y''''"]
for curve, label in zip(curves, labels):
    axes.plot(x.data, curve.data, label=label)
axes.set(xlabel="x", ylim=(-4.5, 4.5))
axes.legend(loc="lower right")
axes.grid(alpha=0.3)
save_figure(figure, args.out, kind)

graph = draw_graph(curves[4])
graph.save(args.graph)
print(f"saved {args.out}; the graph of the fourth derivative ({graph!r}) in {args.graph}")
