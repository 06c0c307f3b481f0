"""The shared atomic writer (engine.utils.file_utils): unique exclusive temporaries, cleanup on every
failure, permissions kept, symlinked targets kept, read-only and non-regular targets refused."""
import os
import stat
import subprocess
import sys

import pytest

from engine.utils.file_utils import atomic_write, atomic_write_text


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def leftovers(folder):
    return sorted(p for p in os.listdir(folder) if p.endswith(".tmp"))


def test_writes_and_replaces(tmp_path):
    path = tmp_path / "a.txt"
    atomic_write_text(path, "one")
    atomic_write_text(path, "two")
    assert path.read_text() == "two" and leftovers(tmp_path) == []


def test_a_planted_tmp_symlink_is_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    os.symlink(victim, tmp_path / "out.json.tmp")
    atomic_write_text(tmp_path / "out.json", "{}")
    assert victim.read_text() == "precious" and (tmp_path / "out.json").read_text() == "{}"


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, error):
    path = tmp_path / "a.txt"
    path.write_text("old")

    def write(tmp):
        with open(tmp, "w") as f:
            f.write("half")
        raise error

    with pytest.raises(type(error)):
        atomic_write(path, write)
    assert path.read_text() == "old" and leftovers(tmp_path) == [] and sorted(os.listdir(tmp_path)) == ["a.txt"]


def test_new_files_get_the_umask_permissions_and_existing_ones_keep_theirs(tmp_path, umask_022):
    new = tmp_path / "new.txt"
    atomic_write_text(new, "x")
    assert stat.S_IMODE(os.stat(new).st_mode) == 0o644  # mkstemp alone gives 0600
    kept = tmp_path / "kept.txt"
    kept.write_text("x")
    os.chmod(kept, 0o640)
    atomic_write_text(kept, "y")
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o640 and kept.read_text() == "y"


def test_a_symlinked_target_stays_a_symlink(tmp_path):
    real = tmp_path / "data" / "real.txt"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "link.txt"
    os.symlink(real, link)
    atomic_write_text(link, "new")
    assert os.path.islink(link) and real.read_text() == "new" and link.read_text() == "new"
    assert leftovers(tmp_path) == [] and leftovers(real.parent) == []


def test_a_read_only_target_is_refused_with_a_message(tmp_path):
    path = tmp_path / "ro.txt"
    path.write_text("keep")
    os.chmod(path, 0o444)
    with pytest.raises(PermissionError, match="ro.txt is read-only"):
        atomic_write_text(path, "new")
    assert path.read_text() == "keep" and leftovers(tmp_path) == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_fifo_or_a_folder_target_is_refused(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        atomic_write_text(fifo, "x")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(OSError, match="is a folder"):
        atomic_write_text(tmp_path / "dir.json", "x")


@pytest.mark.slow
def test_the_engine_writer_imports_neither_qt_nor_the_app():
    code = ("import sys, engine.utils.file_utils, engine.saving\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'visualkeras_app')]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
