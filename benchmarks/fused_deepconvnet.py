"""The floor for chapter 8: the book's DeepConvNet (three blocks of conv 3x3 - relu - conv 3x3 -
relu - pool 2x2, then affine 50 - relu - dropout - affine 10 - dropout) trained with Adam as
one hand-fused NumPy step: float32, label indices, every feature map kept a channel at a time
in memory ((C, N, H, W): the products are filters × windows), the windows copied as nine
shifted slices of a padded buffer, the ReLUs in place, the images' gradient of each convolution
taken as a convolution of the gradient with the flipped filters (no col2im), no gradient for
the input images, no graph, no checks; written out here, apart from the library's layers, as
the chapter-7 floor is. tinygrad_ko's DeepConvNet is measured against it in the
same run (benchmarks/convnet_speed.py); `python benchmarks/fused_deepconvnet.py` prints where
its step spends its time, layer by layer."""

import time
from collections import defaultdict

import numpy as np
from fused import softmax_cross_entropy
from fused_convnet import accuracy, adam, adam_state

from tinygrad_ko.engine.memory import heap_only
from tinygrad_ko.networks.convnets import DEEP, DeepConvNet

CONVS = [(c["filter_num"], c["pad"]) for c in DEEP]  # all 3x3 with stride 1
SPENT = defaultdict(float)  # seconds per part of the step, when timing


def timed(part):
    """Adds the time since the last call to SPENT[part] (a cheap stopwatch for main())."""
    now = time.perf_counter()
    SPENT[part] += now - timed.last
    timed.last = now


timed.last = 0.0


def init(seed=0):
    """The same starting weights as DeepConvNet(seed=seed), and its random generator, in the
    state its Dropout layers start from (so the floor drops the same units)."""
    net = DeepConvNet(seed=seed)
    return {k: v.copy() for k, v in net.params.items()}, net.rng


def windows(x, pad):
    """im2col, transposed: (C·9, N·OH·OW) from images (C, N, H, W), 3x3 windows, stride 1,
    written as nine shifted slices of the padded images."""
    c, n, h, w = x.shape
    if pad:
        padded = np.zeros((c, n, h + 2 * pad, w + 2 * pad), x.dtype)
        padded[:, :, pad : h + pad, pad : w + pad] = x
    else:
        padded = x
    oh, ow = h + 2 * pad - 2, w + 2 * pad - 2
    col = np.empty((c, 3, 3, n, oh, ow), x.dtype)
    for i in range(3):
        for j in range(3):
            col[:, i, j] = padded[:, :, i : i + oh, j : j + ow]
    return col.reshape(c * 9, n * oh * ow)


def pool(maps):
    """2x2 max pooling of (C, N, H, W) over four strided views; which corner held each."""
    corners = [maps[:, :, i::2, j::2] for i in (0, 1) for j in (0, 1)]
    pooled = corners[0].copy()
    arg = np.zeros(pooled.shape, np.int8)
    for k, corner in enumerate(corners[1:], 1):  # the first maximum wins ties, as argmax
        np.maximum(arg, (corner > pooled) * np.int8(k), out=arg)
        np.maximum(pooled, corner, out=pooled)
    return pooled, arg


def unpool(dpooled, arg):
    """The gradient of pool: each window's gradient to the corner that held its maximum."""
    c, n, h, w = dpooled.shape
    dmaps = np.empty((c, n, 2 * h, 2 * w), dpooled.dtype)
    for k, (i, j) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        np.multiply(dpooled, arg == k, out=dmaps[:, :, i::2, j::2])
    return dmaps


def forward(p, x, rng=None, time_it=False):
    """The scores (dropped out when rng is given, as in training), and what backward needs."""
    clock = timed if time_it else lambda part: None
    maps, saved = x.transpose(1, 0, 2, 3), []
    for i, (filters, pad) in enumerate(CONVS, 1):
        n, h, w = maps.shape[1:]
        col = windows(maps, pad)
        clock(f"conv{i} windows")
        out = p[f"W{i}"].reshape(filters, -1) @ col
        clock(f"conv{i} product")
        out += p[f"b{i}"][:, None]
        np.maximum(out, 0, out=out)
        clock(f"conv{i} bias, relu")
        maps = out.reshape(filters, n, h + 2 * pad - 2, w + 2 * pad - 2)
        saved.append((col, maps, pad, None))
        if i % 2 == 0:
            maps, arg = pool(maps)
            saved[-1] = (col, saved[-1][1], pad, arg)
            clock(f"pool{i // 2}")
    n = len(x)
    flat = maps.transpose(1, 0, 2, 3).reshape(n, -1)  # W7 reads (channel, row, column)
    h = flat @ p["W7"]
    h += p["b7"]
    np.maximum(h, 0, out=h)
    masks = None
    if rng is not None:  # the book's Dropout: keep where a uniform draw exceeds the ratio
        masks = rng.random(h.shape) > 0.5, rng.random((n, 10)) > 0.5
        h *= masks[0]
    scores = h @ p["W8"]
    scores += p["b8"]
    if masks is not None:  # (at test the book scales by 1 - ratio, which argmax ignores)
        scores *= masks[1]
    clock("affine, relu, dropout")
    return scores, (saved, flat, h, masks)


def gradient(p, x, t, rng, time_it=False):
    """(loss, {name: gradient}) of the mean cross-entropy, forward and backward fused."""
    clock = timed if time_it else lambda part: None
    if time_it:
        timed.last = time.perf_counter()
    s, (saved, flat, h, masks) = forward(p, x, rng, time_it)
    loss, s = softmax_cross_entropy(s, t)
    s *= masks[1]
    grads = {"W8": h.T @ s, "b8": s.sum(axis=0)}
    dh = s @ p["W8"].T
    dh *= masks[0]
    dh *= h > 0
    grads["W7"], grads["b7"] = flat.T @ dh, dh.sum(axis=0)
    dmaps = (dh @ p["W7"].T).reshape(len(x), 64, 4, 4).transpose(1, 0, 2, 3)
    clock("affine, relu, dropout")
    for i in range(6, 0, -1):
        col, maps, pad, arg = saved[i - 1]
        if arg is not None:
            dmaps = unpool(dmaps, arg)
            clock(f"pool{i // 2}")
        filters, n, oh, ow = maps.shape
        dout = dmaps.reshape(filters, -1)
        if not dout.flags.c_contiguous:
            dout = np.ascontiguousarray(dout)
        dout *= maps.reshape(filters, -1) > 0
        grads[f"b{i}"] = dout.sum(axis=1)
        clock(f"conv{i} bias, relu")
        W = p[f"W{i}"]
        grads[f"W{i}"] = (dout @ col.T).reshape(W.shape)
        clock(f"conv{i} product")
        if i > 1:  # dx: the gradient convolved with the flipped filters, channels swapped
            flipped = W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3).reshape(W.shape[1], -1)
            dcol = windows(dout.reshape(filters, n, oh, ow), 2 - pad)
            clock(f"conv{i} windows")
            dmaps = (flipped @ dcol).reshape(W.shape[1], n, oh + 2 - 2 * pad, ow + 2 - 2 * pad)
            clock(f"conv{i} product")
    return loss, grads


def stepper(seed=0):
    """The training step from DeepConvNet(seed=seed)'s weights: step(x, t) -> loss; and the
    accuracy(x, t) of the weights it trains."""
    p, rng = init(seed)
    state = adam_state(p)

    def step(x, t):
        loss, grads = gradient(p, x, t, rng)
        adam(p, grads, state)
        return float(loss)

    return step, lambda x, t: accuracy(p, x, t, scores=lambda p, images: forward(p, images)[0])


def main(steps=30):
    """Where the step spends its time, part by part (one process, this machine's settings)."""
    from tinygrad_ko.bench import machine
    from tinygrad_ko.data.datasets import load_mnist

    (x, t), _ = load_mnist(flatten=False)
    p, rng = init()
    state = adam_state(p)
    batches = np.random.default_rng(0).integers(0, len(x), (steps + 5, 100))
    with heap_only():  # malloc as fit sets it
        for k, b in enumerate(batches):
            if k == 5:
                SPENT.clear()
                start = time.perf_counter()
            grads = gradient(p, x[b], t[b], rng, time_it=True)[1]
            adam(p, grads, state)
            timed("adam")
    total = (time.perf_counter() - start) / steps * 1e3
    print(f"machine: {machine()}\nfloor step {total:.1f} ms; by part (ms a step):")
    for part, seconds in sorted(SPENT.items(), key=lambda kv: -kv[1]):
        print(f"  {part:24s} {seconds / steps * 1e3:6.2f}")


if __name__ == "__main__":
    main()
