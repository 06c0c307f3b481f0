"""Start-up: the engine (torch) imports on a background thread while the window is already usable.

The window paints without the engine, with its Layers panel filled from the shipped manifest
(:mod:`visualkeras_app.panels.palette_manifest`). After the first paint :class:`EngineStart` begins
:class:`EngineLoader`'s thread, which only imports Python modules and never touches a Qt object; a GUI-side
timer sees it finish and calls ``window.start()`` (training panel, the file named on the command line,
crash recovery).

Until then the Layers panel stays live: its search, scrolling, tooltips and drags are not held up. Anything
else in the window that could need the engine (a click or a key on the canvas, a menu, a shortcut, a drop)
first finishes the start, waiting under a busy cursor only then. Besides the start-up file opening before the
user's first edit, that keeps the GUI thread from importing engine modules while the thread is importing them
(two threads importing the same package in opposite orders can deadlock in Python's import locks). A layer
dropped on the canvas early is queued: the drop is accepted at once, and the layer is placed where it was
dropped as soon as the start is done (a modal dialog inside a drop would block the drag's own event loop).
"""
from __future__ import annotations

import builtins
import importlib
import importlib.util
import sys
import threading
import time

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QDragLeaveEvent
from PySide6.QtWidgets import QApplication

# What the editor imports as soon as it uses the engine: the layer registry, a new layer's defaults, shape
# inference, the code and summary docks, opening a file and the training core. All free of Qt.
ENGINE_MODULES = (
    "engine",
    "engine.layers",
    "visualkeras_app.document.defaults",
    "visualkeras_app.document.inference",
    "visualkeras_app.document.codegen",
    "visualkeras_app.document.summary",
    "visualkeras_app.document.project",
    "visualkeras_app.training.session",
)


class EngineLoader:
    """Imports ``modules`` once, on a background thread (:meth:`begin`) or in the caller's (:meth:`wait`
    before any :meth:`begin`). No Qt: the thread only imports.

    While the thread runs, the thread that began it (the GUI thread) waits for it before importing any module
    it has not imported yet (``builtins.__import__`` is wrapped until the thread is done). Two threads importing
    the engine's modules at once can each meet a module the other has only half initialised ("cannot import
    name ... from partially initialized module", or a deadlock between import locks); waiting before the
    import, while holding no import lock, rules both out. Already imported modules pass straight through.

    Attributes:
        error: the exception an import raised, or None.
        seconds: how long the imports took, once done.
        guarded_waits: how many imports in the beginning thread had to wait for the loader.
    """

    def __init__(self, modules=ENGINE_MODULES, importer=None):
        self.modules = tuple(modules)
        self._importer = importer or self._import_all
        self._thread = None
        self._lock = threading.Lock()
        self._done = threading.Event()
        self.error = None
        self.seconds = None
        self.guarded_waits = 0
        self._owner = None  # the thread whose imports wait for the loader (the one that called begin())
        self._real_import = None

    def _import_all(self):
        for name in self.modules:
            importlib.import_module(name)

    def _run(self):
        t0 = time.perf_counter()
        try:
            self._importer()
        except BaseException as exc:  # reported by wait(): a broken install must not kill the thread silently
            self.error = exc
        finally:
            self.seconds = time.perf_counter() - t0
            self._done.set()
            self._unguard()

    def begin(self):
        """Start importing on a background thread (once; nothing when already begun or done)."""
        with self._lock:
            if self._thread is not None or self._done.is_set():
                return
            self._thread = threading.Thread(target=self._run, name="engine-import", daemon=True)
            self._guard()
        self._thread.start()

    # ------------------------------------------------------------------ the beginning thread's imports
    def _guard(self):
        self._owner = threading.current_thread()
        self._real_import = real = builtins.__import__

        def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
            if not self._done.is_set() and threading.current_thread() is self._owner \
                    and not _already_imported(name, globals, fromlist, level):
                self.guarded_waits += 1
                self._done.wait()
            return real(name, globals, locals, fromlist, level)

        self._guarded_import = guarded_import
        builtins.__import__ = guarded_import

    def _unguard(self):
        if self._real_import is not None and builtins.__import__ is self._guarded_import:
            builtins.__import__ = self._real_import  # else someone wrapped it after us: ours passes through
        self._real_import = None

    @property
    def begun(self) -> bool:
        return self._thread is not None or self._done.is_set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout=None):
        """Block until the imports are done (importing here when they were never begun); returns the error or
        None. With ``timeout`` (seconds) it may return early: check :attr:`done`."""
        with self._lock:
            run_here = self._thread is None and not self._done.is_set()
            if run_here:
                self._thread = threading.current_thread()
        if run_here:
            self._run()
        else:
            self._done.wait(timeout)
        return self.error


def _loaded(name) -> bool:
    module = sys.modules.get(name)
    return module is not None and not getattr(getattr(module, "__spec__", None), "_initializing", False)


def _already_imported(name, globals_, fromlist, level) -> bool:
    """Whether ``import``/``from ... import`` of these arguments only reads modules already fully imported."""
    if level:
        try:
            name = importlib.util.resolve_name("." * level + name, (globals_ or {}).get("__package__") or "")
        except (ImportError, ValueError):
            return False
    parts = name.split(".")
    if not all(_loaded(".".join(parts[:i + 1])) for i in range(len(parts))):
        return False
    module = sys.modules[name]
    # ``from package import name``: a submodule not imported yet is an import too.
    return all(item == "*" or hasattr(module, item) for item in fromlist or ())


_loader = None


def engine_loader() -> EngineLoader:
    """The process's loader (the engine is imported once, whichever window asks first)."""
    global _loader
    if _loader is None:
        _loader = EngineLoader()
    return _loader


def set_engine_loader(loader):
    """Replace the process's loader (tests: one whose imports wait for a signal); returns the previous one."""
    global _loader
    previous, _loader = _loader, loader
    return previous


# Input that may reach code needing the engine when it lands outside the Layers panel.
_GATED = frozenset({QEvent.MouseButtonPress, QEvent.MouseButtonDblClick, QEvent.KeyPress, QEvent.Shortcut,
                    QEvent.Drop})
POLL_MS = 20  # how often the GUI thread looks whether the loader has finished


def _chain(obj):
    while obj is not None:
        yield obj
        obj = obj.parent()


class EngineStart(QObject):
    """One window's start: begins the loader after the first paint, calls ``window.start()`` when it is done,
    and meanwhile holds back (see the module's docstring) input outside ``window.palette_dock``.

    The window provides ``start()``, ``palette_dock`` and ``view`` (the canvas, a QGraphicsView with
    ``drop_layer(class_name, scene_pos)``)."""

    def __init__(self, window, loader=None):
        super().__init__(window)
        self.window = window
        self._loader = loader
        self._timer = None
        self._filtering = False
        self._finished = False

    @property
    def loader(self) -> EngineLoader:
        return self._loader or engine_loader()

    @property
    def loading(self) -> bool:
        """Begun and not yet finished."""
        return self._timer is not None and not self._finished

    def begin(self):
        """After the first paint: import the engine in the background; ``window.start()`` follows when done."""
        if self._finished:
            return
        if self._timer is None:
            self.loader.begin()
            self._timer = QTimer(self)
            self._timer.setInterval(POLL_MS)
            self._timer.timeout.connect(self._poll)
            app = QApplication.instance()
            if app is not None:
                app.installEventFilter(self)
                self._filtering = True
        elif self._timer.isActive():
            return
        self._timer.start()  # again, for a window closed while loading and shown again
        status = getattr(self.window, "statusBar", None)
        if status is not None:
            status().showMessage("Loading the engine… (the Layers panel works already)")

    def _poll(self):
        if not self.loader.done:
            return
        if self.window.isVisible():
            self.window.start()
        else:  # closed before the engine was ready: no start (nor dialogs) for it until it is shown again
            self._timer.stop()

    def finish(self):
        """Called by ``window.start()``: stop holding input back, wait for the loader (under a busy cursor, only
        when it has not finished yet) and return its error or None."""
        self._finished = True
        if self._timer is not None:
            self._timer.stop()
        if self._filtering:
            app = QApplication.instance()
            if app is not None:
                app.removeEventFilter(self)
            self._filtering = False
        loader = self.loader
        if loader.done:
            return loader.error
        QApplication.setOverrideCursor(Qt.BusyCursor)
        try:
            return loader.wait()
        finally:
            QApplication.restoreOverrideCursor()

    # ------------------------------------------------------------------ input while loading
    def eventFilter(self, obj, event):
        if self._finished or event.type() not in _GATED:
            return False
        chain = list(_chain(obj))
        w = self.window
        if w not in chain or getattr(w, "palette_dock", None) in chain:
            return False  # another window's, or the Layers panel's own (search, drag start, tooltips)
        if event.type() == QEvent.Drop:
            name = _layer_name(event.mimeData())
            view = getattr(w, "view", None)
            if name and view is not None and obj is view.viewport():
                self._queue_layer_drop(view, name, event)
                return True
        w.start()  # waits for the engine (busy cursor); the event then goes on as usual
        return False

    def _queue_layer_drop(self, view, name, event):
        scene_pos = view.mapToScene(event.position().toPoint())
        # The view highlighted the connection under the cursor during the drag: a leave clears it, as its
        # own drop handling would have.
        QApplication.sendEvent(view.viewport(), QDragLeaveEvent())
        event.acceptProposedAction()
        QTimer.singleShot(0, self, lambda: self._drop_when_started(view, name, scene_pos))

    def _drop_when_started(self, view, name, scene_pos):
        self.window.start()
        view.drop_layer(name, scene_pos)
        view.setFocus()


def _layer_name(mime):
    from visualkeras_app.panels.palette import LAYER_MIME

    if mime is not None and mime.hasFormat(LAYER_MIME):
        return bytes(mime.data(LAYER_MIME)).decode("utf-8").strip()
    return None
