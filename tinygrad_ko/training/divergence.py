"""When training blows up: a loss that is NaN or inf stops fit and the Trainers with one clear
error (TrainingDiverged) instead of going on with NaN. (NumPy's overflow warnings on the way
point at the line of your code: autograd.warnings_at_user_line.)
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

from tinygrad_ko.engine.autograd import detect_anomaly, enable_grad

__all__ = ["TrainingDiverged", "check_loss"]

ADVICE = "lower the learning rate or the weights' initial scale (weight_init_std)"


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or inf: `iteration` (counted from 1), `loss`, and `where`, the first
    op that made NaN or inf on that batch when it could be found (else None)."""

    def __init__(self, message, iteration, loss, where):
        super().__init__(message)
        self.iteration, self.loss, self.where = iteration, loss, where


def check_loss(caller, loss, iteration, net=None, batch=None, lr=None):
    """Raise TrainingDiverged when loss is not finite. With a network whose forward(x, t) builds
    a graph and its batch, the batch is run again under detect_anomaly to name the first op that
    made NaN or inf (only then: a finite loss costs one isfinite)."""
    if math.isfinite(loss):
        return
    where = _first_nonfinite_op(net, batch) if net is not None and batch is not None else None
    rate = f" at lr {lr:g}" if lr is not None else ""
    found = f"; the first NaN or inf on that batch: {where}" if where else ""
    raise TrainingDiverged(
        f"{caller}: the loss is {loss} at iteration {iteration}{rate}, so training stopped there"
        f"{found}. The steps diverged: {ADVICE}",
        iteration,
        loss,
        where,
    )


def _first_nonfinite_op(net, batch):
    """Where NaN or inf first appear on the batch: the weights that already hold them, or the
    first op of net.forward(*batch) whose result does ('Op ..., called at file:line'); None for
    a network without a graph (the book's layers on arrays)."""
    parameters = getattr(net, "parameters", None)
    if parameters is None:
        return None
    bad = [p.name or "?" for p in parameters() if not np.isfinite(p.data).all()]
    if bad:
        return "the weights " + ", ".join(bad) + " already hold NaN or inf"
    try:
        with _state_kept(net), np.errstate(all="ignore"), enable_grad(), detect_anomaly():
            net.forward(*batch)
    except FloatingPointError as error:
        return str(error)
    return None


@contextlib.contextmanager
def _state_kept(net):
    """The random states (NumPy's global one, the network's and its layers' generators) and
    BatchNormalization's running averages as they were before the block: the diagnostic run
    leaves the network as training left it, for a retry at a lower learning rate."""
    layers = list(getattr(net, "layers", []))
    owners = [net, *layers]
    generators = {
        id(g): g for o in owners if isinstance(g := getattr(o, "rng", None), np.random.Generator)
    }
    states = {key: g.bit_generator.state for key, g in generators.items()}
    running = [(array, array.copy()) for layer in layers for kind in ("running_mean", "running_var")
               if isinstance(array := getattr(layer, kind, None), np.ndarray)]  # fmt: skip
    global_state = np.random.get_state()
    try:
        yield
    finally:
        np.random.set_state(global_state)
        for key, g in generators.items():
            g.bit_generator.state = states[key]
        for array, saved in running:
            array[...] = saved
