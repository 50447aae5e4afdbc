"""What the book's networks share, written once: layers over named weights, ending in
SoftmaxWithLoss (4.5, 5.7, 6).

A network keeps the book's interface (params, predict, loss, accuracy, gradient,
numerical_gradient), so the book's training scripts run with only their imports changed, and
adds the graph-mode interface of a PyTorch loop: forward(x, t) returns the loss as a Tensor,
parameters() the weights (sharing memory with params), train() and eval() the mode of its
Dropout and BatchNormalization layers, save() and load() its weights in .npz.
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import numpy as np

from tinygrad_ko.checking.numerical import numerical_gradient
from tinygrad_ko.data.files import atomic_write, load_pickled_weights, read_arrays
from tinygrad_ko.engine.autograd import no_grad, warnings_at_user_line
from tinygrad_ko.engine.tensor import Tensor
from tinygrad_ko.layers import SoftmaxWithLoss
from tinygrad_ko.layers.normalization import BatchNormalization, Dropout

__all__ = ["EVAL_CHUNK", "Network", "Params"]

EVAL_CHUNK = 10_000  # rows scored at once by accuracy()
RUNNING = ("running_mean", "running_var")  # what BatchNormalization keeps besides its weights


class Params(dict):
    """The book's params dict, whose arrays are the network's own: every way of writing into it
    (`params[k] -= lr * g`, `params[k] = array`, update, setdefault, |=) writes into the
    weights the network computes with. Parameters cannot be removed. A deep copy or a pickle
    holds copies of the arrays (a snapshot); params.copy() is a plain dict of the same arrays."""

    def __setitem__(self, key, value):
        self._write({key: value})

    def update(self, other=(), /, **more):
        self._write({**dict(other), **more})

    def __ior__(self, other):
        self._write(dict(other))
        return self

    def setdefault(self, key, default=None):
        if key not in self:
            self._write({key: default})  # refused: a network gains no parameters
        return self[key]

    @classmethod
    def fromkeys(cls, keys, value=None):  # a network's parameters come only from a network
        return dict.fromkeys(keys, value)

    def _write(self, values):
        """Copy each value into the parameter's array, once all have been checked (and copied
        first where it shares memory with a parameter another value is written into)."""
        arrays = {key: self._checked(key, value) for key, value in values.items()}
        changed = {key: array for key, array in arrays.items() if array is not self[key]}
        targets = [self[key] for key in changed]  # (params[k] -= step is already done in place)
        for key, array in changed.items():
            if any(np.may_share_memory(array, target) for target in targets):
                changed[key] = array.copy()
        for key, array in changed.items():
            self[key][...] = array

    def _checked(self, key, value):
        if key not in self:
            raise KeyError(f"params: the network has no parameter {key!r}, only {list(self)}")
        value, target = np.asarray(value), self[key]
        if value.shape != target.shape:
            raise ValueError(
                f"params[{key!r}]: the new value has shape {value.shape}, the parameter "
                f"{target.shape}"
            )
        if not np.can_cast(value.dtype, target.dtype, "same_kind"):
            raise TypeError(
                f"params[{key!r}]: a value of dtype {value.dtype} cannot be written into the "
                f"parameter's {target.dtype}"
            )
        return value

    def _removal(self, *args):
        raise TypeError(
            "params: a network's parameters cannot be removed; to change one, assign to it "
            "(params['W1'] = array)"
        )

    __delitem__ = pop = popitem = clear = _removal

    def __reduce__(self):  # copy and pickle: no __setitem__ on an empty Params
        return type(self), (dict(self),)


class Network:
    """A list of layers over named weights, then SoftmaxWithLoss. A subclass sets `config` (the
    arguments that rebuild it, for save and load), has a classmethod param_shapes(**config) and
    a method build(weights) that makes its layers over weights given as tensors (the graph) or
    arrays (the book's way, in float64, for numerical gradients)."""

    weight_decay_lambda = 0
    loss_delta = None  # SoftmaxWithLoss's: the exact cross-entropy (the book layer: its 1e-7)

    def __init__(self, shapes, scales, dtype, seed):
        """Weights named "W…" start as scale · N(0, 1) (scales[name]), "gamma…" at 1, the rest
        at 0. Without seed they are drawn from NumPy's global random state, as the book's are;
        with seed, from a generator of their own (which the network's Dropout layers use too).
        """
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}: dtype must be a float type, got {dtype}")
        self.rng = None if seed is None else np.random.default_rng(seed)
        normal = np.random.standard_normal if seed is None else self.rng.standard_normal
        params = {}
        for name, shape in shapes.items():
            if name.startswith("W"):
                params[name] = (scales[name] * normal(shape)).astype(self.dtype)
            else:
                params[name] = (np.ones if name.startswith("gamma") else np.zeros)(shape, dtype)
        self.params = Params(params)
        self.tensors = {k: Tensor(v, requires_grad=True, name=k) for k, v in self.params.items()}
        self.layers = self.build(self.tensors)
        self.last_layer = SoftmaxWithLoss(self.loss_delta)
        self.training = True

    def summary(self):
        """The network in a line (its class, sizes and options): what the commands print."""
        return type(self).__name__

    def __repr__(self):
        count = sum(p.size for p in self.params.values())
        return f"<{self.summary()}: {self.dtype}, {count:,} parameters>"

    # --- graph mode ------------------------------------------------------------------------------
    def parameters(self):
        """The weight tensors, in the order of params (they share memory with params)."""
        return iter(self.tensors.values())

    def train(self, mode=True):
        """Training mode (the default): Dropout drops, BatchNormalization uses the batch's
        statistics and updates its running averages. Returns the network, as PyTorch's does."""
        self.training = bool(mode)
        return self

    def eval(self):
        """Evaluation mode: Dropout keeps every unit, BatchNormalization its running averages."""
        return self.train(False)

    def scores(self, x, training=None):
        """The scores before softmax, as a Tensor in the graph, in the network's mode unless
        `training` says otherwise (the layers' own mode is left as it is)."""
        mode = self.training if training is None else training
        with warnings_at_user_line():  # an overflow is shown at the caller's line, not ours
            for layer in self.layers:  # Dropout and BatchNormalization are told the mode
                x = layer(x, train_flg=mode) if hasattr(layer, "training") else layer(x)
        return x

    def forward(self, x, t, training=None):
        """The loss on the batch (x, t) as a Tensor to call backward() on: the mean
        cross-entropy, plus the weight decay ½λΣ‖W‖² when weight_decay_lambda is set (6.4.2)."""
        with warnings_at_user_line():
            loss = self.last_layer(self.scores(x, training), t)
            if self.weight_decay_lambda:
                loss = loss + self.weight_decay(self.tensors)
        return loss

    def weight_decay(self, weights):
        """½λ Σ ‖W‖² over the weight matrices W (tensors or arrays), as the book adds it."""
        total = 0
        for name, w in weights.items():
            if name.startswith("W"):
                total = total + 0.5 * self.weight_decay_lambda * (w * w).sum()
        return total

    # --- the book's interface -----------------------------------------------------------------
    def predict(self, x, train_flg=False):
        """Scores before softmax, as an array (chapter 5's predict; chapter 4's applied softmax,
        which changes no argmax); in evaluation mode unless train_flg, as the book's."""
        with no_grad():
            return self.scores(x, train_flg).data

    def loss(self, x, t, train_flg=False):
        """The loss as a float, weight decay included; in evaluation mode unless train_flg."""
        with no_grad():
            return float(self.forward(x, t, train_flg).data)

    eval_batch_size = EVAL_CHUNK

    def accuracy(self, x, t, batch_size=None):
        """Fraction of samples whose top score is the label (t: labels or one-hot rows), in
        evaluation mode. Scored batch_size rows at a time (the network's eval_batch_size unless
        given): the same hits as one predict over the whole set, without 60000-row temporaries
        that the allocator hands back to the system and page-faults in again at every
        evaluation."""
        x, t = np.asarray(x), np.asarray(t)
        labels = t.argmax(axis=1) if t.ndim == 2 else t
        n = x.shape[0] if x.ndim else 0
        if n == 0 or labels.shape != (n,):
            raise ValueError(
                f"{type(self).__name__}.accuracy: x of shape {x.shape} holds {n} samples, t has "
                f"shape {t.shape}; it needs one label or one-hot row per sample, and at least "
                "one sample"
            )
        hits, batch_size = 0, batch_size or self.eval_batch_size
        for start in range(0, n, batch_size):
            chunk = slice(start, start + batch_size)
            hits += int(np.count_nonzero(self.predict(x[chunk]).argmax(axis=1) == labels[chunk]))
        return hits / n

    def gradient(self, x, t, train_flg=True):
        """dL/dparams by backprop (5.7.2), in training mode as the book's (train_flg=False: in
        evaluation mode): a dict of arrays."""
        for p in self.tensors.values():
            p.grad = None
        self.forward(x, t, training=train_flg).backward()
        return {k: p.grad for k, p in self.tensors.items()}

    def numerical_gradient(self, x, t, sample=None, seed=None, train_flg=True):
        """dL/dparams by central differences (4.4.2), in float64 whatever the network's dtype,
        on copies of the weights, in training mode as the book's unless train_flg=False.
        sample=k takes only k random elements of each parameter (the others are masked), for a
        quick per-element check."""
        params, loss = self.float64_loss(x, t, train_flg)
        return {
            k: numerical_gradient(loss, p, sample=sample, seed=None if seed is None else seed + i)
            for i, (k, p) in enumerate(params.items())
        }

    def float64_loss(self, x, t, train_flg=True):
        """Float64 copies of the weights, and the loss on (x, t) as a function of them, the
        book's way through layers of their own: what numerical_gradient evaluates twice per
        weight. In training mode Dropout is refused: it would draw a new mask at every
        evaluation, so no gradient could agree (check such a network with train_flg=False)."""
        if train_flg and any(isinstance(layer, Dropout) for layer in self.layers):
            raise ValueError(
                f"{type(self).__name__}: numerical gradients in training mode of a network with "
                "Dropout would differ at every evaluation of the loss (a new mask each time); "
                "check it in evaluation mode (train_flg=False), where Dropout scales instead"
            )
        params = {k: v.astype(np.float64) for k, v in self.params.items()}
        layers, last = self.build(params), SoftmaxWithLoss(self.loss_delta)
        x = np.asarray(x, dtype=np.float64)
        for copy, own in zip(layers, self.layers):  # evaluation reads the running averages
            if isinstance(copy, BatchNormalization):
                copy.running_mean[...], copy.running_var[...] = own.running_mean, own.running_var

        def loss(_=None):
            h = x
            for layer in layers:
                modal = hasattr(layer, "training")
                h = layer.forward(h, train_flg=train_flg) if modal else layer.forward(h)
            decay = self.weight_decay(params) if self.weight_decay_lambda else 0
            return last.forward(h, t) + decay

        return params, loss

    def forget_seed(self):
        """From now on, Dropout draws its masks from NumPy's global random state."""
        self.rng = None
        for layer in self.layers:
            if isinstance(layer, Dropout):
                layer.rng = None

    # --- files ---------------------------------------------------------------------------------
    def save_params(self, file_name="params.pkl"):
        """The book's save_params (7.5): the weights as a pickle of a dict of arrays, which the
        book's own load_params reads. Written atomically."""
        with atomic_write(file_name) as f:
            pickle.dump({k: np.array(v) for k, v in self.params.items()}, f)

    def load_params(self, file_name="params.pkl"):
        """The book's load_params: the weights from a pickle of a dict of arrays (the book's
        params.pkl, or save_params'), read without running code (load_pickled_weights), every
        name and shape checked. A relative name missing here is looked for beside the running
        script, as the book's looks beside its module."""
        path = Path(file_name)
        script = getattr(sys.modules["__main__"], "__file__", None)
        if not path.exists() and script and (Path(script).parent / path).exists():
            path = Path(script).parent / path
        weights = load_pickled_weights(path)
        names = sorted(weights) if isinstance(weights, dict) else type(weights).__name__
        if names != sorted(self.params):
            raise ValueError(
                f"{type(self).__name__}.load_params: {path} holds {names}; this network's "
                f"weights are {list(self.params)}"
            )
        for name, array in weights.items():
            if np.shape(array) != self.params[name].shape:
                raise ValueError(
                    f"{type(self).__name__}.load_params: {name} in {path} has shape "
                    f"{np.shape(array)}, this network's {self.params[name].shape}"
                )
        self.params.update(weights)

    def running(self):
        """BatchNormalization's running averages by name (running_mean1, running_var1, ...)."""
        return {
            f"{kind}{layer.gamma.name[len('gamma') :]}": getattr(layer, kind)
            for layer in self.layers
            if hasattr(layer, "running_mean")
            for kind in RUNNING
        }

    def save(self, path):
        """Write the weights, the running averages and the architecture (JSON in a 0-d string
        array `meta`) to .npz, atomically: an interrupted save leaves no half-written file."""
        meta = {"model": self.core().__name__, "dtype": self.dtype.name, **self.config}
        with atomic_write(path) as f:
            np.savez(f, meta=np.array(json.dumps(meta)), **self.params, **self.running())

    @classmethod
    def state_shapes(cls, config):
        """The shape of every array save() writes for a network built from config."""
        shapes = cls.param_shapes(**config)
        running = {
            f"{kind}{name[len('gamma') :]}": shape
            for name, shape in shapes.items()
            if name.startswith("gamma")
            for kind in RUNNING
        }
        return shapes | running

    @classmethod
    def core(cls):
        """The class of tinygrad_ko's own API this one is: tinygrad_ko.book's networks only
        adapt its arguments, so files of either are the same."""
        return next(c for c in cls.__mro__ if not c.__module__.startswith("tinygrad_ko.book"))

    @classmethod
    def upgrade_record(cls, meta):
        """An architecture record written by an earlier version, in today's form."""
        return meta

    @classmethod
    def load(cls, path):
        """Rebuild a network saved with save(). Everything is checked before anything is built,
        and nothing is ever unpickled; a file that does not fit is refused, naming the array."""
        caller = f"{cls.__name__}.load"
        arrays = read_arrays(path, caller)
        config, dtype = _record(cls, path, arrays.pop("meta", None))
        shapes = cls.state_shapes(config)
        if sorted(arrays) != sorted(shapes):
            raise ValueError(
                f"{caller}: {path} holds arrays {sorted([*arrays, 'meta'])}; expected meta, "
                f"{', '.join(shapes)}"
            )
        for name, array in arrays.items():
            if array.shape != shapes[name] or array.dtype != dtype:
                raise ValueError(
                    f"{caller}: array {name} in {path} is {array.dtype} {array.shape}, but the "
                    f"recorded architecture needs {dtype} {shapes[name]}"
                )
        net = object.__new__(cls)  # built by the core class, for the book's classes too
        try:  # seed: NumPy's global state is left alone
            cls.core().__init__(net, **config, dtype=dtype, seed=0)
        except (TypeError, ValueError):  # an argument its constructor refuses
            raise _invalid_record(cls, path) from None
        net.forget_seed()
        net.params.update({k: v for k, v in arrays.items() if k in net.params})
        for name, array in net.running().items():
            array[...] = arrays[name]
        return net


def _record(cls, path, array):
    """The architecture record of a saved network of class cls: (config, dtype), checked by
    building nothing: cls.param_shapes must accept the config."""
    try:
        meta = json.loads(str(array.item())) if array.dtype.kind == "U" and not array.shape else {}
        meta = cls.upgrade_record(meta)
        config = {k: v for k, v in meta.items() if k not in ("model", "dtype")}
        dtype = np.dtype(meta["dtype"])
        ok = meta.get("model") == cls.core().__name__ and dtype.kind == "f"
        ok = ok and bool(cls.param_shapes(**config))
    except (AttributeError, ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise _invalid_record(cls, path)
    return config, dtype


def _invalid_record(cls, path):
    return ValueError(
        f"{cls.__name__}.load: {path} has no valid architecture record 'meta' (a 0-d string "
        f"holding JSON: model {cls.core().__name__!r}, a float dtype and the arguments that "
        "rebuild it, as save() writes them)"
    )
