"""Book 2's language model and attention seq2seq written in Tensor ops (tinygrad_ko.rnn): from
the same seed they have the book models' weights, and autograd's BPTT gives the gradients the
book's hand-written Time layers give, over consecutive calls of a stateful model."""

import numpy as np
import pytest

from tinygrad_ko.book2 import remove_duplicate
from tinygrad_ko.book2.ch06 import Rnnlm
from tinygrad_ko.book2.ch08 import AttentionSeq2seq as BookAttentionSeq2seq
from tinygrad_ko.rnn import AttentionSeq2seq, LSTMLanguageModel
from tinygrad_ko.viz import to_dot


def graph_gradients(model, *batch):
    for p in model.parameters():
        p.grad = None
    loss = model(*batch)
    loss.backward()
    return float(loss.data), [p.grad for p in model.parameters()]


def book_gradients(model, *batch):
    loss = model.forward(*batch)
    model.backward()
    _, grads = remove_duplicate(model.params, model.grads)
    return float(loss), [g.copy() for g in grads]


def assert_same_numbers(ours, book):
    (loss, grads), (book_loss, book_grads) = ours, book
    assert loss == pytest.approx(book_loss, rel=1e-5)
    assert len(grads) == len(book_grads)
    for g, expected in zip(grads, book_grads):
        scale = np.abs(expected).max()
        np.testing.assert_allclose(g, expected, rtol=1e-3, atol=1e-5 * max(scale, 1e-3))
        assert scale > 0


def test_the_lstm_language_model_in_tensor_ops_matches_the_books_time_layers():
    rng = np.random.default_rng(0)
    np.random.seed(3)
    book = Rnnlm(vocab_size=12, wordvec_size=5, hidden_size=4)
    np.random.seed(3)
    ours = LSTMLanguageModel(vocab_size=12, wordvec_size=5, hidden_size=4)
    for p, q in zip(ours.parameters(), book.params):
        np.testing.assert_array_equal(p.data, q)
    for _ in range(3):  # the state goes on from call to call in both
        xs, ts = rng.integers(0, 12, (3, 6)), rng.integers(0, 12, (3, 6))
        assert_same_numbers(graph_gradients(ours, xs, ts), book_gradients(book, xs, ts))
    np.testing.assert_allclose(ours.h, book.lstm_layer.h, rtol=1e-5, atol=1e-6)


def test_the_attention_seq2seq_in_tensor_ops_matches_the_books_layers():
    rng = np.random.default_rng(1)
    np.random.seed(4)
    book = BookAttentionSeq2seq(vocab_size=9, wordvec_size=3, hidden_size=5)
    np.random.seed(4)
    ours = AttentionSeq2seq(vocab_size=9, wordvec_size=3, hidden_size=5)
    xs, ts = rng.integers(0, 9, (4, 7)), rng.integers(0, 9, (4, 5))
    assert_same_numbers(graph_gradients(ours, xs, ts), book_gradients(book, xs, ts))


def test_the_graph_of_an_unrolled_lstm_shows_the_chain_of_states():
    np.random.seed(0)
    model = LSTMLanguageModel(vocab_size=6, wordvec_size=3, hidden_size=2)
    dot = to_dot(model(np.array([[1, 2, 3]]), np.array([[2, 3, 4]]), names=True))
    for name in ("h1", "c1", "h2", "c2", "h3", "embed_W", "Wx", "Wh", "affine_W"):
        assert f'label="{name}\\n' in dot, name
    assert dot.count('label="Sigmoid"') == 9 and dot.count('label="tanh"') == 6


def test_a_stateful_time_layer_called_on_tensors_carries_its_state_as_its_forward_does():
    from tinygrad_ko import Tensor
    from tinygrad_ko.recurrent import TimeLSTM

    rng = np.random.default_rng(2)
    weights = [rng.standard_normal(shape) for shape in ((2, 8), (2, 8), (8,))]
    graph, book_way = TimeLSTM(*weights, stateful=True), TimeLSTM(*weights, stateful=True)
    for _ in range(2):
        xs = rng.standard_normal((3, 4, 2))
        out = graph(Tensor(xs, requires_grad=True))
        out.sum().backward()
        expected = book_way.forward(xs)
        book_way.backward(np.ones_like(expected))
        np.testing.assert_array_equal(out.data, expected)
        np.testing.assert_array_equal(graph.h, book_way.h)
        np.testing.assert_array_equal(graph.dh, book_way.dh)
    with pytest.raises(TypeError, match=r"TimeLSTM: the state h must be an array"):
        graph.set_state(Tensor(np.zeros((3, 2))))
