"""The two-layer network of chapters 4 and 5 (4.5.1, 5.7.2), built from the core's layers.

It keeps the book's interface (params, predict, loss, accuracy, gradient, numerical_gradient),
so the book's training scripts run with only the import changed, and adds the graph-mode
interface of a PyTorch loop: forward(x, t) returns the loss as a Tensor, parameters() the
weights, which share memory with params.
"""

from __future__ import annotations

import json

import numpy as np

from tinygrad_ko.files import atomic_write
from tinygrad_ko.layers import Affine, ReLU, Sigmoid, SoftmaxWithLoss
from tinygrad_ko.numerical import numerical_gradient
from tinygrad_ko.tensor import Tensor, no_grad

__all__ = ["TwoLayerNet"]

ACTIVATIONS = {"sigmoid": Sigmoid, "relu": ReLU}  # chapter 4 / chapter 5
PARAMS = ("W1", "b1", "W2", "b2")
EVAL_CHUNK = 10_000  # rows scored at once by accuracy()
MAX_SIZE = 1 << 20  # per layer, for files: a record can never ask for more than this


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


class TwoLayerNet:
    """Affine → activation → Affine → SoftmaxWithLoss (4.5.1 with sigmoid, 5.7.2 with ReLU).

    Weights start as weight_init_std · N(0, 1) and biases at 0. Without `seed` the weights are
    drawn from NumPy's global random state, as the book's are (np.random.seed(0) before it gives
    the book's network); with `seed`, from a generator of their own.
    """

    def __init__(
        self,
        input_size,
        hidden_size,
        output_size,
        weight_init_std=0.01,
        activation="sigmoid",
        dtype=np.float32,
        seed=None,
    ):
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"TwoLayerNet: activation must be one of {list(ACTIVATIONS)}, got {activation!r}"
            )
        self.sizes = (int(input_size), int(hidden_size), int(output_size))
        self.activation, self.dtype = activation, np.dtype(dtype)
        normal = np.random.standard_normal  # np.random.randn, as the book draws
        if seed is not None:
            normal = np.random.default_rng(seed).standard_normal
        shapes = {
            "W1": (input_size, hidden_size),
            "b1": (hidden_size,),
            "W2": (hidden_size, output_size),
            "b2": (output_size,),
        }
        self.params = Params(
            {
                k: (weight_init_std * normal(s)).astype(self.dtype)
                if k.startswith("W")
                else np.zeros(s, self.dtype)
                for k, s in shapes.items()
            }
        )
        self.tensors = {k: Tensor(v, requires_grad=True, name=k) for k, v in self.params.items()}
        self.layers, self.last_layer = self._layers(self.tensors)

    def _layers(self, p):
        """The layers over weights p (tensors for the graph, arrays for the book's way)."""
        hidden = [
            Affine(p["W1"], p["b1"]),
            ACTIVATIONS[self.activation](),
            Affine(p["W2"], p["b2"]),
        ]
        return hidden, SoftmaxWithLoss()

    # --- graph mode ------------------------------------------------------------------------------
    def parameters(self):
        """The weight tensors W1, b1, W2, b2 (they share memory with params)."""
        return iter(self.tensors.values())

    def scores(self, x):
        """The scores before softmax, as a Tensor in the graph."""
        for layer in self.layers:
            x = layer(x)
        return x

    def forward(self, x, t):
        """The mean cross-entropy loss on the batch (x, t), as a Tensor to call backward() on."""
        return self.last_layer(self.scores(x), t)

    # --- the book's interface -----------------------------------------------------------------
    def predict(self, x):
        """Scores before softmax, as an array (chapter 5's predict; chapter 4's applied softmax,
        which changes no argmax)."""
        with no_grad():
            return self.scores(x).data

    def loss(self, x, t):
        with no_grad():
            return float(self.forward(x, t).data)

    def accuracy(self, x, t):
        """Fraction of samples whose top score is the label (t: labels or one-hot rows).

        Scored EVAL_CHUNK rows at a time: the same hits as one predict over the whole set,
        without the 60000-row temporaries that the allocator hands back to the system and
        page-faults in again at every evaluation."""
        x, t = np.asarray(x), np.asarray(t)
        labels = t.argmax(axis=1) if t.ndim == 2 else t
        n = x.shape[0] if x.ndim else 0
        if n == 0 or labels.shape != (n,):
            raise ValueError(
                f"TwoLayerNet.accuracy: x of shape {x.shape} holds {n} samples, t has shape "
                f"{t.shape}; "
                "it needs one label or one-hot row per sample, and at least one sample"
            )
        hits = 0
        for start in range(0, n, EVAL_CHUNK):
            chunk = slice(start, start + EVAL_CHUNK)
            hits += np.count_nonzero(self.predict(x[chunk]).argmax(axis=1) == labels[chunk])
        return hits / n

    def gradient(self, x, t):
        """dL/dparams by backprop, as a dict of arrays (5.7.2)."""
        for p in self.tensors.values():
            p.grad = None
        self.forward(x, t).backward()
        return {k: p.grad for k, p in self.tensors.items()}

    def numerical_gradient(self, x, t, sample=None, seed=None):
        """dL/dparams by central differences (4.4.2), in float64 whatever the network's dtype,
        on copies of the weights, with no graph recorded. sample=k takes only k random
        elements of each parameter (the others are NaN), for a quick per-element check."""
        params, loss = self.float64_loss(x, t)
        return {
            k: numerical_gradient(loss, p, sample=sample, seed=None if seed is None else seed + i)
            for i, (k, p) in enumerate(params.items())
        }

    def float64_loss(self, x, t):
        """Float64 copies of the weights, and the loss on (x, t) as a function of them, the
        book's way through the layers: what numerical_gradient evaluates twice per weight."""
        params = {k: v.astype(np.float64) for k, v in self.params.items()}
        hidden, last = self._layers(params)
        x = np.asarray(x, dtype=np.float64)

        def loss(_=None):
            h = x
            for layer in hidden:
                h = layer.forward(h)
            return last.forward(h, t)

        return params, loss

    # --- files ---------------------------------------------------------------------------------
    def save(self, path):
        """Write W1 b1 W2 b2 and the architecture (JSON in a 0-d string array `meta`) to .npz,
        atomically: an interrupted save leaves no half-written file."""
        meta = {
            "sizes": self.sizes,
            "activation": self.activation,
            "dtype": self.dtype.name,
        }
        with atomic_write(path) as f:
            np.savez(f, meta=np.array(json.dumps(meta)), **self.params)

    @classmethod
    def load(cls, path):
        """Rebuild a network saved with save(). Everything is checked before anything is built,
        and nothing is ever unpickled; a file that does not fit is refused, naming the array."""
        arrays = _read_npz(path)
        meta = _meta(path, arrays.pop("meta"))
        inputs, hidden, outputs = meta["sizes"]
        shapes = {
            "W1": (inputs, hidden),
            "b1": (hidden,),
            "W2": (hidden, outputs),
            "b2": (outputs,),
        }
        for name, array in arrays.items():
            if array.shape != shapes[name] or array.dtype != meta["dtype"]:
                raise ValueError(
                    f"TwoLayerNet.load: array {name} in {path} is {array.dtype} {array.shape}, "
                    f"but the recorded architecture needs {meta['dtype']} {shapes[name]}"
                )
        net = cls(
            *meta["sizes"],
            weight_init_std=0,
            activation=meta["activation"],
            dtype=meta["dtype"],
            seed=0,  # the weights are read next; NumPy's global random state is left alone
        )
        for name, array in arrays.items():
            net.params[name] = array
        return net


def _read_npz(path):
    """The arrays of an .npz file holding exactly meta, W1, b1, W2, b2, read without pickle."""
    try:
        with open(path, "rb") as file:  # ours to close: np.load leaks its own when damaged
            return _npz_arrays(path, file)
    except FileNotFoundError:
        raise
    except OSError as error:  # a folder, no permission
        raise _unreadable(path, error) from None


def _npz_arrays(path, file):
    try:
        archive = np.load(file, allow_pickle=False)
    except Exception as error:  # a damaged archive can fail in many ways inside zipfile
        raise _unreadable(path, error) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"TwoLayerNet.load: {path} holds a single array, not an .npz archive")
    with archive:
        names = sorted(archive.files)
        if names != sorted(("meta", *PARAMS)):
            raise ValueError(
                f"TwoLayerNet.load: {path} holds arrays {names}; expected meta, {', '.join(PARAMS)}"
            )
        arrays = {}
        for name in names:
            try:
                arrays[name] = archive[name]
            except Exception as error:
                raise _unreadable(path, error, name) from None
    return arrays


def _unreadable(path, error, name=None):
    """The error for what np.load cannot read as arrays: pickled data, or a damaged archive."""
    if "pickle" in str(error):  # NumPy's own words when only pickle could read it
        what = (
            f"array {name} in {path} is an object array"
            if name
            else f"{path} is not an .npz archive"
        )
        return ValueError(
            f"TwoLayerNet.load: {what}; data only pickle could read is refused, since unpickling "
            "can run code"
        )
    where = (
        f"array {name} in {path} is damaged" if name else f"{path} is not a complete .npz archive"
    )
    return ValueError(f"TwoLayerNet.load: {where} ({type(error).__name__}: {error})")


def _meta(path, array):
    """The architecture record: JSON with sizes (3 positive integers), activation and dtype."""
    try:
        meta = (
            json.loads(str(array.item())) if array.dtype.kind == "U" and array.shape == () else {}
        )
        sizes = meta["sizes"]
        activation, dtype = meta["activation"], np.dtype(meta["dtype"])
        ok = (
            isinstance(sizes, list)
            and len(sizes) == 3
            and all(type(n) is int and 0 < n <= MAX_SIZE for n in sizes)
            and activation in ACTIVATIONS
            and dtype.kind == "f"
        )
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise ValueError(
            f"TwoLayerNet.load: {path} has no valid architecture record 'meta' (a 0-d string "
            f"holding JSON: sizes, three integers from 1 to {MAX_SIZE}; activation, one of "
            f"{list(ACTIVATIONS)}; a float dtype)"
        )
    return {"sizes": sizes, "activation": activation, "dtype": dtype}
