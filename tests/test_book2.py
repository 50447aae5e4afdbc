"""tinygrad_ko.book2 against book 2's own code (../shared/book2), imported from where it is: its
layers, optimizers, remove_duplicate and util functions give the book's numbers to the last
bit on hypothesis-drawn inputs; BaseModel reads the book's pickles safely; check_gradients
checks book-2 style layers and models, a learner's own among them."""

import pickle
import sys

import numpy as np
import pytest
from book import BOOK2
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_ko import book2, check_gradients
from tinygrad_ko.book2 import ch08 as book2_ch08
from tinygrad_ko.book2.ch01 import TwoLayerNet
from tinygrad_ko.book2.ch03 import SimpleCBOW, SimpleSkipGram
from tinygrad_ko.book2.ch04 import CBOW, SkipGram
from tinygrad_ko.book2.ch06 import BetterRnnlm

pytestmark = pytest.mark.book2


@pytest.fixture(scope="module")
def the_book():
    """The book's common/ and ch04's negative sampling layer, imported from ../shared/book2
    (book 1's common/, which other tests import under the same name, set aside meanwhile)."""

    def ours(name):
        return name.split(".")[0] in ("common", "dataset", "ch04")

    aside = {name: sys.modules.pop(name) for name in [n for n in sys.modules if ours(n)]}
    sys.path.insert(0, str(BOOK2))
    try:
        from ch04 import negative_sampling_layer
        from common import layers, optimizer, time_layers, trainer, util

        yield {"layers": layers, "optimizer": optimizer, "trainer": trainer, "util": util,
               "negative_sampling_layer": negative_sampling_layer,
               "time_layers": time_layers}  # fmt: skip
    finally:
        sys.path.remove(str(BOOK2))
        for name in [n for n in sys.modules if ours(n)]:
            del sys.modules[name]
        sys.modules.update(aside)


def f32(shape):
    return hnp.arrays(np.float32, shape, elements=st.floats(-3, 3, width=32))


def same(ours, theirs):
    """Equal to the last bit, of the same dtype (NaN equal to NaN)."""
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


@st.composite
def layer_case(draw):
    """(layer name, constructor arguments, forward arguments)."""
    n, d, m = draw(st.integers(1, 5)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    kind = draw(st.sampled_from(["MatMul", "Affine", "Embedding", "EmbeddingDot", "Sigmoid",
                                 "SigmoidWithLoss", "SoftmaxWithLoss", "Softmax"]))  # fmt: skip
    W = draw(f32((d, m)))
    ids = np.array(draw(st.lists(st.integers(0, d - 1), min_size=n, max_size=n)))  # repeats
    if kind == "MatMul":
        return kind, (W,), (draw(f32((n, d))),)
    if kind == "Affine":
        return kind, (W, draw(f32(m))), (draw(f32((n, d))),)
    if kind == "Embedding":
        return kind, (W,), (ids,)
    if kind == "EmbeddingDot":
        return kind, (W,), (draw(f32((n, m))), ids)
    if kind == "SigmoidWithLoss":
        return kind, (), (draw(f32(n)), draw(hnp.arrays(np.int32, n, elements=st.integers(0, 1))))
    if kind == "SoftmaxWithLoss":  # two classes at least: the book's takes one for one-hot
        m = max(m, 2)
        labels = np.array(draw(st.lists(st.integers(0, m - 1), min_size=n, max_size=n)))
        one_hot = draw(st.booleans())
        return (
            kind,
            (),
            (draw(f32((n, m))), np.eye(m, dtype=np.int32)[labels] if one_hot else labels),
        )
    return kind, (), (draw(f32((n, m))),)


@given(case=layer_case(), data=st.data())
def test_every_layer_gives_the_books_forward_backward_and_grads_to_the_last_bit(
    the_book, case, data
):
    kind, weights, inputs = case
    module = the_book["negative_sampling_layer" if kind == "EmbeddingDot" else "layers"]
    ours = getattr(book2, kind)(*[w.copy() for w in weights])
    theirs = getattr(module, kind)(*[w.copy() for w in weights])
    out = ours.forward(*inputs)
    same(out, theirs.forward(*inputs))
    dout = data.draw(f32(np.shape(out))) if np.ndim(out) else 1
    same(ours.backward(dout), theirs.backward(dout))
    assert len(ours.params) == len(theirs.params) and len(ours.grads) == len(theirs.grads)
    for mine, book in zip(ours.grads, theirs.grads):
        same(mine, book)
    for p, w in zip(ours.params, weights):  # the layer computes with the very arrays in params
        assert p is getattr(ours, "W", p) or p.shape == w.shape


def test_negative_sampling_draws_and_scores_as_the_book(the_book):
    rng = np.random.default_rng(0)
    corpus, W = rng.integers(0, 30, 500), rng.standard_normal((30, 8)).astype("f")
    h, target = rng.standard_normal((7, 8)).astype("f"), rng.integers(0, 30, 7)
    book = the_book["negative_sampling_layer"]
    np.random.seed(1)
    ours = book2.NegativeSamplingLoss(W.copy(), corpus)
    np.random.seed(1)
    theirs = book.NegativeSamplingLoss(W.copy(), corpus)
    for _ in range(3):  # the same draws from the same global random state
        state = np.random.get_state()
        loss = ours.forward(h, target)
        np.random.set_state(state)
        same(loss, theirs.forward(h, target))
        same(ours.backward(), theirs.backward())
        assert all(np.array_equal(a, b) for a, b in zip(ours.grads, theirs.grads))
    assert len(ours.params) == 6 and all(p is ours.params[0] for p in ours.params)


@pytest.mark.parametrize("name", ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"])
@given(data=st.data())
@settings(max_examples=10)
def test_the_optimizers_update_lists_in_place_as_the_books(the_book, name, data):
    shapes = data.draw(st.lists(hnp.array_shapes(max_dims=2, max_side=4), min_size=1, max_size=3))
    ours_p = [data.draw(f32(s)) for s in shapes]
    theirs_p = [p.copy() for p in ours_p]
    arrays = list(ours_p)
    ours, theirs = getattr(book2, name)(), getattr(the_book["optimizer"], name)()
    for _ in range(4):
        grads = [data.draw(f32(s)) for s in shapes]
        ours.update(ours_p, grads)
        theirs.update(theirs_p, [g.copy() for g in grads])
    for a, p, q in zip(arrays, ours_p, theirs_p):
        assert a is p  # in place
        same(p, q)


def test_remove_duplicate_sums_shared_and_tied_weights_as_the_book(the_book):
    rng = np.random.default_rng(2)
    A, C = rng.standard_normal((3, 4)), rng.standard_normal(3)
    tied = A.T.copy()  # the same values, transposed: weight tying (6.4.2)
    params = [A, C, A, tied, C, A]
    grads = [rng.standard_normal(np.shape(p)) for p in params]
    copies = [g.copy() for g in grads]
    ours = book2.remove_duplicate(params, grads)
    theirs = the_book["trainer"].remove_duplicate(params, copies)
    assert [id(p) for p in ours[0]] == [id(p) for p in theirs[0]] == [id(A), id(C)]
    for mine, book in zip(ours[1], theirs[1]):
        same(mine, book)


WORDS = ["you", "say", "goodbye", "and", "i", "hello", ".", "the", "cat", "sat"]
TEXT = st.lists(st.sampled_from(WORDS), min_size=3, max_size=40).map(" ".join)


@given(text=TEXT, window=st.integers(1, 3))
@settings(max_examples=30)
def test_the_util_functions_give_the_books_numbers(the_book, text, window):
    util = the_book["util"]
    corpus, word_to_id, id_to_word = book2.preprocess(text)
    expected = util.preprocess(text)
    same(corpus, expected[0])
    assert (word_to_id, id_to_word) == expected[1:]
    vocab = len(word_to_id)
    C = book2.create_co_matrix(corpus, vocab, window)
    same(C, util.create_co_matrix(corpus, vocab, window))
    same(book2.ppmi(C), util.ppmi(C))
    if len(corpus) > 2 * window:
        for mine, book in zip(book2.create_contexts_target(corpus, window),
                              util.create_contexts_target(corpus, window)):  # fmt: skip
            same(mine, book)
        contexts = book2.create_contexts_target(corpus, window)[0]
        same(book2.convert_one_hot(contexts, vocab), util.convert_one_hot(contexts, vocab))
    same(book2.convert_one_hot(corpus, vocab), util.convert_one_hot(corpus, vocab))
    same(book2.cos_similarity(C[0], C[-1]), util.cos_similarity(C[0], C[-1]))
    grads = [C[:2].astype(np.float64), np.ones(3)]
    copies = [g.copy() for g in grads]
    book2.clip_grads(grads, 1.5)
    util.clip_grads(copies, 1.5)
    for mine, book in zip(grads, copies):
        same(mine, book)


def test_ppmi_prints_the_books_progress(the_book, capsys):
    C = book2.create_co_matrix(np.arange(12) % 7, 7)
    book2.ppmi(C, verbose=True)
    ours = capsys.readouterr().out
    the_book["util"].ppmi(C, verbose=True)
    assert ours == capsys.readouterr().out and ours.count("완료") > 10


def test_most_similar_and_analogy_print_what_the_books_print(the_book, capsys):
    rng = np.random.default_rng(3)
    words = [
        "king",
        "man",
        "queen",
        "woman",
        "car",
        "cars",
        "child",
        "children",
        "good",
        "better",
        "bad",
        "worse",
    ]
    word_to_id = {w: i for i, w in enumerate(words)}
    id_to_word = dict(enumerate(words))
    vectors = rng.standard_normal((len(words), 5)).astype(np.float16)
    for module in (book2, the_book["util"]):
        module.most_similar("car", word_to_id, id_to_word, vectors, top=4)
        module.most_similar("toyota", word_to_id, id_to_word, vectors)
        module.analogy(
            "king", "man", "queen", word_to_id, id_to_word, vectors.copy(), answer="woman"
        )
    printed = capsys.readouterr().out
    half = len(printed) // 2
    assert printed[:half] == printed[half:] and "[query] car" in printed


def test_the_chapter_models_are_checked_against_numerical_gradients():
    corpus = np.array([0, 1, 2, 3, 4, 1, 5, 2, 6, 0, 3])
    np.random.seed(0)
    one_hot = np.eye(7, dtype=np.int32)
    cases = [
        (TwoLayerNet(2, 5, 3), np.random.randn(4, 2), one_hot[[0, 1, 2, 0], :3]),
        (SimpleCBOW(7, 3), one_hot[np.array([[0, 2], [1, 3]])], one_hot[[1, 2]]),
        (SimpleSkipGram(7, 3), one_hot[np.array([[0, 2], [1, 3]])], one_hot[[1, 2]]),
        (CBOW(7, 4, 2, corpus), np.array([[0, 1, 3, 4], [2, 3, 5, 6]]), np.array([2, 4])),
        (SkipGram(7, 4, 1, corpus), np.array([[0, 1], [2, 3]]), np.array([2, 4])),
        (
            BetterRnnlm(6, 3, 3, 0.2),
            np.array([[0, 1, 5], [2, 3, 4]]),
            np.array([[1, 5, 2], [3, 4, 0]]),
        ),
    ]  # BetterRnnlm: its output layer's W is the embedding's, transposed (tied)
    for model, x, t in cases:
        report = check_gradients(model, x, t)
        assert report.passed, (type(model).__name__, str(report))
        weights = [k for k in report if k != "x"]  # x: TwoLayerNet's backward returns dx
        distinct = {id(p if p.base is None else p.base) for p in model.params}  # W.T is W
        assert len(weights) == len(distinct)  # each shared or tied weight once


class LearnersAffine:
    """A learner's own book-2 style layer; `bug` plants a mistake in its backward."""

    def __init__(self, W, b, bug=None):
        self.params, self.grads, self.bug = [W, b], [np.zeros_like(W), np.zeros_like(b)], bug

    def forward(self, x):
        W, b = self.params
        self.x = x
        return x @ W + b

    def backward(self, dout):
        W, _ = self.params
        dW = (dout.T @ self.x).T if self.bug != "dW" else (self.x.T @ dout)[::-1]
        self.grads[0][...] = dW
        self.grads[1][...] = dout.sum(axis=0) if self.bug != "db" else 0
        return dout @ W.T if self.bug != "dx" else dout @ W.T * 2


@pytest.mark.parametrize("bug", [None, "dW", "db", "dx"])
def test_check_gradients_finds_the_mistake_in_a_learners_own_layer(bug):
    rng = np.random.default_rng(4)
    W, b = rng.standard_normal((4, 3)), rng.standard_normal(3)
    report = check_gradients(LearnersAffine(W, b, bug), rng.standard_normal((5, 4)))
    failed = {"dW": "params[0]", "db": "params[1]", "dx": "x"}
    assert [k for k, d in report.items() if not d.passed] == ([failed[bug]] if bug else [])
    assert list(report) == ["params[0]", "params[1]", "x"]
    fast = check_gradients(LearnersAffine(W, b, bug), rng.standard_normal((5, 4)), fast=True)
    assert fast.passed == (bug is None)


def test_base_model_writes_the_books_pickle_and_reads_it_back_safely(tmp_path):
    np.random.seed(0)
    model = SimpleCBOW(7, 3)
    model.__class__ = type("Saved", (book2.BaseModel, SimpleCBOW), {})
    model.save_params(tmp_path / "m.pkl")
    with open(tmp_path / "m.pkl", "rb") as f:  # what the book's load_params reads: float16s
        saved = pickle.load(f)
    assert [a.dtype for a in saved] == [np.float16] * 3
    before = [p.copy() for p in model.params]
    for p in model.params:
        p[...] = 0
    model.load_params(tmp_path / "m.pkl")
    for p, b in zip(model.params, before):
        same(p, b.astype(np.float16).astype("f"))
    other = type("Other", (book2.BaseModel,), {})()
    other.params = [np.zeros((3, 7), "f")]
    with pytest.raises(ValueError, match=r"holds 3 arrays, but the model has 1 parameters"):
        other.load_params(tmp_path / "m.pkl")
    other.params = [np.zeros((2, 2), "f"), np.zeros(3, "f"), np.zeros(1, "f")]
    with pytest.raises(ValueError, match=r"array 0 has shape \(7, 3\), but parameter 0"):
        other.load_params(tmp_path / "m.pkl")


def test_a_malicious_pickle_is_refused_before_it_runs(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("ran",))

    (tmp_path / "evil.pkl").write_bytes(pickle.dumps([Evil()]))
    model = type("M", (book2.BaseModel,), {})()
    model.params = [np.zeros(1, "f")]
    with pytest.raises(pickle.UnpicklingError):
        model.load_params(tmp_path / "evil.pkl")


def test_the_shipped_cbow_params_load_through_the_safe_loader():
    from tinygrad_ko.files import load_pickled_weights

    params = load_pickled_weights(BOOK2 / "ch04" / "cbow_params.pkl")
    assert params["word_vecs"].shape == (10000, 100) and params["word_vecs"].dtype == np.float16
    assert len(params["word_to_id"]) == len(params["id_to_word"]) == 10000


def test_config_gpu_says_in_one_line_that_it_goes_on_on_the_cpu(capsys):
    from tinygrad_ko.book2 import config

    try:
        config.GPU = True
        config.GPU = True
        assert capsys.readouterr().out.count("CPU에서 계속합니다") == 1
        x = np.ones(3)
        assert book2.to_gpu(x) is x and book2.to_cpu(x) is x
    finally:
        config.GPU = False


class Reader:
    """A stand-in language model: its loss and its guesses are plain functions of the input."""

    def forward(self, xs, ts, train_flg=True):
        return float(np.mean(np.sin(xs * 0.3 + ts)) ** 2 + 1)

    def generate(self, question, start_id, length):
        return [(int(start_id) + int(q)) % 5 for q in question.flatten()[:length]]


def test_eval_perplexity_and_eval_seq2seq_give_and_print_the_books(the_book, capsys):
    util, corpus = the_book["util"], np.random.default_rng(5).integers(0, 50, 800)
    ours = book2.eval_perplexity(Reader(), corpus, batch_size=4, time_size=7)
    printed = capsys.readouterr().out
    assert ours == util.eval_perplexity(Reader(), corpus, batch_size=4, time_size=7)
    assert printed == capsys.readouterr().out and "27 / 28" in printed
    id_to_char = dict(enumerate("0123456789+_ "))
    for question in (np.array([[1, 2, 3]]), np.array([[4, 0, 1]])):
        correct = np.array([[11, (1 + question[0, 0]) % 5, 3]])
        for reverse in (False, True):
            mine = book2.eval_seq2seq(Reader(), question, correct, id_to_char, True, reverse)
            shown = capsys.readouterr().out
            theirs = util.eval_seq2seq(Reader(), question, correct, id_to_char, True, reverse)
            assert mine == theirs and shown == capsys.readouterr().out


@st.composite
def time_case(draw):
    """(layer name, constructor arguments, input): the book's Time layers at small sizes."""
    n, t, d, h = (draw(st.integers(1, 4)) for _ in range(4))
    kind = draw(st.sampled_from(["TimeRNN", "TimeLSTM", "TimeAffine", "TimeEmbedding"]))
    gates = {"TimeRNN": 1, "TimeLSTM": 4}.get(kind)
    if gates:
        weights = (draw(f32((d, gates * h))), draw(f32((h, gates * h))), draw(f32(gates * h)))
        return kind, weights, draw(f32((n, t, d)))
    if kind == "TimeAffine":
        return kind, (draw(f32((d, h))), draw(f32(h))), draw(f32((n, t, d)))
    ids = draw(hnp.arrays(np.int64, (n, t), elements=st.integers(0, d - 1)))  # repeats
    return kind, (draw(f32((d, h))),), ids


@given(case=time_case(), stateful=st.booleans(), data=st.data())
@settings(max_examples=40)
def test_the_time_layers_give_the_books_numbers_over_calls(the_book, case, stateful, data):
    kind, weights, xs = case
    options = {"stateful": stateful} if kind in ("TimeRNN", "TimeLSTM") else {}
    ours = getattr(book2, kind)(*[w.copy() for w in weights], **options)
    theirs = getattr(the_book["time_layers"], kind)(*[w.copy() for w in weights], **options)
    for _ in range(2):  # a stateful layer carries its state into the second call
        out = ours.forward(xs)
        same(out, theirs.forward(xs))
        dout = data.draw(f32(out.shape))
        mine, book = ours.backward(dout), theirs.backward(dout)
        if book is not None:
            same(mine, book)
        for g1, g2 in zip(ours.grads, theirs.grads):
            same(g1, g2)


def test_time_softmax_with_loss_and_dropout_give_the_books_numbers(the_book):
    rng = np.random.default_rng(7)
    xs = rng.standard_normal((3, 4, 5)).astype("f")
    ts = rng.integers(-1, 5, (3, 4))
    ts[0, 0] = 1
    book = the_book["time_layers"]
    ours, theirs = book2.TimeSoftmaxWithLoss(), book.TimeSoftmaxWithLoss()
    same(ours.forward(xs, ts), theirs.forward(xs, ts))
    same(ours.backward(), theirs.backward())
    np.random.seed(2)
    drop = book2.TimeDropout(0.3)
    out = drop.forward(xs)
    np.random.seed(2)
    theirs = book.TimeDropout(0.3)
    same(out, theirs.forward(xs))
    same(drop.backward(xs), theirs.backward(xs))


def test_a_stateful_layer_says_when_the_batch_size_changes():
    lstm = book2.TimeLSTM(np.ones((2, 8), "f"), np.ones((2, 8), "f"), np.zeros(8, "f"), True)
    lstm.forward(np.ones((3, 4, 2), "f"))
    with pytest.raises(
        ValueError,
        match=r"TimeLSTM: its state h has shape \(3, 2\), but this "
        r"batch of 5 sequences needs \(5, 2\)",
    ):
        lstm.forward(np.ones((5, 4, 2), "f"))
    lstm.reset_state()
    assert lstm.forward(np.ones((5, 4, 2), "f")).shape == (5, 4, 2)


def test_rnnlm_trainer_reads_the_books_batches(the_book):
    corpus = np.arange(103) * 7 % 50
    ours, theirs = book2.RnnlmTrainer(None, None), the_book["trainer"].RnnlmTrainer(None, None)
    ours.time_idx = theirs.time_idx = 0
    for _ in range(4):
        for mine, book in zip(ours.get_batch(corpus[:-1], corpus[1:], 4, 5),
                              theirs.get_batch(corpus[:-1], corpus[1:], 4, 5)):  # fmt: skip
            same(mine, book)
    assert ours.time_idx == theirs.time_idx == 20


def test_check_gradients_checks_sequence_layers_and_models_stateful_ones_too():
    rng = np.random.default_rng(8)
    D, H = 3, 4
    weights = [rng.standard_normal(s).astype("f") for s in ((D, 4 * H), (H, 4 * H), (4 * H,))]
    for stateful in (False, True):
        lstm = book2.TimeLSTM(*weights, stateful=stateful)
        lstm.forward(rng.standard_normal((2, 3, D)).astype("f"))  # a state to carry, if stateful
        report = check_gradients(lstm, rng.standard_normal((2, 3, D)).astype("f"))
        assert report.passed and list(report) == ["params[0]", "params[1]", "params[2]", "x"]
    np.random.seed(1)
    model = book2_ch08.AttentionSeq2seq(vocab_size=7, wordvec_size=3, hidden_size=4)
    xs, ts = rng.integers(0, 7, (2, 5)), rng.integers(0, 7, (2, 4))
    assert check_gradients(model, xs, ts, sample=3).passed


def test_the_other_time_layers_give_the_books_numbers(the_book):
    """RNN, LSTM and GRU one step at a time, TimeGRU (the book's keeps dWx and dWh, ours also
    grads), TimeBiLSTM, TimeSigmoidWithLoss and Simple_TimeSoftmaxWithLoss."""
    book, rng = the_book["time_layers"], np.random.default_rng(9)
    N, T, D, H = 3, 4, 2, 5

    def f(*shape):
        return rng.standard_normal(shape).astype("f")

    x, h, c, d = f(N, D), f(N, H), f(N, H), f(N, H)
    for kind, weights, args in [("RNN", (f(D, H), f(H, H), f(H)), (x, h)),
                                ("LSTM", (f(D, 4 * H), f(H, 4 * H), f(4 * H)), (x, h, c)),
                                ("GRU", (f(D, 3 * H), f(H, 3 * H)), (x, h))]:  # fmt: skip
        ours, theirs = getattr(book2, kind)(*weights), getattr(book, kind)(*weights_copy(weights))
        out, expected = ours.forward(*args), theirs.forward(*args)
        for mine, book_out in zip(*((out, expected) if kind == "LSTM" else ([out], [expected]))):
            same(mine, book_out)
        douts = (d, d) if kind == "LSTM" else (d,)
        for mine, expected in zip(ours.backward(*douts), theirs.backward(*douts)):
            same(mine, expected)
        expected_grads = theirs.grads if kind != "GRU" else [theirs.dWx, theirs.dWh]
        for mine, expected in zip(ours.grads, expected_grads):
            same(mine, expected)
    weights = (f(D, 3 * H), f(H, 3 * H))
    ours, theirs = book2.TimeGRU(*weights, stateful=True), book.TimeGRU(*weights, stateful=True)
    xs = f(N, T, D)
    for _ in range(2):
        same(ours.forward(xs), theirs.forward(xs))
        dhs = f(N, T, H)
        same(ours.backward(dhs), theirs.backward(dhs))
        same(ours.grads[0], theirs.dWx)
        same(ours.grads[1], theirs.dWh)
    weights = [f(D, 4 * H), f(H, 4 * H), f(4 * H), f(D, 4 * H), f(H, 4 * H), f(4 * H)]
    ours, theirs = book2.TimeBiLSTM(*weights_copy(weights)), book.TimeBiLSTM(*weights_copy(weights))
    same(ours.forward(xs), theirs.forward(xs))
    dhs = f(N, T, 2 * H)
    same(ours.backward(dhs), theirs.backward(dhs))
    for mine, expected in zip(ours.grads, theirs.grads):
        same(mine, expected)
    scores, labels = f(N, T), rng.integers(0, 2, (N, T)).astype(np.int32)
    ours, theirs = book2.TimeSigmoidWithLoss(), book.TimeSigmoidWithLoss()
    same(ours.forward(scores, labels), theirs.forward(scores, labels))
    same(ours.backward(), theirs.backward())
    xs, ts = f(N, T, 6), rng.integers(0, 6, (N, T))
    ours, theirs = book2.Simple_TimeSoftmaxWithLoss(), book.Simple_TimeSoftmaxWithLoss()
    same(ours.forward(xs, ts), theirs.forward(xs, ts))
    same(ours.backward(), theirs.backward())


def weights_copy(weights):
    return [w.copy() for w in weights]


def test_simple_time_affine_works_where_the_books_fails():
    rng = np.random.default_rng(10)
    W, b = rng.standard_normal((3, 4)).astype("f"), rng.standard_normal(4).astype("f")
    simple, fused = book2.Simple_TimeAffine(W, b), book2.TimeAffine(W, b)
    xs, dout = (
        rng.standard_normal((2, 5, 3)).astype("f"),
        rng.standard_normal((2, 5, 4)).astype("f"),
    )
    np.testing.assert_allclose(simple.forward(xs), fused.forward(xs), rtol=1e-6)
    np.testing.assert_allclose(simple.backward(dout), fused.backward(dout), rtol=1e-5, atol=1e-6)
    for mine, expected in zip(simple.grads, fused.grads):
        np.testing.assert_allclose(mine, expected, rtol=1e-5, atol=1e-5)


class LearnersRNNCell:
    """A learner's RNN cell, forward(x, h_prev) -> h_next; `bug` breaks dh_prev only."""

    def __init__(self, Wx, Wh, bug=False):
        self.params, self.grads, self.bug = [Wx, Wh], [np.zeros_like(Wx), np.zeros_like(Wh)], bug

    def forward(self, x, h_prev):
        self.x, self.h_prev = x, h_prev
        self.h = np.tanh(x @ self.params[0] + h_prev @ self.params[1])
        return self.h

    def backward(self, dh):
        dt = dh * (1 - self.h**2)
        self.grads[0][...], self.grads[1][...] = self.x.T @ dt, self.h_prev.T @ dt
        dh_prev = dt @ self.params[1].T
        return dt @ self.params[0].T, dh_prev * 2 if self.bug else dh_prev


@pytest.mark.parametrize("bug", [False, True])
def test_check_gradients_checks_the_gradient_of_every_input(bug):
    rng = np.random.default_rng(11)
    cell = LearnersRNNCell(rng.standard_normal((3, 4)), rng.standard_normal((4, 4)), bug)
    report = check_gradients(cell, rng.standard_normal((2, 3)), rng.standard_normal((2, 4)))
    assert list(report) == ["params[0]", "params[1]", "x", "t"]
    assert [k for k, d in report.items() if not d.passed] == (["t"] if bug else [])


def test_time_embedding_adds_negative_ids_into_their_rows_as_the_book(the_book):
    rng = np.random.default_rng(12)
    W = rng.standard_normal((50, 3)).astype("f")
    ids, dout = np.array([[1, -1, 49, 2]]), rng.standard_normal((1, 4, 3)).astype("f")
    ours, theirs = book2.TimeEmbedding(W.copy()), the_book["time_layers"].TimeEmbedding(W.copy())
    same(ours.forward(ids), theirs.forward(ids))
    ours.backward(dout)
    theirs.backward(dout)
    same(ours.grads[0], theirs.grads[0])
