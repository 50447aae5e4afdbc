"""What a notebook or a terminal shows: the computational graph drawn (5.1) and the figures of
training (curves, filters).

- viz: draw_graph, Graph, to_dot (drawn by Graphviz's dot, or by grandalf without it)
- plot: plot_history, plot_filters, smooth_curve, new_figure, save_figure
"""

from tinygrad_ko.display.plot import (
    figure_format,
    new_figure,
    plot_filters,
    plot_history,
    require_matplotlib,
    save_figure,
    smooth_curve,
)
from tinygrad_ko.display.viz import CannotDraw, Graph, draw_graph, to_dot

__all__ = [
    "CannotDraw",
    "Graph",
    "draw_graph",
    "figure_format",
    "new_figure",
    "plot_filters",
    "plot_history",
    "require_matplotlib",
    "save_figure",
    "smooth_curve",
    "to_dot",
]
