"""The main window's training wiring: the "Training" and "Results" docks, the Train menu and its actions.

Kept apart from ``mainwindow.py`` so that the window only makes a `TrainingDocks`, adds its menu, and calls
`build` once the engine has loaded. The docks exist from the start (the saved window layout restores them)
with a placeholder; their contents import pyqtgraph (0.7 s) and are built after the first paint.
"""
from __future__ import annotations

import os

from PySide6.QtCore import QCoreApplication, QEvent, Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QStyle, QTabWidget

TEMPLATE_KEY = "mnist_fast_cnn"


def _placeholder(text):
    label = QLabel(text)
    label.setAlignment(Qt.AlignCenter)
    label.setStyleSheet("color:#7D8790")
    return label


class TrainingDocks:
    """Creates and drives the Training and Results docks of ``window`` (a `MainWindow`).

    Attributes:
        panel: the `TrainingPanel` (None until `build`).
        results_view, draw_pad, feature_view: the results helpers' views when they are installed.
    """

    def __init__(self, window):
        self.window = window
        self.panel = None
        self.results_view = self.draw_pad = self.feature_view = None
        self.results_tabs = None
        self._run_doc = None
        self._run_model = None
        self._pending = None  # settings to train with once built (Ctrl+T before the engine loaded)
        self._shown_training = False
        self._reserved_cores = False
        self._sized = set()  # docks given room once ("training", "results"); later the user's sizes stand
        # The before-training check (does the model fit the data set?), after edits settle.
        self._fit_timer = QTimer(window)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(150)
        self._fit_timer.timeout.connect(self.check_fit)

        w = window
        self.training_dock = self._dock("Training", "training_dock", "Train the model: settings, live plots, runs",
                                        _placeholder("Training loads with the engine…"))
        self.results_dock = self._dock("Results", "results_dock",
                                       "How the trained model does on the test set; draw a digit; feature maps",
                                       _placeholder("Train a model to see its results here."))
        w.addDockWidget(Qt.BottomDockWidgetArea, self.training_dock)
        w.addDockWidget(Qt.RightDockWidgetArea, self.results_dock)
        # Tabified once the window has laid out its docks: tabifying during construction leaves orphan
        # copies of the tab bars drawn over the palette and the canvas (Qt 6.12).
        QTimer.singleShot(0, self._tabify)

        S = QStyle
        self.act_train_mnist = w.add_action("Train on &MNIST", self.train_on_mnist, QKeySequence("Ctrl+T"),
                                            "Train the model on MNIST (an empty document gets the fast MNIST CNN "
                                            "and the one-click recipe)", S.SP_MediaPlay)
        self.act_train = w.add_action("&Train with Panel Settings", self.train, QKeySequence("Ctrl+Shift+T"),
                                      "Train with the settings of the Training panel")
        self.act_pause = w.add_action("&Pause / Resume", self.toggle_pause, None, "Pause or resume the run")
        self.act_stop = w.add_action("&Stop Training", self.stop, QKeySequence("Ctrl+."),
                                     "Stop the run before the next batch", S.SP_MediaStop)
        self.act_evaluate = w.add_action("&Evaluate on the Test Set", self.evaluate, None,
                                         "Evaluate the model's trained weights on the test set, without training")
        self.act_fine_tune = w.add_action(
            "&Fine-tune the Top Layers", self.fine_tune, None,
            "After a first run of a model with a frozen base: unfreeze the top 20 frozen layers (BatchNormalization "
            "stays frozen), lower the learning rate tenfold and train on from the current weights")
        self._continue_from_weights = False  # the next run starts from the document's weights (fine-tuning)
        self._run_signature = None  # the document's architecture when the last run started
        self._update_actions()

    def _tabify(self):
        w = self.window
        if w.settings.value("window_state") is None:  # else the user's saved layout places the docks
            w.tabifyDockWidget(w.code_dock, self.training_dock)
            w.tabifyDockWidget(w.inspector_dock, self.results_dock)
            # Code and Inspector in front, unless a run started already (Ctrl+T in the first moment).
            (self.training_dock if self._shown_training else w.code_dock).raise_()
            w.inspector_dock.raise_()
        QTimer.singleShot(0, lambda: hide_orphan_tab_bars(w))
        QTimer.singleShot(0, lambda: fit_to_screen(w))

    def _dock(self, title, name, tip, widget):
        d = QDockWidget(title, self.window)
        d.setObjectName(name)
        d.setWidget(widget)
        d.setToolTip(tip)
        d.toggleViewAction().setToolTip(f"Show or hide the {title.lower()} panel")
        return d

    def add_menu(self, bar, before=None):
        from PySide6.QtWidgets import QMenu

        menu = QMenu("&Train", bar)
        if before is None:
            bar.addMenu(menu)
        else:
            bar.insertMenu(before, menu)
        for act in (self.act_train_mnist, self.act_train):
            menu.addAction(act)
        menu.addSeparator()
        menu.addAction(self.act_pause)
        menu.addAction(self.act_stop)
        menu.addSeparator()
        menu.addAction(self.act_evaluate)
        menu.addAction(self.act_fine_tune)
        menu.addSeparator()
        menu.addAction(self.training_dock.toggleViewAction())
        menu.addAction(self.results_dock.toggleViewAction())
        self.menu = menu
        return menu

    def add_to_toolbar(self, toolbar):
        toolbar.addSeparator()
        toolbar.addAction(self.act_train_mnist)
        toolbar.addAction(self.act_stop)

    # ------------------------------------------------------------------ building (after the engine loads)
    def build(self):
        """Make the panel and the result views; call once the engine is importable."""
        if self.panel is not None:
            return
        from visualkeras_app.training_ui.panel import TrainingPanel
        from visualkeras_app.training_ui.threads import reserve_cores_for_training

        w = self.window
        self.panel = TrainingPanel(model_provider=self._build_model, parent=w)
        # Before the GUI thread runs any torch op: its own OpenMP team would slow the training thread's.
        self.panel.worker.intra_op_threads = reserve_cores_for_training()
        self._reserved_cores = True
        self.panel.refresh_devices()
        self.training_dock.setWidget(self.panel)
        self.panel.run_finished.connect(self._on_run_finished)
        self.panel.results_ready.connect(self._on_results)
        self.panel.error.connect(lambda text: w.show_message(f"Training: {text}"))
        self.panel.settings_changed.connect(self._on_settings_changed)
        self.panel.fix_requested.connect(self.apply_fix)
        self.panel.evaluate_requested.connect(self.evaluate)
        self.panel.runs_view.run_removed.connect(self._on_run_removed)
        self.panel.worker.state_changed.connect(lambda _s: self._maybe_gradients())
        scene = getattr(w, "scene", None)
        if scene is not None:  # right-click on the layer a fix edits offers it there too
            scene.node_menu_providers = [*getattr(scene, "node_menu_providers", ()), self.fix_actions]
        self.panel.worker.state_changed.connect(lambda _s: self._update_actions())
        self._build_results()
        self.panel.model_name = self.model_name()
        self.load_document_settings()
        self.show_document_runs()
        self.check_fit()
        self._update_actions()
        if self._pending is not None:
            settings, self._pending = self._pending, None
            QTimer.singleShot(0, lambda: self._train_with(settings))

    def current_results_view(self):
        """The view in front in the Results dock (Test results, Draw a digit, Feature maps, ...), or None."""
        if self.results_tabs is None:
            return None
        page = self.results_tabs.currentWidget()
        return page_view(page) if page is not None else None

    def _build_results(self):
        tabs = QTabWidget()
        tabs.setDocumentMode(True)
        # Imported here, with the dock: the results views are built when training is first used.
        from visualkeras_app.results_ui.draw_pad import DrawPad
        from visualkeras_app.results_ui.feature_maps import FeatureMapView
        from visualkeras_app.results_ui.results_view import ResultsView

        # Each view scrolls when the dock is narrower than it needs: its minimum width (the matrix, the bars
        # and the enlarged digit side by side) would otherwise hold the whole right-hand dock column, the
        # Inspector's too, that wide and leave the canvas a third of a 1366-px screen.
        self.results_view = ResultsView()
        tabs.addTab(_scrolling(self.results_view), "Test results")
        self.draw_pad = DrawPad()
        # The pad's 280-px canvas and its bars would hold the dock (and the window) 460 px tall: in a
        # short dock it scrolls instead.
        tabs.addTab(_scrolling(self.draw_pad), "Draw a digit")
        self.feature_view = FeatureMapView()
        feature_page = _scrolling(self.feature_view)
        tabs.addTab(feature_page, "Feature maps")

        def show_maps(i):
            self.feature_view.show_index(i)
            tabs.setCurrentWidget(feature_page)

        self.results_view.image_chosen.connect(show_maps)
        self.results_tabs = tabs
        self.results_dock.setWidget(tabs)

    # ------------------------------------------------------------------ commands
    def train_on_mnist(self):
        """Ctrl+T: an empty document gets the fast MNIST template and the one-click recipe; otherwise the
        current model trains on MNIST with the panel's settings."""
        w = self.window
        doc = w.controller.document
        if not doc.nodes:
            # Read before the template replaces the document (and the panel shows its settings).
            samples = self.panel.samples_spin.value() if self.panel is not None else 0
            if not w.new_from_template(TEMPLATE_KEY):
                return False
            from visualkeras_app.training_ui.panel import one_click_settings

            settings = one_click_settings(max_train_samples=samples or None)
        else:
            settings = None
        return self._train_with(settings, dataset="mnist")

    def train(self):
        return self._train_with(None)

    def _train_with(self, settings, dataset=None):
        if self.panel is None:
            # Ctrl+T in the first second, before the engine loaded: train as soon as it has.
            self._pending = settings
            self.window.start()
            return True
        if dataset is not None and settings is None:
            settings = self.panel.settings()
            settings.dataset = dataset
        self.training_dock.show()
        self.training_dock.raise_()
        self._shown_training = True
        self._make_room_for_training()
        return self.panel.train(settings)

    def evaluate(self):
        """Evaluate the document's model with its trained weights on the test set, without training: the
        Results dock fills (test results, draw pad, feature maps) as after a run."""
        if self.panel is None or self.panel.worker.is_running():
            return False
        w = self.window
        doc = w.controller.document
        if not has_trained_weights(doc):
            w.show_message("There are no trained weights to evaluate: train the model first.")
            return False
        if (self._run_doc is doc and self._run_model is not None and self._run_signature is not None
                and self._run_signature == architecture(doc) and self.panel.worker.session is not None):
            model = self._run_model  # the last run's model itself: "more epochs" can still continue it
        else:
            try:
                from visualkeras_app.document.convert import document_to_model

                model = document_to_model(doc)
            except Exception as exc:  # the graph's problems, in plain words
                self.panel.show_problem(str(exc) or type(exc).__name__)
                return False
        self._run_doc, self._run_model = doc, model
        self.panel.model_name = self.model_name()
        self.training_dock.show()
        self.training_dock.raise_()
        return self.panel.evaluate(model)

    def stop(self):
        if self.panel is not None:
            self.panel.stop()

    def toggle_pause(self):
        if self.panel is not None:
            self.panel.toggle_pause()

    def shutdown(self, ms=3000):
        if self.panel is not None:
            self.panel.shutdown(ms)
        if self._reserved_cores:
            from visualkeras_app.training_ui.threads import release_cores

            self._reserved_cores = False
            release_cores()

    def _update_actions(self, trained=None):
        state = self.panel.worker.state if self.panel is not None else "idle"
        busy = state != "idle"
        self.act_train_mnist.setEnabled(not busy)
        self.act_train.setEnabled(not busy)
        self.act_stop.setEnabled(busy)
        self.act_pause.setEnabled(busy)
        doc = self.window.controller.document
        if trained is None:
            trained = has_trained_weights(doc)
        self.act_evaluate.setEnabled(not busy and trained)
        from visualkeras_app.document.blocks import fine_tune_candidates

        self.act_fine_tune.setEnabled(not busy and bool(doc.runs) and bool(fine_tune_candidates(doc)))

    # ------------------------------------------------------------------ model and document
    def fine_tune(self):
        """One click after a first run of a model with a frozen base: unfreeze the top frozen layers (one undo
        step), lower the learning rate tenfold, and train on from the document's current weights."""
        from visualkeras_app.document.blocks import unfreeze_top

        w = self.window
        doc = w.controller.document
        if self.panel is None or self.panel.worker.is_running():
            return False
        if not doc.runs or not has_trained_weights(doc):
            w.show_message("Fine-tuning continues a trained model: train it first (its head learns on the frozen "
                           "base), then fine-tune.")
            return False
        ids = unfreeze_top(w.controller)
        if not ids:
            w.show_message("There are no frozen layers to unfreeze.")
            return False
        settings = self.panel.settings()
        settings.learning_rate = max(settings.learning_rate / 10.0, 1e-6)
        self.panel.set_settings({"learning_rate": settings.learning_rate})
        self._continue_from_weights = True
        w.show_message(f"Fine-tuning: unfroze the top {len(ids)} frozen layers (BatchNormalization stays frozen); "
                       f"learning rate {settings.learning_rate:g}. Edit ▸ Undo freezes them again.")
        return self._train_with(settings)

    def _build_model(self):
        """A fresh model for the document (new weights: "Train" starts over; "more epochs" continues).
        Frozen layers keep their weights (a transfer-learning base's, loaded or trained), and fine-tuning
        (``fine_tune``) keeps every layer's."""
        from engine import backend

        from visualkeras_app.document.convert import document_to_model

        doc = self.window.controller.document
        backend.set_seed(int(self.panel.seed_spin.value()))
        keep_all, self._continue_from_weights = self._continue_from_weights, False
        saved = {nid: n.weights for nid, n in doc.nodes.items()}
        try:
            for n in doc.nodes.values():
                if not keep_all and n.config.get("trainable", True) is not False:
                    n.weights = None
            model = document_to_model(doc)
        finally:
            for nid, wts in saved.items():
                doc.nodes[nid].weights = wts
        doc.training = self.panel.settings().to_dict()
        self._run_doc, self._run_model = doc, model
        self._run_signature = architecture(doc)
        self.panel.model_name = self.model_name()
        return model

    def model_name(self) -> str:
        """The model as the window's title names it: the project file, else the template or imported file."""
        w = self.window
        return os.path.basename(w.path) if getattr(w, "path", None) else str(getattr(w, "display_name", "") or "")

    def write_back_weights(self, model=None) -> int:
        """Copy the trained weights into the document's nodes (so saving keeps them); the count copied."""
        model = model or self._run_model
        doc = self.window.controller.document
        if model is None or doc is not self._run_doc:
            return 0  # the user opened another document meanwhile
        by_name = {layer.name: layer for layer in getattr(model, "layers", [])}
        n = 0
        for node in doc.nodes.values():
            layer = by_name.get(node.name)
            if layer is None:
                continue
            weights = layer.get_weights()
            if weights:
                node.weights = [w.copy() for w in weights]
                n += 1
        if n:
            self.window.mark_unsaved()
        return n

    def _on_run_finished(self, record):
        self._keep_run(record)
        n = self.write_back_weights()
        inspector = getattr(self.window, "inspector", None)
        if n and inspector is not None and hasattr(inspector, "refresh_weights"):
            inspector.refresh_weights()  # the selected layer's weight statistics are the trained ones now
        self._update_weight_actions()
        acc = getattr(record, "test_accuracy", None)
        text = f"Training finished: test accuracy {acc * 100:.2f}%" if isinstance(acc, float) else "Training ended"
        self.window.show_message(text + (f"; trained weights kept in {n} layers" if n else ""))

    def _maybe_gradients(self):
        """Once the worker is idle after results (the training thread done with the model): each layer's gradient
        on a batch of training data onto its node, for the Inspector's gradient histograms."""
        pending = getattr(self, "_gradients_pending", None)
        if pending is None or self.panel.worker.is_running():
            return
        self._gradients_pending = None
        model, prepared = pending
        doc = self.window.controller.document
        if model is None or prepared is None or doc is not self._run_doc and self._run_doc is not None:
            return
        try:
            from visualkeras_app.training.gradients import layer_gradients

            grads = layer_gradients(model, prepared.x_train, prepared.y_train)
        except Exception:  # noqa: BLE001 - the histograms are optional; training's results stand
            return
        for node in doc.nodes.values():
            node.gradients = grads.get(node.name)
        inspector = getattr(self.window, "inspector", None)
        if inspector is not None and hasattr(inspector, "refresh_weights"):
            inspector.refresh_weights()

    def _keep_run(self, record):
        """The run joins its document's runs, which the project saves (a "more epochs" run is already there)."""
        doc = self.window.controller.document
        if doc is not self._run_doc:
            return
        if not getattr(record, "architecture", ""):
            # The model as it was when the run started (the canvas may have changed since).
            record.architecture = architecture_digest(doc, self._run_signature)
        if all(r is not record for r in doc.runs):
            doc.runs.append(record)
        number_versions(doc.runs)
        self.panel.runs_view.refresh()
        self.window.mark_unsaved()  # the project's runs changed: unsaved, though no edit was made

    def _on_run_removed(self, record):
        doc = self.window.controller.document
        if any(r is record for r in doc.runs):
            doc.runs = [r for r in doc.runs if r is not record]
            number_versions(doc.runs)
            self.panel.runs_view.refresh()
            self.window.mark_unsaved()

    def show_document_runs(self):
        """List the open document's saved runs (once per session) and plot the newest, as after training."""
        if self.panel is None:
            return
        doc = self.window.controller.document
        view = self.panel.runs_view
        runs = list(getattr(doc, "runs", []) or [])
        for i, record in enumerate(runs):
            listed = next((r for r in view.records if r is record or _same_run(r, record)), None)
            if listed is None:
                view.add_run(record)
            else:
                runs[i] = listed  # the one the list shows: removing it there drops it from the project
        doc.runs = runs
        number_versions(runs)
        view.refresh()
        self.panel.count_runs(len(view.records))
        if runs:
            self.panel.plots.show_record(runs[-1])

    def _on_results(self, results):
        if self._run_doc is not self.window.controller.document:
            return  # the run of a model that is no longer open
        worker = self.panel.worker
        model, prepared = worker.model, worker.prepared_data
        names = list(getattr(worker.dataset, "class_names", None) or [])
        for view in (self.results_view, self.draw_pad, self.feature_view):
            if view is None:
                continue
            try:
                view.set_model(model, prepared, names)
                if hasattr(view, "set_results"):
                    view.set_results(results)
            except Exception as exc:  # a view failing must not take training down
                self.window.show_message(f"Results view: {exc}")
        if self.results_view is not None:
            self.results_view.set_note(self._results_note(model, worker.last_record, results))
        self._gradients_pending = (model, prepared)
        self._maybe_gradients()
        if self.results_tabs is not None:
            self.results_dock.show()
            self.results_dock.raise_()
            self._make_room_for_results()

    # Heights the docks grow to the first time they come to the front, if the window has the room: the
    # Training panel when a run starts (its plots need the height), the Results dock after it (the confusion
    # matrix's cells then fit their counts); the bottom docks give way to the Results only down to
    # BOTTOM_KEEPS. Taller docks, later runs and a layout restored from the user's settings are left alone.
    TRAINING_HEIGHT = 360
    CANVAS_KEEPS = 420  # px of canvas width the Results dock leaves when it widens for its views
    RESULTS_HEIGHT = 480
    BOTTOM_KEEPS = 280

    def bottom_keeps(self) -> int:
        """The height the bottom docks keep when the Results dock takes room: `BOTTOM_KEEPS`, or less in a short
        window (30% of a 768-px one), where the results need the rest."""
        return min(self.BOTTOM_KEEPS, int(self.window.height() * 0.3))

    def _first_time(self, name):
        if name in self._sized or self.window.settings.value("window_state") is not None:
            return False
        self._sized.add(name)
        return True

    def _make_room_for_training(self):
        if not self._first_time("training"):
            return
        w, dock = self.window, self.training_dock
        QCoreApplication.sendPostedEvents(None, QEvent.LayoutRequest)
        want = min(self.TRAINING_HEIGHT, int(w.height() * 0.45))
        if not dock.isFloating() and w.dockWidgetArea(dock) == Qt.BottomDockWidgetArea and dock.height() < want:
            _resize_docks(w, [dock], [want])

    def _make_room_for_results(self):
        if not self._first_time("results"):
            return
        w, dock = self.window, self.results_dock
        # Lay out the raised tab first: until then a dock that was behind a tab reports an old size.
        QCoreApplication.sendPostedEvents(None, QEvent.LayoutRequest)
        # Wide enough for the matrix, the bars and the enlarged digit side by side (the views scroll in a
        # narrower dock), as far as the canvas keeps CANVAS_KEEPS px.
        need = self.results_view.minimumSizeHint().width() + 24 if self.results_view is not None else 0
        if not dock.isFloating() and need > dock.width() and w.dockWidgetArea(dock) in (
                Qt.LeftDockWidgetArea, Qt.RightDockWidgetArea):
            room = dock.width() + max(0, w.view.width() - self.CANVAS_KEEPS)
            if min(need, room) > dock.width():
                w.resizeDocks([dock], [min(need, room)], Qt.Horizontal)
                QCoreApplication.sendPostedEvents(None, QEvent.LayoutRequest)
        want = min(self.RESULTS_HEIGHT, int(w.height() * 0.6))
        short = want - dock.height()
        if dock.isFloating() or short <= 0 or w.dockWidgetArea(dock) not in (Qt.LeftDockWidgetArea,
                                                                              Qt.RightDockWidgetArea):
            return
        # The side column ends above the bottom docks (the Training panel, the Summary): they give way.
        # (A dock behind another's tab counts as visible, with an old size: only the tabs in front.)
        bottom = [d for d in w.findChildren(QDockWidget) if d.isVisible() and not d.visibleRegion().isEmpty()
                  and not d.isFloating() and w.dockWidgetArea(d) == Qt.BottomDockWidgetArea]
        keep = [max(d.minimumSizeHint().height(), self.bottom_keeps(), d.height() - short) for d in bottom]
        if any(k < d.height() for k, d in zip(keep, bottom)):
            _resize_docks(w, bottom, keep)

    @staticmethod
    def _results_note(model, record, results):
        """Advice shown over the results: a short run of a BatchNorm model (see `batchnorm_note`)."""
        if model is None or record is None:
            return None
        try:
            from visualkeras_app.training.results import batchnorm_note

            return batchnorm_note(model, record, getattr(results, "test_accuracy", None))
        except Exception:  # advice is optional
            return None

    def _on_settings_changed(self, d):
        self.window.controller.document.training = dict(d)
        self.schedule_fit_check()

    def schedule_fit_check(self):
        """Check again, shortly (after an edit's shapes are inferred, a data set or loss is chosen)."""
        if self.panel is not None:
            self._fit_timer.start()

    def check_fit(self, trained=None):
        """Show in the panel, before training, whether the model fits the chosen data set (see `fit_check`).
        ``trained``: ``has_trained_weights`` of the document when the caller knows it."""
        if self.panel is None:
            return None
        try:
            from visualkeras_app.training.data import BUILTIN
            from visualkeras_app.training.fit_check import fit_problem

            s = self.panel.settings()
            problem = fit_problem(self.window.controller.document, s.dataset, s.loss)
            name = BUILTIN.get(s.dataset, s.dataset)
        except Exception:  # advice only: training reports a mismatch itself
            problem, name = None, ""
        self.panel.show_fit_problem(problem, name)
        self._update_weight_actions(trained)
        return problem

    def _update_weight_actions(self, trained=None):
        """Evaluate needs trained weights that fit; "more epochs" needs the document's architecture unchanged
        since the run (else it would train, and write back, another model than the canvas shows).
        ``trained``: ``has_trained_weights`` of the document when the caller knows it."""
        doc = self.window.controller.document
        if trained is None:
            trained = has_trained_weights(doc)
        self.panel.set_can_evaluate(trained)
        idle = not self.panel.worker.is_running()
        if self._run_signature is not None and idle and architecture(doc) != self._run_signature:
            self._run_signature = None
            self.panel.drop_session()
        if idle and not trained and any(getattr(v, "model", None) is not None
                                        for v in (self.results_view, self.draw_pad, self.feature_view) if v):
            self.clear_results()  # they showed weights the document no longer has (Undo, then Evaluate)
            self.panel.clear_status()
        self._update_actions(trained)

    def fix_actions(self, node_id) -> list:
        """The node context menu's "Fix: …" entry when the before-training check's one-click fix edits this
        layer (the same fix as the Training panel's button), as (text, slot, tooltip)."""
        problem = getattr(self.panel, "_fit_problem", None) if self.panel is not None else None
        action = getattr(problem, "action", None)
        if not action or action[0] != node_id:
            return []
        text = f"Fix: {problem.action_text}" if problem.action_text else "Apply the Fix"
        return [(text, lambda: self.apply_fix(action), f"{problem.message} {problem.fix}".strip())]

    def apply_fix(self, action):
        """Apply a `FitProblem`'s action, ``(node_id, key, value)``, as one undoable edit."""
        node_id, key, value = action
        ctl = self.window.controller
        if node_id in ctl.document.nodes and ctl.set_param(node_id, key, value):
            node = ctl.document.nodes[node_id]
            self.window.show_message(f"Set {node.name}'s {key} to {value}: undo with Ctrl+Z.")
        self.check_fit()

    def document_replaced(self):
        """Another model is open: the panel and the result views show nothing of the previous one (a run in
        progress is stopped), and the panel shows the new model's saved training settings."""
        if self.panel is None:
            return
        was_running = self.panel.worker.is_running()
        self.panel.show_model(self.model_name(), self.window.controller.document.training or {})
        self.show_document_runs()
        self.clear_results()
        self._run_signature = None
        w = self.window
        doc = w.controller.document
        trained = has_trained_weights(doc)  # once for this handler (the fit check's actions need it too)
        if self.draw_pad is not None and trained:
            # Opened with trained weights: drawing works at once (the test results wait for Evaluate).
            try:
                from visualkeras_app.document.convert import document_to_model
                from visualkeras_app.document.prepared import take_model

                # The model the file was read into, when the window opened it on a worker (not built again).
                self.draw_pad.set_model(take_model(doc) or document_to_model(doc))
            except Exception:  # the draw pad stays off; Evaluate reports the problem
                self.draw_pad.set_model(None)
        w.statusBar().clearMessage()  # "Training finished: …" was about the previous model
        if self.results_dock in w.tabifiedDockWidgets(w.inspector_dock):
            w.inspector_dock.raise_()  # the empty Results tab must not hide the new model's Inspector
        if was_running:
            w.show_message("Training of the previous model stopped: another model was opened.")
        self.check_fit(trained)

    def clear_results(self):
        """Empty the Results dock's views (test results, draw pad, feature maps)."""
        for view in (self.results_view, self.draw_pad, self.feature_view):
            if view is None:
                continue
            if hasattr(view, "set_results"):
                view.set_results(None)
            view.set_model(None, None, [])

    def load_document_settings(self):
        """Show the current document's saved training settings in the panel."""
        if self.panel is None:
            return
        saved = self.window.controller.document.training or {}
        if saved:
            self.panel.set_settings(saved)


def has_trained_weights(doc) -> bool:
    """Every layer with weights has trained ones on its node, of the shapes the layer has now."""
    result = doc.result
    if result is None or not doc.nodes or getattr(result, "errors", None):
        return False
    # Shapes compared here: weights written back after a run are newer than the last inference's weights_ok.
    # The first layer without them answers (an untrained 20,000-layer model took 13 ms a call).
    weight_shapes, weighted = result.weight_shapes, False
    for n in doc.nodes.values():
        shapes = weight_shapes.get(n.id)
        if not shapes:
            continue
        if n.weights is None or len(n.weights) != len(shapes) \
                or any(tuple(a.shape) != tuple(s) for a, s in zip(n.weights, shapes)):
            return False
        weighted = True
    return weighted


def architecture(doc):
    """What the model computes, without positions or weights: changes when an edit changes the model."""
    import json

    nodes = sorted((n.id, n.class_name, n.name, json.dumps(n.config, sort_keys=True, default=str))
                   for n in doc.nodes.values())
    return tuple(nodes), tuple(sorted((e.src, e.dst, e.dst_port, e.src_port) for e in doc.edges))


def architecture_digest(doc, signature=None) -> str:
    """12 hex digits naming the model's `architecture` (or ``signature``, one taken earlier): runs of one model
    with different digests trained different versions of it."""
    import hashlib

    return hashlib.sha256(repr(signature or architecture(doc)).encode()).hexdigest()[:12]


def number_versions(runs):
    """Number the model versions a project's runs trained: ``version`` 1 for the first architecture, 2 for the
    next...; ``versions`` the count (runs without an architecture digest stay 0)."""
    order = []
    for r in runs:
        a = getattr(r, "architecture", "")
        if a and a not in order:
            order.append(a)
    for r in runs:
        a = getattr(r, "architecture", "")
        r.version = order.index(a) + 1 if a else 0
        r.versions = len(order) if a else 0


def _same_run(a, b) -> bool:
    """The same saved run read twice (a project opened again): same name, model and start time."""
    return (getattr(a, "name", None), getattr(a, "model", None), getattr(a, "started_at", None)) == \
        (getattr(b, "name", None), getattr(b, "model", None), getattr(b, "started_at", None))


def hide_orphan_tab_bars(window) -> int:
    """Hide dock tab bars that QMainWindowLayout left behind; the number hidden.

    Qt 6.12 sometimes keeps an old copy of a dock group's tab bar visible at a stale place (over the
    palette or the canvas) after the docks are tabified or the window is resized before it is shown. The
    bar the layout uses touches the dock it switches (just below or above it); a copy that touches none of
    its group's docks is an orphan.
    """
    from PySide6.QtWidgets import QTabBar

    docks = {d.windowTitle(): d for d in window.findChildren(QDockWidget) if d.isVisible()}
    hidden = 0
    for bar in window.findChildren(QTabBar):
        if bar.parent() is not window or not bar.isVisible():
            continue
        g = bar.geometry()
        touching = False
        for i in range(bar.count()):
            d = docks.get(bar.tabText(i))
            if d is None:
                continue
            dg = d.geometry()
            overlap = min(g.right(), dg.right()) - max(g.left(), dg.left()) > 0
            if overlap and (abs(g.top() - dg.bottom()) <= 6 or abs(g.bottom() - dg.top()) <= 6):
                touching = True
                break
        if not touching:
            bar.hide()
            hidden += 1
    return hidden


def _resize_docks(window, docks, heights):
    """``window.resizeDocks`` to these heights, vertically. Qt counts what surrounds a dock (a tab bar under
    tabbed ones) its own way: size, look, and correct once by what was missed."""
    window.resizeDocks(docks, list(heights), Qt.Vertical)
    QCoreApplication.sendPostedEvents(None, QEvent.LayoutRequest)
    window.resizeDocks(docks, [2 * h - d.height() for h, d in zip(heights, docks)], Qt.Vertical)
    QCoreApplication.sendPostedEvents(None, QEvent.LayoutRequest)


def page_view(page):
    """The view a Results tab shows (the widget inside its scroll area)."""
    from PySide6.QtWidgets import QScrollArea

    return page.widget() if isinstance(page, QScrollArea) else page


def _scrolling(widget):
    """``widget`` in a frameless scroll area that gives it all the room there is, and scroll bars when there is
    less than its minimum size."""
    from PySide6.QtWidgets import QFrame, QScrollArea

    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.NoFrame)
    return area


def fit_to_screen(window, real_screens_only=True) -> bool:
    """Shrink ``window`` back onto its screen: shown before the docks were tabified, the stacked docks' minimum
    heights grew it past a 768-px screen (1366x821), and tabified they no longer need that. True if resized.
    Not on the offscreen platform (tests and scripts size their windows past its 800x600 screen on purpose)
    unless ``real_screens_only`` is False."""
    from PySide6.QtGui import QGuiApplication

    if real_screens_only and QGuiApplication.platformName() in ("offscreen", "minimal"):
        return False
    screen = window.screen()
    if screen is None or window.isMaximized() or window.isFullScreen():
        return False
    avail = screen.availableGeometry()
    frame_extra = max(window.frameGeometry().height() - window.height(), 0)
    least = window.minimumSizeHint()
    if least.width() > avail.width() or least.height() > avail.height() - frame_extra:
        return False  # it cannot fit this screen anyway (a small test screen): leave it as it is
    w = min(window.width(), avail.width())
    h = min(window.height(), avail.height() - frame_extra)
    if (w, h) == (window.width(), window.height()):
        return False
    window.resize(w, h)
    return True
