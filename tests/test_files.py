"""atomic_write: a file appears whole under its name, or not at all."""

import os
import stat

import pytest

from tinygrad_ko.files import atomic_write


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
