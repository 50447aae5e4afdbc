"""The same network, schedule and batches in JAX, written as a JAX user writes it: the whole
training step (forward, loss, gradient, SGD update) in one jax.jit, the data on the device and
each batch picked by its indices inside the step; for benchmarks/train_speed.py. Optional: JAX
is not a dependency of tinygrad_ko. The first call compiles; its time counts, as it does for a
user."""

import time

import jax
import jax.numpy as jnp
import numpy as np
from fused import init


def loss(p, x, t):
    """The mean cross-entropy of the ReLU network 784-50-10 on labels t."""
    h = jax.nn.relu(x @ p["W1"] + p["b1"])
    s = h @ p["W2"] + p["b2"]
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(s), t[:, None], axis=1))


@jax.jit
def step(p, x_train, t_train, batch, lr):
    """One SGD step on the batch of x_train at indices `batch`: (new parameters, its loss)."""
    value, grads = jax.value_and_grad(loss)(p, x_train[batch], t_train[batch])
    return jax.tree_util.tree_map(lambda w, g: w - lr * g, p, grads), value


@jax.jit
def correct(p, x, t):
    h = jax.nn.relu(x @ p["W1"] + p["b1"])
    return jnp.sum(jnp.argmax(h @ p["W2"] + p["b2"], axis=1) == t)


def train(train_set, test_set, iters=10000, batch_size=100, lr=0.1, seed=0):
    """(losses, test accuracy after the last iteration, seconds spent evaluating)."""
    (x_train, t_train), (x_test, t_test) = train_set, test_set
    n, epoch = len(x_train), len(x_train) // batch_size
    data = [jnp.asarray(a) for a in (x_train, t_train, x_test, t_test)]
    x_train, t_train, x_test, t_test = data
    p = {k: jnp.asarray(v) for k, v in init(seed).items()}  # TwoLayerNet(seed=seed)'s weights
    rng, losses, eval_seconds, test_acc = np.random.default_rng(seed), [], 0.0, None
    for i in range(iters):
        p, value = step(p, x_train, t_train, rng.integers(0, n, batch_size), lr)
        losses.append(float(value))
        if i % epoch == 0 or i == iters - 1:
            start = time.perf_counter()
            int(correct(p, x_train, t_train))
            test_acc = int(correct(p, x_test, t_test)) / len(x_test)
            eval_seconds += time.perf_counter() - start
    return losses, test_acc, eval_seconds
