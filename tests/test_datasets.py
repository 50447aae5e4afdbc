"""The MNIST loader: the book's shapes, verification of every file, downloads that never leave
a broken file behind. Real MNIST comes from $TINYGRAD_KO_DATA; small files are made here."""

import gzip
import http.server
import os
import stat
import threading
import tracemalloc
import zlib

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from mnist_files import expect, idx_bytes, small_mnist, write

from tinygrad_ko import datasets
from tinygrad_ko.datasets import load_mnist, mnist_dir, shuffle_dataset

# --- the real data ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


@pytest.mark.mnist
def test_real_mnist_has_the_books_shapes_and_values(mnist):
    (x_train, t_train), (x_test, t_test) = mnist
    assert x_train.shape == (60000, 784) and x_test.shape == (10000, 784)
    assert x_train.dtype == np.float32 and x_train.min() == 0.0 and x_train.max() == 1.0
    assert t_train.shape == (60000,) and t_train.dtype == np.int64
    assert t_train[:5].tolist() == [5, 0, 4, 1, 9] and t_test[:3].tolist() == [7, 2, 1]
    assert np.bincount(t_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.mark.mnist
def test_real_mnist_options():
    (x, t), (x_test, _) = load_mnist(normalize=False, flatten=False, one_hot_label=True)
    assert x.shape == (60000, 1, 28, 28) and x.dtype == np.uint8 and x.max() == 255
    assert x_test.shape == (10000, 1, 28, 28)
    assert t.shape == (60000, 10) and np.all(t.sum(axis=1) == 1) and t[0].argmax() == 5
    (x64, _), _ = load_mnist(dtype=np.float64)
    assert x64.dtype == np.float64
    np.testing.assert_allclose(x64[0], x[0].reshape(-1) / 255)


# --- where it looks --------------------------------------------------------------------------


def test_it_looks_in_data_dir_then_the_environment_then_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("TINYGRAD_KO_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert mnist_dir(tmp_path / "given") == tmp_path / "given"  # for the files themselves
    assert mnist_dir() == tmp_path / "env" / "mnist"  # for a folder holding mnist/
    monkeypatch.delenv("TINYGRAD_KO_DATA")
    assert mnist_dir() == tmp_path / "cache" / "tinygrad_ko" / "mnist"


@pytest.mark.parametrize("setting", ["data_dir", "TINYGRAD_KO_DATA"])
@pytest.mark.parametrize("layout", ["files", "mnist/files"])
def test_either_setting_finds_either_layout(tmp_path, monkeypatch, setting, layout):
    files, _, labels = small_mnist(np.random.default_rng(1))
    folder = tmp_path / "data"
    holding = folder / "mnist" if layout == "mnist/files" else folder
    write(holding, files, monkeypatch)
    options = {"data_dir": folder} if setting == "data_dir" else {}
    monkeypatch.setenv("TINYGRAD_KO_DATA", str(folder if options == {} else tmp_path / "other"))
    assert mnist_dir(**options) == holding
    (_, t), _ = load_mnist(**options)
    np.testing.assert_array_equal(t, labels["train"])


def test_small_files_load_with_the_right_values(tmp_path, monkeypatch):
    files, images, labels = small_mnist(np.random.default_rng(0))
    write(tmp_path, files, monkeypatch)
    (x, t), (x_test, t_test) = load_mnist(data_dir=tmp_path)
    np.testing.assert_array_equal(x, images["train"].reshape(20, 784).astype(np.float32) / 255)
    np.testing.assert_array_equal(t, labels["train"])
    np.testing.assert_array_equal(t_test, labels["t10k"])
    assert x_test.shape == (10, 784)


# --- bad files: a clear error naming the file ------------------------------------------------


def corrupt(name, how):
    def change(files):
        payload = bytearray(files[name])
        if how == "truncated":
            del payload[-100:]
        elif how == "bit flipped":
            payload[-1] ^= 0x10
        return bytes(payload)

    return change


@pytest.mark.parametrize(
    ("name", "how", "message"),
    [
        ("train-images-idx3-ubyte.gz", "truncated", "SHA-256"),
        ("t10k-labels-idx1-ubyte.gz", "bit flipped", "SHA-256"),
    ],
)
def test_a_damaged_file_is_named(tmp_path, monkeypatch, name, how, message):
    files, _, _ = small_mnist(np.random.default_rng(1))
    write(tmp_path, files, monkeypatch)
    (tmp_path / name).write_bytes(gzip.compress(corrupt(name, how)(files)))
    with pytest.raises(ValueError, match=rf"{tmp_path / name}.*{message}"):
        load_mnist(data_dir=tmp_path)


def test_a_gzip_cut_short_is_named(tmp_path, monkeypatch):
    files, _, _ = small_mnist(np.random.default_rng(2))
    write(tmp_path, files, monkeypatch)
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(ValueError, match=rf"{path} is not a complete gzip file"):
        load_mnist(data_dir=tmp_path)


def header_case(rng, name):
    """Files whose checksums match but whose IDX headers are wrong."""
    files, _, labels = small_mnist(rng)
    if name == "wrong magic":  # a labels file under the images name
        files["train-images-idx3-ubyte.gz"] = files["train-labels-idx1-ubyte.gz"]
        return files, r"train-images-idx3-ubyte.gz has IDX magic number 2049 \(labels\)"
    if name == "wrong count":  # the header promises 21 images, the file holds 20
        payload = bytearray(files["train-images-idx3-ubyte.gz"])
        payload[4:8] = (21).to_bytes(4, "big")
        files["train-images-idx3-ubyte.gz"] = bytes(payload)
        return files, "declares 21 x 28 x 28 = 16464 bytes of data but holds 15680"
    # labels and images that do not belong together
    files["t10k-labels-idx1-ubyte.gz"] = idx_bytes(labels["t10k"][:7], datasets.LABELS_MAGIC)
    return files, "10 t10k images but 7 t10k labels"


@pytest.mark.parametrize("case", ["wrong magic", "wrong count", "counts disagree"])
def test_a_file_with_a_wrong_header_is_named(tmp_path, monkeypatch, case):
    files, message = header_case(np.random.default_rng(3), case)
    write(tmp_path, files, monkeypatch)
    with pytest.raises(ValueError, match=message):
        load_mnist(data_dir=tmp_path)


# --- downloading -----------------------------------------------------------------------------


class Mirror:
    """A local HTTP server holding {name: bytes}; `broken` names get cut short mid-transfer."""

    def __init__(self, files, broken=()):
        self.files, self.broken, self.requests = files, set(broken), []
        mirror = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.rsplit("/", 1)[-1]
                mirror.requests.append(name)
                if name not in mirror.files:
                    self.send_error(404)
                    return
                body = mirror.files[name]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if name in mirror.broken else body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/mnist/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.delenv("TINYGRAD_KO_DATA")
    monkeypatch.delenv("TINYGRAD_KO_OFFLINE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "tinygrad_ko" / "mnist"


@pytest.fixture
def small(monkeypatch):
    files, _, labels = small_mnist(np.random.default_rng(4))
    expect(files, monkeypatch)
    return {name: gzip.compress(payload) for name, payload in files.items()}, labels


@pytest.mark.parametrize("setting", ["data_dir", "TINYGRAD_KO_DATA"])
@pytest.mark.parametrize("beside", [[], ["t10k-labels-idx1-ubyte.gz"]])
def test_downloads_go_into_an_existing_mnist_folder_never_beside_it(
    tmp_path, small, monkeypatch, setting, beside
):
    gz, labels = small
    folder = tmp_path / "data"
    (folder / "mnist").mkdir(parents=True)
    for name in beside:  # a stray file beside mnist/ does not make the folder the place
        (folder / name).write_bytes(gz[name])
    monkeypatch.delenv("TINYGRAD_KO_OFFLINE")
    monkeypatch.setenv("TINYGRAD_KO_DATA", str(folder))
    mirror = Mirror(gz)
    monkeypatch.setattr(datasets, "MIRRORS", [mirror.url])
    try:
        (_, t), _ = load_mnist(**({"data_dir": folder} if setting == "data_dir" else {}))
    finally:
        mirror.close()
    np.testing.assert_array_equal(t, labels["train"])
    assert sorted(p.name for p in folder.iterdir()) == sorted(["mnist", *beside])
    assert sorted(p.name for p in (folder / "mnist").iterdir()) == sorted(gz)


def test_a_folder_holding_some_of_the_files_is_completed_where_it_is(tmp_path, small, monkeypatch):
    gz, _ = small
    name = "train-labels-idx1-ubyte.gz"
    (tmp_path / name).write_bytes(gz[name])
    assert mnist_dir(tmp_path) == tmp_path
    monkeypatch.setenv("TINYGRAD_KO_DATA", str(tmp_path))
    assert mnist_dir() == tmp_path


def test_missing_files_are_downloaded_verified_and_kept_in_the_cache(cache, small, monkeypatch):
    gz, labels = small
    empty, full = Mirror({}), Mirror(gz)
    monkeypatch.setattr(datasets, "MIRRORS", [empty.url, full.url])  # the first has nothing
    try:
        (_, t), _ = load_mnist()
        np.testing.assert_array_equal(t, labels["train"])
        assert sorted(p.name for p in cache.iterdir()) == sorted(gz)  # and no .part files
        requests = len(full.requests)
        load_mnist()  # the second time, from the cache
        assert len(full.requests) == requests == 4
    finally:
        empty.close()
        full.close()


@pytest.mark.parametrize("broken", ["cut short", "corrupted"])
def test_a_bad_download_caches_nothing_and_keeps_earlier_files(cache, small, monkeypatch, broken):
    gz, _ = small
    served = dict(gz)
    name = "t10k-images-idx3-ubyte.gz"
    if broken == "corrupted":
        served[name] = gzip.compress(b"\0" * 100)
    mirror = Mirror(served, broken=[name] if broken == "cut short" else [])
    monkeypatch.setattr(datasets, "MIRRORS", [mirror.url])
    cache.mkdir(parents=True)
    good = cache / "train-images-idx3-ubyte.gz"
    good.write_bytes(gz[good.name])
    try:
        with pytest.raises(FileNotFoundError, match=rf"downloading {name} failed"):
            load_mnist()
    finally:
        mirror.close()
    left = sorted(p.name for p in cache.iterdir())
    assert name not in left and not any(n.endswith(".part") for n in left)
    assert good.read_bytes() == gz[good.name]  # the earlier good file is untouched


def test_offline_it_fails_at_once_saying_where_it_looked_and_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv("TINYGRAD_KO_OFFLINE")  # the mirrors are a closed port (conftest)
    folder = tmp_path / "nowhere" / "mnist"
    with pytest.raises(FileNotFoundError) as failure:
        load_mnist(data_dir=folder)
    message = str(failure.value)
    assert f"{folder} (data_dir) did not hold train-images" in message
    assert "data_dir=FOLDER" in message and "TINYGRAD_KO_DATA" in message
    assert "127.0.0.1:9" in message  # each mirror tried, with its error
    assert not (tmp_path / "nowhere").exists()  # the folders made for the download are gone


# --- hostile files ---------------------------------------------------------------------------


def inflating_gzip(megabytes):
    """A small gzip file that inflates to `megabytes` MB of zeros."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    return b"".join(squeeze.compress(block) for _ in range(megabytes)) + squeeze.flush()


def test_a_file_that_inflates_far_beyond_mnist_is_stopped_early(tmp_path, monkeypatch):
    files, _, _ = small_mnist(np.random.default_rng(5))
    write(tmp_path, files, monkeypatch)
    bomb = tmp_path / "train-images-idx3-ubyte.gz"
    bomb.write_bytes(inflating_gzip(64))  # 64 KB on disk, 64 MB inflated
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=rf"{bomb} holds more than the 15696 bytes"):
            load_mnist(data_dir=tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20  # never more than a few buffers, not 64 MB


def test_a_mirror_sending_far_too_much_is_cut_off(cache, small, monkeypatch, capsys):
    gz, _ = small
    served = dict(gz)
    served["train-labels-idx1-ubyte.gz"] = bytes(3 << 20)  # 3 MB for a 28-byte file
    mirror = Mirror(served)
    monkeypatch.setattr(datasets, "MIRRORS", [mirror.url])
    try:
        with pytest.raises(
            FileNotFoundError, match=r"the file it sent is over \d+ bytes, too large"
        ):
            load_mnist()
    finally:
        mirror.close()
    assert "train-labels-idx1-ubyte.gz" not in [p.name for p in cache.iterdir()]


def test_downloads_show_progress_and_are_readable_by_others(cache, small, monkeypatch, capsys):
    gz, _ = small
    mirror = Mirror(gz)
    monkeypatch.setattr(datasets, "MIRRORS", [mirror.url])
    old = os.umask(0o022)
    try:
        load_mnist()
    finally:
        os.umask(old)
        mirror.close()
    err = capsys.readouterr().err
    assert all(f"{name}: 100% (" in err for name in gz)  # plain lines: not a terminal
    assert {stat.S_IMODE(p.stat().st_mode) for p in cache.iterdir()} == {0o644}


def test_offline_mode_never_tries_to_download(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYGRAD_KO_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="downloads are switched off"):
        load_mnist(data_dir=tmp_path / "none")


@pytest.mark.mnist
def test_raw_images_are_writable_like_the_books():
    (x, _), _ = load_mnist(normalize=False)
    x[0, 0] = 7
    x //= 2
    assert x[0, 0] == 3


@st.composite
def damage(draw, data):
    """A damaged copy of data: cut short, bytes flipped or inserted, or a different magic."""
    kind = draw(st.sampled_from(["truncate", "flip", "insert", "magic"]))
    data = bytearray(data)
    if kind == "truncate":
        del data[draw(st.integers(0, len(data) - 1)) :]
    elif kind == "flip":
        for _ in range(draw(st.integers(1, 4))):
            data[draw(st.integers(0, len(data) - 1))] ^= draw(st.integers(1, 255))
    elif kind == "insert":
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.binary(min_size=1, max_size=8))
    else:
        data[:4] = draw(st.sampled_from([2049, 2051, 0, 123456])).to_bytes(4, "big")
    return bytes(data)


@settings(max_examples=200)
@given(data=st.data(), target=st.sampled_from(sorted(datasets.FILES.values())), gz=st.booleans())
def test_a_damaged_file_is_refused_naming_it_or_loads_unchanged(tmp_path_factory, data, target, gz):
    folder = tmp_path_factory.mktemp("mnist")
    files, images, labels = small_mnist(np.random.default_rng(6))
    with pytest.MonkeyPatch.context() as mp:
        write(folder, files, mp)
        path = folder / target
        original = path.read_bytes() if gz else files[target]
        damaged = data.draw(damage(original))
        assume(damaged != original)
        path.write_bytes(damaged if gz else gzip.compress(damaged))
        try:
            (x, t), (x_test, t_test) = load_mnist(data_dir=folder, normalize=False)
        except ValueError as error:
            assert str(error).startswith(f"load_mnist: {path}") or f"{folder}" in str(error)
        else:  # a gzip header field that changes no content (a flag, the time): same data
            np.testing.assert_array_equal(x.reshape(images["train"].shape), images["train"])
            np.testing.assert_array_equal(x_test.reshape(images["t10k"].shape), images["t10k"])
            np.testing.assert_array_equal(t, labels["train"])
            np.testing.assert_array_equal(t_test, labels["t10k"])


def test_shuffle_dataset_keeps_pairs_and_draws_as_the_books():
    x, t = np.arange(20).reshape(10, 2), np.arange(10) * 2
    np.random.seed(5)
    xs, ts = shuffle_dataset(x, t)
    np.testing.assert_array_equal(xs[:, 0], ts)  # each sample keeps its label
    np.random.seed(5)
    np.testing.assert_array_equal(ts, t[np.random.permutation(10)])  # the book's draw
    with pytest.raises(ValueError, match=r"shuffle_dataset: x of shape \(10, 2\) and t of"):
        shuffle_dataset(x, t[:9])
