"""Crash recovery with several windows (issue 18): each window autosaves into its own locked slot; a
window starting up offers back only work whose window is gone, never deletes a living window's
autosave, and clears what killed saves left behind."""
import os
import subprocess
import sys
import time

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QMessageBox  # noqa: E402

from tests.visualkeras_app.test_mainwindow import dialogs, make_window  # noqa: E402,F401
from visualkeras_app.document import project  # noqa: E402
from visualkeras_app.document.graph import Document  # noqa: E402
from visualkeras_app.document.recovery import RecoverySlot, clean_stale_temporaries, orphaned_slots  # noqa: E402
from visualkeras_app.document.templates import load_template  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _die(window):
    """What a crash does to a window's autosave: the file stays, the OS lets go of the lock."""
    window.session.release_recovery()


def _offers(dialogs):
    return [c for c in dialogs.of("question") if c[1] == "Recover unsaved work"]


@pytest.mark.slow  # several windows (about a second)
def test_a_starting_window_leaves_living_windows_autosaves_alone(make_window, dialogs):
    a, b = make_window(), make_window()
    a.controller.add_layer("Dense")
    b.controller.add_layer("Conv2D")
    assert a.autosave() and b.autosave() and a.recovery_path != b.recovery_path
    make_window(offer_recovery=True)
    assert _offers(dialogs) == []
    assert os.path.exists(a.recovery_path) and os.path.exists(b.recovery_path)


@pytest.mark.slow  # several windows (about a second)
def test_the_work_of_the_window_that_crashed_is_offered_whichever_it_was(make_window, dialogs):
    a, b = make_window(), make_window()
    a.controller.add_layer("Dense")
    b.controller.add_layer("Conv2D")
    b.controller.add_layer("Flatten")
    a.autosave(), b.autosave()
    b_path = b.recovery_path
    _die(b)  # the second window crashes, the first lives on
    dialogs.answers["Recover unsaved work"] = QMessageBox.Yes
    c = make_window(offer_recovery=True)
    (offer,) = _offers(dialogs)
    assert "2 layers" in offer[2]
    assert sorted(n.class_name for n in c.controller.document.nodes.values()) == ["Conv2D", "Flatten"]
    assert not os.path.exists(b_path) and os.path.exists(c.recovery_path)  # moved into c's own slot
    assert os.path.exists(a.recovery_path)


@pytest.mark.slow  # several windows (about a second)
def test_two_crashed_windows_are_offered_one_per_starting_window_newest_first(make_window, dialogs):
    old, new = make_window(), make_window()
    old.controller.add_layer("Dense")
    old.autosave()
    os.utime(old.recovery_path, (time.time() - 60, time.time() - 60))
    for _ in range(3):
        new.controller.add_layer("Dense")
    new.autosave()
    _die(old), _die(new)
    dialogs.answers["Recover unsaved work"] = QMessageBox.Yes
    first = make_window(offer_recovery=True)
    assert len(first.controller.document.nodes) == 3 and "1 more" in _offers(dialogs)[0][2]
    second = make_window(offer_recovery=True)
    assert len(second.controller.document.nodes) == 1 and len(_offers(dialogs)) == 2
    third = make_window(offer_recovery=True)
    assert len(third.controller.document.nodes) == 0 and len(_offers(dialogs)) == 2


@pytest.mark.slow  # a window; the main window's crash recovery and the leftovers test stay in the fast loop
def test_the_single_recovery_file_of_earlier_versions_is_still_offered(make_window, dialogs):
    project.write_recovery(load_template("seed_mlp"))  # recovery.vkproj, no lock file
    dialogs.answers["Recover unsaved work"] = QMessageBox.Yes
    w = make_window(offer_recovery=True)
    assert len(_offers(dialogs)) == 1 and len(w.controller.document.nodes) == len(load_template("seed_mlp").nodes)
    assert not os.path.exists(project.recovery_path())


def test_leftovers_of_killed_saves_are_removed_at_start_and_fresh_ones_kept(make_window, dialogs, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    proj = work / "p.vkproj"
    project.save_project(load_template("mnist_fast_cnn"), proj)
    os.makedirs(project.recovery_dir(), exist_ok=True)
    hour_ago = time.time() - 3600
    stale = [work / ".p.vkproj.k1x2y3.tmp", work / "p.weights.0badf00d.h5",
             os.path.join(project.recovery_dir(), ".recovery-1-abcdef.vkproj.zz9.tmp")]
    fresh = work / ".p.vkproj.new123.tmp"  # a save running now in another window
    for path in stale + [fresh]:
        with open(path, "wb") as f:
            f.write(b"x" * 10)
    for path in stale:
        os.utime(path, (hour_ago, hour_ago))
    unrelated = work / "notes.tmp"
    unrelated.write_text("mine")
    os.utime(unrelated, (hour_ago, hour_ago))
    w = make_window(offer_recovery=False)
    w.add_recent(str(proj))
    w.check_recovery()  # what start-up runs
    assert not any(os.path.exists(p) for p in stale)
    assert fresh.exists() and unrelated.exists()
    assert project.load_project(proj) == load_template("mnist_fast_cnn")  # the project and its weights stay


def test_a_slot_is_locked_while_its_window_lives(tmp_path, monkeypatch):
    monkeypatch.setenv("VISUALKERAS_RECOVERY_DIR", str(tmp_path))
    slot = RecoverySlot.claim()
    slot.write(Document())
    assert RecoverySlot.claim(slot.name) is None and orphaned_slots() == []
    slot.release()
    (orphan,) = orphaned_slots()
    assert orphan.name == slot.name and orphan.read()[0] == Document()
    orphan.close()
    assert os.listdir(tmp_path) == []
    assert clean_stale_temporaries() == []


KILLED = """
import os, sys, time
from visualkeras_app.document.recovery import RecoverySlot
from visualkeras_app.document.templates import load_template
slot = RecoverySlot.claim()
slot.write(load_template("seed_mlp"))
print(slot.name, flush=True)
time.sleep(60)
"""


@pytest.mark.slow
def test_a_window_killed_with_sigkill_leaves_an_orphan_that_is_offered(tmp_path, monkeypatch):
    monkeypatch.setenv("VISUALKERAS_RECOVERY_DIR", str(tmp_path))
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-c", KILLED], env=env, stdout=subprocess.PIPE, text=True)
    name = proc.stdout.readline().strip()
    assert name.startswith("recovery-") and orphaned_slots() == []  # alive: not offered
    proc.kill()
    proc.wait()
    (orphan,) = orphaned_slots()
    assert orphan.name == name and len(orphan.read()[0].nodes) == len(load_template("seed_mlp").nodes)
