"""ProjectSession: a window's project apart from its graph (file, unsaved flags, recent files, autosave and
recovery), without Qt (issue 15)."""
import os

import pytest

from visualkeras_app.document.project import ProjectError
from visualkeras_app.document.templates import load_template
from visualkeras_app.session import ProjectSession, is_project_file


class Settings:
    """What the session needs of QSettings: value() and setValue()."""

    def __init__(self):
        self.data = {}

    def value(self, key, default=None):
        return self.data.get(key, default)

    def setValue(self, key, value):
        self.data[key] = value


@pytest.fixture
def session(tmp_path, monkeypatch):
    monkeypatch.setenv("VISUALKERAS_RECOVERY_DIR", str(tmp_path / "recovery"))
    s = ProjectSession(Settings(), max_recent=3)
    yield s
    s.close()


def test_the_session_needs_no_qt():
    import ast
    import visualkeras_app.session as module

    tree = ast.parse(open(module.__file__, encoding="utf-8").read())
    names = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    names += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [n for n in names if n.startswith("PySide6")]


def test_recent_files_newest_first_without_repeats_and_capped(session, tmp_path):
    for name in ("a", "b", "a", "c", "d"):
        session.add_recent(str(tmp_path / name / "m.vkproj"))
    assert [os.path.basename(os.path.dirname(p)) for p in session.recent_files()] == ["d", "c", "a"]
    assert session.last_dir == str(tmp_path / "d")
    session.remove_recent(session.recent_files()[0])
    assert len(session.recent_files()) == 2
    session.settings.setValue("recent_files", "one.vkproj")  # QSettings gives a bare string for one item
    assert session.recent_files() == ["one.vkproj"]
    session.clear_recent()
    assert session.recent_files() == []


def test_unsaved_flags_and_the_shown_name(session):
    changes = []
    session.changed.connect(lambda: changes.append(1))
    assert session.name == "Untitled" and not session.is_dirty(undo_clean=True)
    assert session.is_dirty(undo_clean=False)
    session.mark_unsaved()
    assert session.is_dirty(True) and changes
    session.document_set("/p/x.vkproj", recovered=True)
    assert session.name == "x.vkproj" and session.recovered_unsaved and not session.trained_unsaved
    session.document_set(None, "model.h5 (imported)")
    assert session.name == "model.h5 (imported)" and not session.is_dirty(True)


def test_save_writes_the_project_clears_the_flags_and_remembers_the_file(session, tmp_path):
    doc = load_template("seed_mlp")
    session.mark_unsaved()
    path = session.save(doc, tmp_path / "m.vkproj")
    assert os.path.exists(path) and is_project_file(path) and session.path == path
    assert not session.is_dirty(True) and session.recent_files() == [path]
    (tmp_path / "taken.vkproj").mkdir()  # a folder where the file should go: the save fails
    with pytest.raises(ProjectError, match="is a folder"):
        session.save(doc, tmp_path / "taken.vkproj")
    assert session.path == path and session.recent_files() == [path]  # a failed save changes nothing


def test_a_crashed_session_s_autosave_is_found_adopted_or_declined(tmp_path, monkeypatch):
    monkeypatch.setenv("VISUALKERAS_RECOVERY_DIR", str(tmp_path / "recovery"))
    crashed = ProjectSession(Settings())
    crashed.autosave(load_template("seed_mlp"))
    assert os.path.exists(crashed.recovery_path)
    crashed.release_recovery()  # the process dies: the file stays, the lock goes
    fresh = ProjectSession(Settings())
    found = fresh.find_recovery()
    assert found is not None and len(found.doc.nodes) == len(load_template("seed_mlp").nodes) and found.more == 0
    assert fresh.recovered_path(found) is None
    fresh.adopt(found, autosaved=False)  # takes the orphan's slot as it is
    assert fresh.recovery_path == found.slot.path
    fresh.close()
    assert ProjectSession(Settings()).find_recovery() is None  # closed cleanly: nothing left to offer
