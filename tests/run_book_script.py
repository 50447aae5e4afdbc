"""Run one of the book's scripts as the tests compare them: python run_book_script.py SCRIPT.

NumPy's global random state is seeded (the book's scripts draw from it unseeded), figures are
drawn off screen, pickles are read by tinygrad_ko's safe loader (the book's weights are files
from outside; its own code calls pickle.load on them), and after the script's own output comes a
line RESULTS and, as JSON, the data of every line, bar and image it plotted: what the script
shows, as numbers.
"""

import json
import pickle
import runpy
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from tinygrad_ko.files import load_pickled_weights

script = Path(sys.argv[1]).resolve()
sys.path[0] = str(script.parent)  # as `python SCRIPT` would have it, not this file's folder
sys.argv = [str(script)]
plt.show = lambda *args, **kwargs: None  # the figures stay open, to be read below
pickle.load = load_pickled_weights  # arrays in dicts only; anything else is refused, unrun
np.random.seed(0)
runpy.run_path(str(script), run_name="__main__")

plotted = []
for number in plt.get_fignums():
    for axes in plt.figure(number).axes:
        plotted += [np.asarray(line.get_ydata(), dtype=float).tolist() for line in axes.lines]
        plotted += [[patch.get_height() for patch in axes.patches]] if axes.patches else []
        plotted += [np.asarray(image.get_array(), dtype=float).ravel().tolist()
                    for image in axes.images]  # fmt: skip
        plotted += [
            np.asarray(mesh.get_array(), dtype=float).ravel().tolist()
            for mesh in axes.collections
            if "QuadMesh" in type(mesh).__name__
        ]  # pcolor
print("RESULTS")
print(json.dumps(plotted))
