"""The main window: the canvas in the middle, the docks around it, menus, files, autosave and recovery.

Start-up order matters: this module and everything it imports at module level stay free of ``engine``
(and so torch, about two seconds to import). The window paints first, its palette already filled from
the shipped manifest; the engine then imports on a background thread (:mod:`visualkeras_app.startup`), and
:meth:`MainWindow.start` checks the palette against it, opens the file given on the command line and
offers a recovered document back after a crash.
"""
from __future__ import annotations

import os

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QApplication, QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox, QStyle,
                               QToolBar)

from visualkeras_app.canvas.view import EditorView
from visualkeras_app.document.graph import Document
from visualkeras_app.editor.controller import NODE_HEIGHT, NODE_WIDTH, EditorController
from visualkeras_app.panels.code_view import CodePanel
from visualkeras_app.panels.inspector import InspectorPanel
from visualkeras_app.panels.palette import PalettePanel
from visualkeras_app.panels.problems import ProblemsPanel
from visualkeras_app.panels.summary import SummaryPanel
from visualkeras_app.session import MAX_RECENT, PROJECT_SUFFIX, ProjectSession, is_project_file  # noqa: F401
from visualkeras_app.session import suggested_file_name  # noqa: F401 - the window's names, kept
from visualkeras_app.startup import EngineStart
from visualkeras_app.training_ui.docks import TrainingDocks

APP_NAME = "visualkeras-app"
OPENABLE_SUFFIXES = (PROJECT_SUFFIX, ".json", ".h5", ".keras")
AUTOSAVE_MS = 30_000
OPEN_FILTER = ("Models and projects (*.vkproj *.json *.h5 *.keras);;visualkeras projects (*.vkproj);;"
               "Keras models (*.keras *.h5 *.json);;All files (*)")
SAVE_FILTER = "visualkeras project (*.vkproj)"


def default_settings() -> QSettings:
    """The user's settings (recent files, window layout); ``VISUALKERAS_SETTINGS`` names an INI file
    instead (tests, portable installs)."""
    path = os.environ.get("VISUALKERAS_SETTINGS")
    if path:
        return QSettings(path, QSettings.IniFormat)
    return QSettings("visualkeras", APP_NAME)


def _local_files(mime):
    if not mime.hasUrls():
        return []
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile()
            and u.toLocalFile().lower().endswith(OPENABLE_SUFFIXES)]


class _FileDropFilter(QObject):
    """Lets files dropped on the canvas reach the window (the canvas itself takes layer drops only)."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window

    def eventFilter(self, obj, event):
        et = event.type()
        if et == QEvent.Resize:
            self.window._place_canvas_hint()
            return False
        if et in (QEvent.DragEnter, QEvent.DragMove, QEvent.Drop) and _local_files(event.mimeData()):
            if et == QEvent.Drop:
                self.window.open_dropped(event.mimeData())
            event.acceptProposedAction()
            return True
        return False


class MainWindow(QMainWindow):
    """The editor window.

    Args:
        file: a file to open once the engine has loaded (the command line's ``visualkeras-app FILE``).
        template: a template key to start from instead (``visualkeras-app seed_mlp``).
        settings: a ``QSettings`` (default: the user's, see :func:`default_settings`).
        offer_recovery: at start, offer back a document left in the recovery file by a crash.

    Signals:
        started(): the engine is loaded, the palette filled, the start-up file opened.
    """

    started = Signal()

    def __init__(self, file=None, settings=None, offer_recovery=True, parent=None, template=None):
        super().__init__(parent)
        self.settings = settings if settings is not None else default_settings()
        # The project's file, unsaved flags, recent files, autosave and recovery (Qt-free).
        self.session = ProjectSession(self.settings, MAX_RECENT)
        self._pending_file = file
        self._pending_template = template
        self._offer_recovery = offer_recovery
        self._started = False
        self._paint_seen = False
        self._closing = False  # closed: a load still under way is cancelled and its document dropped

        self.controller = EditorController(Document(), self)
        self.view = EditorView(self.controller, self)
        self.scene = self.view.editor_scene
        self.setCentralWidget(self.view)
        self.canvas_hint = QLabel(
            "<div style='font-size:15px; color:#5F6B7A'>Drag a layer here from the <b>Layers</b> panel</div>"
            "<div style='color:#7D8790'>or start from <b>File ▸ New from Template</b>, or open a Keras model "
            "(.keras, .h5, .json)</div>", self.view.viewport())
        self.canvas_hint.setAlignment(Qt.AlignCenter)
        self.canvas_hint.setAttribute(Qt.WA_TransparentForMouseEvents)
        self._file_drop_filter = _FileDropFilter(self)
        self.view.viewport().installEventFilter(self._file_drop_filter)
        self.setAcceptDrops(True)

        self.palette_panel = PalettePanel(self)
        # Listed from the shipped manifest: usable before the engine (torch) has loaded (start-up time).
        self.palette_panel.populate_from_manifest()
        self._engine_start = EngineStart(self)
        self.inspector = InspectorPanel(self.controller, self)
        self.code_panel = CodePanel(self.controller, self)
        self.summary_panel = SummaryPanel(self.controller, self)
        self.problems_panel = ProblemsPanel(self.controller, self)
        self._make_docks()
        self._make_actions()
        self.training = TrainingDocks(self)
        self._make_menus()
        self._make_toolbar()
        self._make_status_bar()

        self.palette_panel.layer_activated.connect(self.add_layer_at_center)
        self.problems_panel.node_activated.connect(self.center_on_node)
        self.problems_panel.count_changed.connect(self._on_problem_count)
        self.inspector.refused.connect(self.show_message)
        self.controller.message.connect(self.show_message)
        self.controller.document_replaced.connect(self._on_document_replaced)
        self.controller.selection_changed.connect(self._on_selection_changed)
        stack = self.controller.undo_stack
        stack.cleanChanged.connect(self._update_title)
        stack.indexChanged.connect(self._on_index_changed)
        self.session.changed.connect(self._update_title)
        self._attach(self.controller.document)

        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()

        self._default_size()
        self._restore_layout()
        self._update_title()
        self._update_params()

    # ------------------------------------------------------------------ construction
    def _make_docks(self):
        self.setDockNestingEnabled(True)
        self.setCorner(Qt.BottomLeftCorner, Qt.BottomDockWidgetArea)
        self.setCorner(Qt.BottomRightCorner, Qt.BottomDockWidgetArea)

        def dock(title, name, widget, area, tip):
            d = QDockWidget(title, self)
            d.setObjectName(name)
            d.setWidget(widget)
            d.setToolTip(tip)
            d.toggleViewAction().setToolTip(f"Show or hide the {title.lower()} panel")
            self.addDockWidget(area, d)
            return d

        self.palette_dock = dock("Layers", "palette_dock", self.palette_panel, Qt.LeftDockWidgetArea,
                                 "The layer palette: drag a layer onto the canvas or double-click it")
        self.inspector_dock = dock("Inspector", "inspector_dock", self.inspector, Qt.RightDockWidgetArea,
                                   "The selected layer's settings")
        self.code_dock = dock("Code", "code_dock", self.code_panel, Qt.BottomDockWidgetArea,
                              "The model as Python code using engine (Keras 3 API)")
        self.summary_dock = dock("Summary", "summary_dock", self.summary_panel, Qt.BottomDockWidgetArea,
                                 "The model summary, as model.summary() prints it")
        self.problems_dock = dock("Problems", "problems_dock", self.problems_panel, Qt.BottomDockWidgetArea,
                                  "What keeps the graph from compiling to a model")
        self.splitDockWidget(self.code_dock, self.summary_dock, Qt.Horizontal)
        self.tabifyDockWidget(self.summary_dock, self.problems_dock)
        self.summary_dock.raise_()
        self.resizeDocks([self.palette_dock], [230], Qt.Horizontal)
        self.resizeDocks([self.inspector_dock], [330], Qt.Horizontal)
        self.resizeDocks([self.code_dock, self.summary_dock], [640, 620], Qt.Horizontal)
        self.resizeDocks([self.code_dock], [230], Qt.Vertical)

    def add_action(self, text, slot, shortcut=None, tip=None, icon=None, context=None):
        """A window action (menus and docks add theirs here): ``slot`` on trigger, with its shortcut,
        tooltip and standard icon; the window holds it so its shortcut works anywhere in it."""
        act = QAction(text, self)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        if context is not None:
            act.setShortcutContext(context)
        if tip:
            act.setToolTip(tip)
            act.setStatusTip(tip)
        if icon is not None:
            act.setIcon(self.style().standardIcon(icon))
        act.triggered.connect(slot)
        self.addAction(act)
        return act

    def _make_actions(self):
        S = QStyle
        self.act_new = self.add_action("&New", self.new_document, QKeySequence.New, "Start an empty model",
                                       S.SP_FileIcon)
        self.act_open = self.add_action("&Open…", self.open_dialog, QKeySequence.Open,
                                        "Open a project or a Keras model (.vkproj, .keras, .h5, .json)",
                                        S.SP_DialogOpenButton)
        self.act_save = self.add_action("&Save", self.save, QKeySequence.Save, "Save the project",
                                        S.SP_DialogSaveButton)
        self.act_save_as = self.add_action("Save &As…", self.save_as, QKeySequence("Ctrl+Shift+S"),
                                           "Save the project under a new name")
        self.act_quit = self.add_action("&Quit", self.close, QKeySequence("Ctrl+Q"), "Close the window")

        stack = self.controller.undo_stack
        self.act_undo = stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcut(QKeySequence("Ctrl+Z"))
        self.act_undo.setIcon(self.style().standardIcon(S.SP_ArrowBack))
        self.act_redo = stack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.act_redo.setIcon(self.style().standardIcon(S.SP_ArrowForward))
        self.addAction(self.act_undo)
        self.addAction(self.act_redo)

        # Clipboard and selection keys act on the canvas only: in a text field they edit the text.
        canvas = Qt.WidgetWithChildrenShortcut
        self.act_cut = self.add_action("Cu&t", self.cut, QKeySequence.Cut, "Cut the selected layers", context=canvas)
        self.act_copy = self.add_action("&Copy", self.copy, QKeySequence.Copy, "Copy the selected layers",
                                        context=canvas)
        self.act_paste = self.add_action("&Paste", self.paste, QKeySequence.Paste, "Paste layers", context=canvas)
        self.act_duplicate = self.add_action("D&uplicate", self.duplicate, QKeySequence("Ctrl+D"),
                                             "Duplicate the selected layers", context=canvas)
        self.act_delete = self.add_action("&Delete", self.delete_selection, QKeySequence.Delete,
                                          "Delete the selected layers and connections", context=canvas)
        self.act_select_all = self.add_action("Select &All", self.controller.select_all, QKeySequence.SelectAll,
                                              "Select every layer", context=canvas)
        for act in (self.act_cut, self.act_copy, self.act_paste, self.act_duplicate, self.act_delete,
                    self.act_select_all):
            self.removeAction(act)
            self.view.addAction(act)

        self.act_zoom_in = self.add_action("Zoom &In", lambda: self._view_call("zoom_in"), QKeySequence("Ctrl+="),
                                           "Zoom in", context=canvas)
        self.act_zoom_in.setShortcuts([QKeySequence("Ctrl+="), QKeySequence("Ctrl++")])
        self.act_zoom_out = self.add_action("Zoom &Out", lambda: self._view_call("zoom_out"), QKeySequence("Ctrl+-"),
                                            "Zoom out", context=canvas)
        self.act_fit = self.add_action("&Fit to View", lambda: self._view_call("fit_to_view"), QKeySequence("F"),
                                       "Fit the whole graph in the view", context=canvas)
        for act in (self.act_zoom_in, self.act_zoom_out, self.act_fit):
            self.removeAction(act)
            self.view.addAction(act)
        self.act_layout_tb = self.add_action("Auto-layout &Top-Down", lambda: self.auto_layout("TB"),
                                             QKeySequence("Ctrl+L"), "Arrange the layers top to bottom")
        self.act_layout_lr = self.add_action("Auto-layout &Left-Right", lambda: self.auto_layout("LR"),
                                             QKeySequence("Ctrl+Shift+L"), "Arrange the layers left to right")
        self.act_snap = self.add_action("&Snap to Grid", self.set_snap, None, "Snap moved layers to a 20 px grid")
        self.act_snap.setCheckable(True)
        self.act_snap.setChecked(self.settings.value("snap_to_grid", False, type=bool))
        self.set_snap(self.act_snap.isChecked())
        self.act_about = self.add_action("&About visualkeras-app", self.about)
        self.act_shortcuts = self.add_action("&Keyboard Shortcuts", self.show_shortcuts, QKeySequence("Ctrl+/"),
                                             "Every command and its keys, and the canvas gestures")

    def _make_menus(self):
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.act_new)
        self.template_menu = file_menu.addMenu("New from &Template")
        self.template_menu.setToolTipsVisible(True)
        self.template_menu.aboutToShow.connect(self._fill_template_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.act_open)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.act_save)
        file_menu.addAction(self.act_save_as)
        from visualkeras_app.export.ui import install_export_menu  # Qt only; torch loads on export

        self.export_menu = install_export_menu(self, file_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)

        edit = bar.addMenu("&Edit")
        edit.addAction(self.act_undo)
        edit.addAction(self.act_redo)
        edit.addSeparator()
        for act in (self.act_cut, self.act_copy, self.act_paste, self.act_duplicate, self.act_delete):
            edit.addAction(act)
        edit.addSeparator()
        edit.addAction(self.act_select_all)

        view = bar.addMenu("&View")
        for act in (self.act_zoom_in, self.act_zoom_out, self.act_fit):
            view.addAction(act)
        view.addSeparator()
        view.addAction(self.act_layout_tb)
        view.addAction(self.act_layout_lr)
        view.addAction(self.act_snap)
        view.addSeparator()
        panels = self.panels_menu = view.addMenu("&Panels")
        for d in (self.palette_dock, self.inspector_dock, self.code_dock, self.summary_dock, self.problems_dock):
            panels.addAction(d.toggleViewAction())

        from visualkeras_app.data_ui.menu import install_dataset_menu  # Qt only; dialogs load on use

        self.dataset_menu = install_dataset_menu(self, bar)
        self.training.add_menu(bar)
        panels.addAction(self.training.training_dock.toggleViewAction())
        panels.addAction(self.training.results_dock.toggleViewAction())
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.act_shortcuts)
        help_menu.addSeparator()
        help_menu.addAction(self.act_about)
        from visualkeras_app.help import install_help  # Getting Started, F1 layer documentation

        install_help(self, help_menu)

    def _make_toolbar(self):
        tb = QToolBar("Main toolbar", self)
        tb.setObjectName("main_toolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        tb.setIconSize(tb.iconSize() * 0.85)
        for act in (self.act_new, self.act_open, self.act_save):
            tb.addAction(act)
        tb.addSeparator()
        tb.addAction(self.act_undo)
        tb.addAction(self.act_redo)
        for act in (self.act_undo, self.act_redo):
            # Their text names the command ("Undo Connect a → b"): the tooltip carries it, the bar stays put.
            tb.widgetForAction(act).setToolButtonStyle(Qt.ToolButtonIconOnly)
        tb.addSeparator()
        tb.addAction(self.act_fit)
        tb.addAction(self.act_layout_tb)
        self.training.add_to_toolbar(tb)
        self.addToolBar(Qt.TopToolBarArea, tb)
        self.toolbar = tb
        self.panels_menu.addSeparator()
        self.panels_menu.addAction(tb.toggleViewAction())

    def _make_status_bar(self):
        self.params_label = QLabel(self)
        self.params_label.setToolTip("Parameters of the whole model (from shape inference)")
        self.params_label.setContentsMargins(8, 0, 8, 0)
        self.statusBar().addPermanentWidget(self.params_label)
        self.statusBar().setSizeGripEnabled(True)

    # ------------------------------------------------------------------ start-up (after the first paint)
    def event(self, ev):
        # The engine (torch) loads only once the window is on screen (the first paint proves it), on a
        # background thread: the window, the Layers panel first, stays usable meanwhile.
        if ev.type() == QEvent.Paint and not self._paint_seen and self.isVisible():
            self._paint_seen = True
            QTimer.singleShot(0, self._engine_start.begin)
        return super().event(ev)

    def showEvent(self, ev):
        super().showEvent(ev)
        self._closing = False
        # A fallback where no paint arrives (a minimised start, a platform that paints late).
        QTimer.singleShot(1500, self._engine_start.begin)

    @property
    def is_started(self) -> bool:
        return self._started

    def start(self):
        """Finish loading the engine (waiting for its background import, under a busy cursor, only when called
        before it is done), check the palette against the registry, build the training panel, offer recovery,
        open the start-up file. Runs once; anything that needs the engine before then calls it."""
        if self._started:
            return
        self._started = True
        self.statusBar().showMessage("Loading the engine…")
        error = self._engine_start.finish()
        try:
            if error is not None:
                raise error
            self.palette_panel.sync_with_registry()
        except Exception as exc:  # a broken install says so instead of dying
            self._error("The layer library could not be loaded", f"{type(exc).__name__}: {exc}")
        try:
            self.training.build()
        except Exception as exc:  # the editor works without the training panel
            self.show_message(f"The training panel could not be loaded: {exc}")
        self.statusBar().showMessage("Ready", 3000)
        restored = self._offer_recovery and self.check_recovery()
        if self._pending_file and not restored:
            self.open_file(self._pending_file, ask=False)
        elif self._pending_template and not restored:
            self.new_from_template(self._pending_template)
        self._pending_file = self._pending_template = None
        self.started.emit()

    # ------------------------------------------------------------------ document state
    def _attach(self, doc):
        doc.inferred.connect(self._on_inferred)
        doc.changed.connect(self._on_changed)
        self._doc = doc
        self._on_changed()

    def _on_document_replaced(self):
        old = getattr(self, "_doc", None)
        if old is not None:
            old.inferred.disconnect(self._on_inferred)
            old.changed.disconnect(self._on_changed)
        self._attach(self.controller.document)
        self.session.trained_unsaved = False
        self.training.document_replaced()
        from visualkeras_app.document.prepared import forget_model

        forget_model(self.controller.document)  # the model a file was read into: the draw pad took it, or none
        self._update_params()
        self._update_title()
        QTimer.singleShot(0, lambda: self._view_call("show_graph"))

    def _on_selection_changed(self, ids):
        # One layer selected: its settings come to the front, even where the Results tab covered them after a
        # run (a click on the Results tab brings those back).
        dock = self.inspector_dock
        if len(ids) == 1 and dock.isVisible() and not dock.isFloating() and dock.visibleRegion().isEmpty() \
                and self.tabifiedDockWidgets(dock):
            dock.raise_()

    def _on_inferred(self, _result):
        self._update_params()
        self.training.schedule_fit_check()

    def _on_changed(self):
        self.canvas_hint.setVisible(not self.controller.document.nodes)

    def _place_canvas_hint(self):
        vp = self.view.viewport()
        self.canvas_hint.setGeometry(0, 0, vp.width(), vp.height())

    def _on_index_changed(self, _index):
        self._update_title()

    @property
    def path(self):
        """The project file that Save writes; None for untitled or imported models (``session.path``)."""
        return self.session.path

    @path.setter
    def path(self, value):
        self.session.path = value

    @property
    def display_name(self):
        """The name an untitled document shows (``session.display_name``)."""
        return self.session.display_name

    def mark_unsaved(self):
        """The project changed without an undoable edit (trained weights or runs went into the
        document): unsaved until the next save, the title says so."""
        self.session.mark_unsaved()

    def is_dirty(self) -> bool:
        return self.session.is_dirty(self.controller.undo_stack.isClean())

    def _update_title(self, *_):
        name = self.session.name
        self.setWindowTitle(f"{name}{'*' if self.is_dirty() else ''} \u2014 {APP_NAME}")

    def _update_params(self):
        r = self.controller.document.result
        if r is None or not self.controller.document.nodes:
            self.params_label.setText("No layers")
            return
        self.params_label.setText(f"Total params: <b>{r.total_params:,}</b> &nbsp;·&nbsp; Trainable: "
                                  f"{r.trainable_params:,} &nbsp;·&nbsp; Non-trainable: {r.non_trainable_params:,}")

    def _on_problem_count(self, n):
        self.problems_dock.setWindowTitle(f"Problems ({n})" if n else "Problems")

    def show_message(self, text):
        self.statusBar().showMessage(str(text), 8000)

    def _error(self, title, text):
        # Plain sentences only: the exception's message, never a traceback.
        QMessageBox.critical(self, title, str(text))

    # ------------------------------------------------------------------ files
    def _set_document(self, doc, path=None, display_name="Untitled", recovered=False):
        self.session.document_set(path, display_name, recovered)
        self.controller.replace_document(doc)
        self._update_title()

    def maybe_save(self) -> bool:
        """Ask to save unsaved work; True when it is fine to go on (saved or discarded)."""
        if not self.is_dirty():
            return True
        name = self.session.name
        answer = QMessageBox.question(
            self, "Unsaved changes", f"Save the changes to {name} before closing it?",
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)
        if answer == QMessageBox.Save:
            return self.save()
        return answer == QMessageBox.Discard

    def new_document(self):
        if not self.maybe_save():
            return False
        self._set_document(Document())
        self.session.clear_recovery()
        return True

    def new_from_template(self, key):
        if not self.maybe_save():
            return False
        try:
            from visualkeras_app.background import LoadCancelled, cancel_running, run_in_background
            from visualkeras_app.document.app_templates import is_application_key
            from visualkeras_app.document.prepared import template_prepared
            from visualkeras_app.document.templates import load_template, template_title

            title = template_title(key)
            cancel_running(self)  # a load still under way gives way to this one
            if is_application_key(key):  # hundreds of layers built by the engine: off the GUI thread
                doc = run_in_background(self, f"Building {title}…", lambda: template_prepared(key),
                                        title="New from Template")
            else:
                doc = load_template(key)
        except LoadCancelled:
            if not self._closing:
                self.show_message(f"Building {key} was cancelled; nothing changed.")
            return False
        except Exception as exc:  # a broken template file: a dialog, the current document stays
            self._error("Could not load the template", str(exc))
            return False
        if self._closing:  # the window was closed while the template was built
            return False
        self._set_document(doc, None, title)
        self.session.clear_recovery()
        from visualkeras_app.transfer_ui import offer_base_weights  # a transfer template asks for its weights

        self.base_weights_dialog = offer_base_weights(self, key)
        return True

    def open_dialog(self):
        start = os.path.dirname(self.path) if self.path else self.session.last_dir
        path, _ = QFileDialog.getOpenFileName(self, "Open a model or project", start or "", OPEN_FILTER)
        if path:
            self.open_file(path)

    def open_file(self, path, ask=True) -> bool:
        """Open a project or a Keras model file; a plain error dialog when it cannot be read."""
        if ask and not self.maybe_save():
            return False
        path = os.path.abspath(os.fspath(path))
        try:
            from visualkeras_app import background
            from visualkeras_app.background import LoadCancelled, cancel_running, run_in_background
            from visualkeras_app.document.project import open_prepared
            from visualkeras_app.document.project import open_any

            cancel_running(self)  # a load still under way gives way to this one
            try:
                big = os.path.isfile(path) and os.path.getsize(path) >= background.BACKGROUND_BYTES
            except OSError:
                big = False
            if big:  # a big file: the window keeps answering, with progress and Cancel; the docks'
                # summary and code are made on the worker too (document.prepared)
                doc, project = run_in_background(self, f"Opening {os.path.basename(path)}…",
                                                 lambda: (open_prepared(path), is_project_file(path)))
            else:
                doc, project = open_any(path), is_project_file(path)
        except LoadCancelled:
            if not self._closing:
                self.show_message(f"Opening {path} was cancelled; nothing changed.")
            return False
        except Exception as exc:  # ProjectError names the file; anything else gets named here
            msg = str(exc) or type(exc).__name__
            if path not in msg:
                msg = f"{path} could not be opened: {msg}"
            self._error("Could not open the file", msg)
            return False
        if self._closing:  # the window was closed while the file loaded
            return False
        if project:  # (read on the worker: a big .json is parsed once more to tell)
            self._set_document(doc, path)
        else:
            # A Keras model opens as a new, untitled project: Save must not overwrite the Keras file.
            self._set_document(doc, None, f"{os.path.basename(path)} (imported)")
        self.session.clear_recovery()
        self.session.add_recent(path)
        self.show_message(f"Opened {path}")
        return True

    def open_dropped(self, mime):
        files = _local_files(mime)
        if files:
            # Deferred: a modal dialog inside a drop handler would block the source's drag loop.
            QTimer.singleShot(0, lambda: self.open_file(files[0]))

    def save(self) -> bool:
        if not self.path:
            return self.save_as()
        return self.save_file(self.path)

    def save_as(self) -> bool:
        start = self.path or os.path.join(self.session.last_dir, suggested_file_name(self.display_name))
        path, _ = QFileDialog.getSaveFileName(self, "Save the project", start, SAVE_FILTER)
        if not path:
            return False
        if not os.path.splitext(path)[1]:
            path += PROJECT_SUFFIX
        return self.save_file(path)

    def save_file(self, path) -> bool:
        path = os.path.abspath(os.fspath(path))
        try:
            self.session.save(self.controller.document, path)
        except Exception as exc:  # any failure to save: a dialog, the work stays open and unsaved
            self._error("Could not save the project", f"{path} could not be saved: {exc}")
            return False
        self.controller.undo_stack.setClean()
        self._update_title()
        self.show_message(f"Saved {path}")
        return True

    # ------------------------------------------------------------------ recent files
    def recent_files(self) -> list:
        return self.session.recent_files()

    def add_recent(self, path):
        self.session.add_recent(path)

    def _fill_recent_menu(self):
        menu = self.recent_menu
        menu.clear()
        files = self.recent_files()
        for i, path in enumerate(files):
            act = menu.addAction(f"&{i + 1}  {os.path.basename(path)}" if i < 9 else os.path.basename(path))
            act.setToolTip(path)
            act.setStatusTip(path)
            act.triggered.connect(lambda _=False, p=path: self.open_recent(p))
        if not files:
            menu.addAction("No recent files").setEnabled(False)
        menu.addSeparator()
        clear = menu.addAction("Clear Recent Files")
        clear.setEnabled(bool(files))
        clear.triggered.connect(self.session.clear_recent)

    def open_recent(self, path):
        if not os.path.exists(path):
            self.session.remove_recent(path)
            self._error("Could not open the file", f"{path} no longer exists; it was removed from the recent files.")
            return False
        return self.open_file(path)

    def _fill_template_menu(self):
        menu = self.template_menu
        menu.clear()
        try:
            from visualkeras_app.document.templates import all_templates

            templates = all_templates()
        except Exception as exc:  # unreadable templates: the menu says so, the editor still starts
            menu.addAction(f"Templates unavailable: {exc}").setEnabled(False)
            return
        submenus = {}
        for t in templates:
            # Grouped templates (Applications, Transfer Learning) go into a submenu each, after the others.
            where = menu
            if t.group:
                where = submenus.get(t.group)
                if where is None:
                    if not submenus:
                        menu.addSeparator()
                    where = submenus[t.group] = menu.addMenu(t.group)
                    where.setToolTipsVisible(True)
            act = where.addAction(t.title)
            act.setToolTip(t.description)
            act.setStatusTip(t.description)
            act.triggered.connect(lambda _=False, k=t.key: self.new_from_template(k))

    # ------------------------------------------------------------------ autosave and recovery
    def autosave(self) -> bool:
        """Write this window's recovery file when there is unsaved work (every 30 s)."""
        if not self.is_dirty() or not self._started:
            return False
        try:
            self.session.autosave(self.controller.document)
        except Exception as exc:  # autosave must never interrupt the user
            self.show_message(f"Autosave failed: {exc}")
            return False
        return True

    @property
    def recovery_path(self):
        """Where this window autosaves (None before the first autosave)."""
        return self.session.recovery_path

    def check_recovery(self) -> bool:
        """Offer back the work of a window that crashed (any window's, the newest first); True when it
        was restored. Also clears what killed saves left (older than 10 minutes)."""
        found = self.session.find_recovery()
        if found is None:
            return False
        where = f" (from {found.source})" if found.source else ""
        rest = f" {found.more} more will be offered by the next window you open." if found.more > 0 else ""
        answer = QMessageBox.question(
            self, "Recover unsaved work",
            f"visualkeras-app closed without saving a model{where} with {len(found.doc.nodes)} layers. "
            f"Restore it?{rest}", QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
        if answer != QMessageBox.Yes:
            self.session.decline(found)
            return False
        self._set_document(found.doc, self.session.recovered_path(found), "Recovered", recovered=True)
        self._update_title()
        # The recovered work is this window's now: into its own slot at once, then the orphan goes.
        self.session.adopt(found, autosaved=self._started and self.autosave())
        self.show_message("Recovered the unsaved model; save it to keep it.")
        return True

    # ------------------------------------------------------------------ edit and view commands
    def _selected(self):
        return self.controller.selection()

    def cut(self):
        if self._selected():
            self.controller.cut_nodes(self._selected())

    def copy(self):
        if self._selected():
            self.controller.copy_nodes(self._selected())

    def paste(self):
        self.controller.paste()

    def duplicate(self):
        if self._selected():
            self.controller.duplicate(self._selected())

    def delete_selection(self):
        self.controller.delete_selection()

    def auto_layout(self, direction):
        self.controller.auto_layout(direction)
        QTimer.singleShot(0, lambda: self._view_call("fit_to_view"))

    def set_snap(self, on):
        self.settings.setValue("snap_to_grid", bool(on))
        self._view_call("set_snap_to_grid", bool(on))

    def _view_call(self, name, *args):
        fn = getattr(self.view, name, None)
        if fn is not None:
            return fn(*args)
        return None

    def view_center_scene_pos(self):
        """The scene point at the centre of the canvas."""
        return self.view.mapToScene(self.view.viewport().rect().center())

    def add_layer_at_center(self, class_name):
        """Add a layer as a palette double-click does (see ``EditorView.add_layer_at_center``)."""
        self.start()  # a double-click while the engine loads waits for it
        nid = self.view.add_layer_at_center(class_name)
        if nid is not None:
            self.view.setFocus()
        return nid

    def center_on_node(self, node_id):
        node = self.controller.document.nodes.get(node_id)
        if node is not None:
            self.view.centerOn(node.pos[0] + NODE_WIDTH / 2, node.pos[1] + NODE_HEIGHT / 2)

    def show_shortcuts(self):
        from visualkeras_app.shortcuts import show_shortcuts

        return show_shortcuts(self)

    def about(self):
        from visualkeras_app import __version__

        QMessageBox.about(self, f"About {APP_NAME}",
                          f"<b>{APP_NAME}</b> {__version__}<br>Build neural networks on a canvas with "
                          "the engine library, a Keras 3 compatible library on PyTorch.")

    # ------------------------------------------------------------------ window events
    def dragEnterEvent(self, event):
        if _local_files(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dropEvent(self, event):
        if _local_files(event.mimeData()):
            self.open_dropped(event.mimeData())
            event.acceptProposedAction()
        else:
            super().dropEvent(event)

    def closeEvent(self, event):
        if not self.maybe_save():
            event.ignore()
            return
        self._closing = True
        from visualkeras_app.background import cancel_running

        cancel_running(self)  # a file or template still loading: its worker stops at its next report
        self.training.shutdown()
        self.autosave_timer.stop()
        self.session.close()
        self.settings.setValue("window_geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState())
        event.accept()

    def _default_size(self):
        # 1400x900, or most of a smaller screen (a 1366x768 laptop).
        w, h = 1400, 900
        screen = self.screen() or QApplication.primaryScreen()
        if screen is not None:
            avail = screen.availableGeometry()
            w, h = min(w, int(avail.width() * 0.94)), min(h, int(avail.height() * 0.92))
        self.resize(w, h)

    def _restore_layout(self):
        geometry = self.settings.value("window_geometry")
        state = self.settings.value("window_state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
