"""atomic_write: a file appears whole under its name, or not at all."""

import os
import pickle
import stat

import numpy as np
import pytest

from tinygrad_ko.files import atomic_write, load_pickled_weights


def test_the_file_appears_when_writing_succeeds(tmp_path):
    with atomic_write(tmp_path / "out.txt", "w") as f:
        f.write("done")
        assert not (tmp_path / "out.txt").exists()  # not yet under its name
    assert (tmp_path / "out.txt").read_text() == "done"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_write(path, "w") as f:
        f.write("half")
        raise KeyboardInterrupt
    assert path.read_text() == "old" and list(tmp_path.iterdir()) == [path]


def test_a_failed_check_keeps_the_file_out(tmp_path):
    def check(temporary):
        assert temporary.read_bytes() == b"data" and temporary.name.endswith(".part")
        raise ValueError("corrupt")

    with pytest.raises(ValueError, match="corrupt"), atomic_write(tmp_path / "f", check=check) as f:
        f.write(b"data")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_named_not_the_temporary_file(tmp_path):
    with (
        pytest.raises(
            FileNotFoundError, match=rf"cannot write {tmp_path}/no/f: there is no folder"
        ),
        atomic_write(tmp_path / "no" / "f"),
    ):
        pass


def test_the_file_gets_the_permissions_open_would_give(tmp_path):
    old = os.umask(0o027)
    try:
        with atomic_write(tmp_path / "f") as f:
            f.write(b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f").stat().st_mode) == 0o640


# --- pickled weights, read without running code -----------------------------------------------


def weights():
    rng = np.random.default_rng(0)
    return {
        "W1": rng.standard_normal((4, 3)),
        "b1": np.zeros(3, np.float32),
        "layers": [np.arange(3), (np.ones(2),)],
        "name": "sample",
        "count": 3,
        "scale": np.float64(0.5),
    }


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_the_books_kind_of_pickle_loads_with_every_protocol(tmp_path, protocol):
    path = tmp_path / "sample_weight.pkl"
    path.write_bytes(pickle.dumps(weights(), protocol=protocol))
    loaded = load_pickled_weights(path)
    np.testing.assert_array_equal(loaded["W1"], weights()["W1"])
    assert loaded["b1"].dtype == np.float32 and loaded["name"] == "sample"
    np.testing.assert_array_equal(loaded["layers"][1][0], np.ones(2))


class RunsCode:
    """An object that, unpickled by pickle.load, runs a command: the attack."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class Evaluates:
    def __reduce__(self):
        return (eval, ("__import__('os').getpid()",))


@pytest.mark.parametrize("attack", ["system", "eval", "numpy.load"])
def test_a_pickle_that_would_run_code_is_refused_without_running(tmp_path, attack):
    marker = tmp_path / "ran"
    payload = {"system": RunsCode(marker), "eval": Evaluates(), "numpy.load": np.load}[attack]
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"W1": np.ones(2), "x": payload}))
    with pytest.raises(pickle.UnpicklingError, match=r"evil.pkl: it names .*which could run code"):
        load_pickled_weights(path)
    assert not marker.exists()
    if attack == "system":  # the plain loader does run it: the attack is real
        pickle.loads(path.read_bytes())
        assert marker.exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.array([1, "a"], dtype=object), "an array of dtype object"),
        ({1, 2}, "holds a set"),
    ],
)
def test_anything_but_numeric_arrays_numbers_and_strings_is_refused(tmp_path, value, message):
    path = tmp_path / "odd.pkl"
    path.write_bytes(pickle.dumps({"x": value}))
    with pytest.raises(pickle.UnpicklingError, match=message):
        load_pickled_weights(path)


def test_a_truncated_pickle_is_refused(tmp_path):
    path = tmp_path / "cut.pkl"
    path.write_bytes(pickle.dumps(weights())[:50])
    with pytest.raises(
        pickle.UnpicklingError, match=r"cut\.pkl(: pickle data was truncated| is not)"
    ):
        load_pickled_weights(path)
