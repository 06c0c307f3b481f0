"""``ProjectSession``: a window's project apart from its graph, without Qt.

It knows the file Save writes (``path``; None for an untitled or imported model) and the name shown for an
untitled one, what makes the project unsaved besides the undo stack (a restored recovery, trained weights
written into the nodes), the recent files, and this window's autosave slot with crash recovery. The window
asks it and shows the dialogs, the title and the messages; ``changed`` tells it the title may read
otherwise.

``settings`` is anything with ``value(key, default)`` and ``setValue(key, value)``: the window's
``QSettings``, or a dict-backed object in tests and scripts.
"""
from __future__ import annotations

import os

import json
import re

from visualkeras_app.document.signals import Signal

MAX_RECENT = 10
PROJECT_SUFFIX = ".vkproj"


def is_project_file(path) -> bool:
    """A visualkeras project (by suffix, or a .json whose ``format`` says so) rather than a Keras file."""
    lower = str(path).lower()
    if lower.endswith(PROJECT_SUFFIX):
        return True
    if lower.endswith(".json"):
        try:
            with open(path, encoding="utf-8") as f:
                head = json.load(f)
        except (OSError, ValueError):
            return False
        return isinstance(head, dict) and head.get("format") == "visualkeras-project"
    return False


def suggested_file_name(display_name) -> str:
    """A project file name for an untitled document: "Small residual block" -> "small_residual_block.vkproj",
    "model.h5 (imported)" -> "model.vkproj"."""
    base = os.path.splitext(display_name.replace(" (imported)", ""))[0]
    slug = re.sub(r"\W+", "_", base).strip("_").lower()
    return (slug if slug and slug != "untitled" else "model") + PROJECT_SUFFIX


class ProjectSession:
    """The project's file, unsaved-work flags, recent files, autosave and recovery (see the module docstring).

    Signals: ``changed()`` when the path, the shown name or an unsaved flag changed.
    """

    def __init__(self, settings, max_recent=MAX_RECENT):
        self.settings = settings
        self.max_recent = max_recent
        self.path = None  # the project file that Save writes; None for untitled or imported models
        self.display_name = "Untitled"
        self.recovered_unsaved = False  # a restored recovery is unsaved work though the undo stack is clean
        self.trained_unsaved = False  # trained weights went into the nodes: unsaved, though no edit was made
        self._recovery = None  # this window's autosave slot (document.recovery.RecoverySlot), made on first use
        self.changed = Signal()

    # ------------------------------------------------------------------ state
    @property
    def name(self) -> str:
        """What the title shows: the project file's name, or the untitled document's name."""
        return os.path.basename(self.path) if self.path else self.display_name

    def is_dirty(self, undo_clean=True) -> bool:
        """Unsaved work: an edit since the last save (``undo_clean`` False), a restored recovery, or training."""
        return self.recovered_unsaved or self.trained_unsaved or not undo_clean

    def mark_unsaved(self):
        """The project changed without an undoable edit (trained weights or runs went into the document)."""
        self.trained_unsaved = True
        self.changed.emit()

    def document_set(self, path=None, display_name="Untitled", recovered=False):
        """A new document is the window's: opened from ``path`` (a project), or untitled with ``display_name``."""
        self.path = os.fspath(path) if path is not None else None
        self.display_name = display_name
        self.recovered_unsaved = bool(recovered)
        self.trained_unsaved = False
        self.changed.emit()

    def save(self, doc, path):
        """Write ``doc`` to the project file ``path``, which Save writes from now on; raises on failure (the
        work stays open and unsaved). Clears the unsaved flags and this window's autosave, records the file."""
        from visualkeras_app.document.project import save_project  # start-up time: it imports the engine

        path = os.path.abspath(os.fspath(path))
        save_project(doc, path)
        self.path = path
        self.recovered_unsaved = self.trained_unsaved = False
        self.clear_recovery()
        self.add_recent(path)
        self.changed.emit()
        return path

    # ------------------------------------------------------------------ recent files and folders
    def recent_files(self) -> list:
        value = self.settings.value("recent_files", [])
        if isinstance(value, str):  # QSettings gives a bare string for a one-item list
            value = [value]
        return [str(v) for v in (value or [])]

    def add_recent(self, path):
        """``path`` first in the recent files (at most ``max_recent``); its folder is where dialogs start."""
        files = [p for p in self.recent_files() if p != path]
        files.insert(0, path)
        self.settings.setValue("recent_files", files[:self.max_recent])
        self.settings.setValue("last_dir", os.path.dirname(path))

    def remove_recent(self, path):
        self.settings.setValue("recent_files", [p for p in self.recent_files() if p != path])

    def clear_recent(self):
        self.settings.setValue("recent_files", [])

    @property
    def last_dir(self) -> str:
        """The folder of the last file opened or saved ("" before the first)."""
        return self.settings.value("last_dir", "") or ""

    # ------------------------------------------------------------------ autosave and recovery
    @property
    def recovery_path(self):
        """Where this window autosaves (None before the first autosave)."""
        return self._recovery.path if self._recovery is not None else None

    def autosave(self, doc):
        """Write ``doc`` into this window's own recovery slot (made and locked on first use; other windows
        never touch it). Raises ``OSError`` when no slot can be made."""
        from visualkeras_app.document import recovery  # start-up time: it imports the project format

        if self._recovery is None:
            self._recovery = recovery.RecoverySlot.claim()
        if self._recovery is None:
            from visualkeras_app.document.project import recovery_dir  # start-up time, as above

            raise OSError(f"no recovery file could be made in {recovery_dir()}")
        self._recovery.write(doc, self.path)

    def clear_recovery(self):
        """Empty this window's slot (the work was saved, or replaced by a new document)."""
        if self._recovery is None:
            return
        try:
            self._recovery.clear()
        except Exception:  # nothing to clear, or a read-only cache dir
            pass

    def release_recovery(self):
        """Let go of this window's slot, leaving its file for the next window to offer back (what a crash
        leaves behind)."""
        if self._recovery is not None:
            self._recovery.release()
            self._recovery = None

    def close(self):
        """The window closes: its slot goes (the work was saved or discarded)."""
        if self._recovery is not None:
            try:
                self._recovery.close()
            except OSError:
                pass
            self._recovery = None

    def find_recovery(self):
        """The newest work a crashed window left: ``Recovery`` (document, source path, how many more wait),
        or None. Also clears what killed saves left (older than 10 minutes). The other windows' slots are
        left for the next window that starts; unreadable ones are dropped."""
        try:
            from visualkeras_app.document.recovery import clean_stale_temporaries, orphaned_slots  # start-up time

            clean_stale_temporaries(self.recent_files())
            orphans = orphaned_slots()
        except Exception:  # an unreadable recovery folder never keeps the app from starting
            return None
        found = slot = None
        for candidate in orphans:
            if found is None:
                try:
                    found = candidate.read()
                except Exception:  # an unreadable recovery file is dropped, not shown
                    found = None
                if found is None:
                    candidate.close()
                    continue
                slot = candidate
            else:
                candidate.release()  # left for the next window that starts
        if not found:
            return None
        doc, source = found
        return Recovery(doc, source, len(orphans) - 1, slot)

    def decline(self, recovery):
        """The user does not want the recovered work: its file goes."""
        recovery.slot.close()

    def adopt(self, recovery, autosaved):
        """The recovered work is this window's now (its document was set, unsaved: ``document_set(...,
        recovered=True)``). ``autosaved``: it went into this window's own slot at once, so the orphan's slot
        goes; otherwise this window takes the orphan's slot as it is."""
        if autosaved:
            recovery.slot.close()
            return
        self._recovery, stale = recovery.slot, self._recovery
        if stale is not None:
            stale.close()

    @staticmethod
    def recovered_path(recovery):
        """The project file Save writes for recovered work: its source when that is a project, else None."""
        source = recovery.source
        return source if source and is_project_file(source) else None


class Recovery:
    """What a crashed window left: its ``doc``, the project file it came from (``source``, may be None),
    how many ``more`` crashed windows wait, and the slot holding it."""

    def __init__(self, doc, source, more, slot):
        self.doc, self.source, self.more, self.slot = doc, source, more, slot
