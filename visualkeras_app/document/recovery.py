"""Crash recovery for several windows at once: each window autosaves into a slot of its own, locked
while the window lives; at start a window offers back a slot whose owner is gone (crashed, killed),
whichever window that was, and clears temporaries that killed saves left behind.

A slot is ``recovery-<pid>-<random>.vkproj`` (plus its weights file) in the recovery folder, with a
``.lock`` file the owning process holds an OS lock on (``fcntl.flock``; ``msvcrt.locking`` on Windows).
The OS drops the lock when the process dies, so "is the owner alive?" never depends on a PID that may
have been reused. The single ``recovery.vkproj`` of earlier versions is offered back like any orphan.

Qt-free: the main window calls ``RecoverySlot`` / ``orphaned_slots`` / ``clean_stale_temporaries``.
"""
from __future__ import annotations

import os
import re
import secrets
import time

from visualkeras_app.document import project

__all__ = ["RecoverySlot", "orphaned_slots", "clean_stale_temporaries"]

_SLOT = re.compile(r"(recovery(?:-\d+-[0-9a-f]{6})?)\.vkproj\Z")


def _lock(fd) -> bool:
    """Take an exclusive lock on the open file ``fd`` without waiting; False when someone holds it."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


class RecoverySlot:
    """One window's autosave file. ``claim()`` makes a new locked slot; ``write``/``read``/``clear`` as in
    ``visualkeras_app.document.project``; ``release()`` lets go of the lock (what dying does)."""

    def __init__(self, name, fd):
        self.name = name
        self._fd = fd

    @classmethod
    def claim(cls, name=None):
        """A new slot of this process (or ``name``, an orphan to adopt); None when it is locked by a
        living window (or the folder cannot be written: autosave then reports it)."""
        folder = project.recovery_dir()
        os.makedirs(folder, exist_ok=True)
        name = name or f"recovery-{os.getpid()}-{secrets.token_hex(3)}"
        fd = os.open(os.path.join(folder, name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        if not _lock(fd):
            os.close(fd)
            return None
        return cls(name, fd)

    @property
    def path(self) -> str:
        return project.recovery_path(self.name)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def write(self, doc, source_path=None):
        return project.write_recovery(doc, source_path, slot=self.name)

    def read(self):
        return project.read_recovery(slot=self.name)

    def clear(self):
        project.clear_recovery(slot=self.name)

    def release(self, remove=False):
        """Let go of the lock (``remove``: the slot is finished, its lock file goes too)."""
        if self._fd is None:
            return
        if remove:
            try:
                os.remove(os.path.join(project.recovery_dir(), self.name + ".lock"))
            except OSError:
                pass
        os.close(self._fd)
        self._fd = None

    def close(self):
        """The window closed cleanly: the autosave and the lock go."""
        try:
            self.clear()
        finally:
            self.release(remove=True)


def orphaned_slots():
    """The slots left by windows that are gone, newest first, each claimed (locked) by this process so
    that two windows starting at once never offer the same one. Lock files without a slot are removed."""
    folder = project.recovery_dir()
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    found = []
    for n in names:
        m = _SLOT.match(n)
        if not m:
            continue
        slot = RecoverySlot.claim(m.group(1))
        if slot is None:
            continue  # its window is alive
        try:
            mtime = os.lstat(os.path.join(folder, n)).st_mtime
        except OSError:
            slot.release(remove=True)
            continue
        found.append((mtime, slot))
    for n in names:  # locks of slots that were cleared but whose owner died before removing the lock
        if n.endswith(".lock") and n[:-5] + project.EXTENSION not in names:
            stale = RecoverySlot.claim(n[:-5])
            if stale is not None:
                stale.release(remove=True)
    return [slot for _, slot in sorted(found, key=lambda f: f[0], reverse=True)]


def clean_stale_temporaries(project_paths=(), older_than=None):
    """Remove what killed saves left: temporaries (``.<name>.<random>.tmp``) in the recovery folder and
    beside the given projects, and weights files of those projects that no project file names, all
    older than ``older_than`` seconds (a save running now in another window keeps its files).
    Returns the paths removed."""
    older_than = project.STALE_TEMP_S if older_than is None else older_than
    removed = []
    now = time.time()
    temp = re.compile(r"\..+\.\w+\.tmp\Z")

    def old(path):
        try:
            return now - os.lstat(path).st_mtime > older_than
        except OSError:
            return False

    folder = project.recovery_dir()
    try:
        listing = os.listdir(folder)
    except OSError:
        listing = []
    for n in listing:
        p = os.path.join(folder, n)
        if temp.match(n) and old(p):
            removed.append(p)
    for path in project_paths:
        path = os.path.abspath(os.fspath(path))
        if not os.path.isfile(path) or not path.lower().endswith(project.EXTENSION):
            continue  # Keras files and .json projects are left alone: only names this app makes are touched
        removed += [p for p in project.leftovers_of(path) if old(p)]
    for p in removed:
        try:
            os.remove(p)
        except OSError:
            pass
    return removed
