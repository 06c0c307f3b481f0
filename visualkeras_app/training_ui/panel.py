"""`TrainingPanel`: the "Training" dock: settings, Train/Pause/Stop/"Train N more epochs", the progress line,
the preprocessing that was applied (or why the data set does not fit the model), live plots and the run list.
"""
from __future__ import annotations

import math
import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QFrame, QHBoxLayout, QLabel,
                               QProgressBar, QPushButton, QScrollArea, QSizePolicy, QSpinBox, QSplitter,
                               QVBoxLayout, QWidget)

from visualkeras_app.training.precision import PRECISIONS
from visualkeras_app.training.precision import TITLES as PRECISION_TITLES
from visualkeras_app.training_ui.plots import TrainingPlots
from visualkeras_app.training_ui.runs_view import RunsView
from visualkeras_app.training_ui.worker import IDLE, PAUSED, PREPARING, RUNNING, STOPPING, TrainingWorker

DATASETS = (("MNIST", "mnist"), ("Fashion-MNIST", "fashion_mnist"))
OPEN_DATASET = "Open .npz/.csv…"
OPEN_FOLDER = "Open image folder…"
LOSSES = ("auto", "sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy",
          "mean_squared_error")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "nadam", "adagrad", "adamax", "adadelta")
SCHEDULES = (("One-cycle", "one_cycle"), ("Constant", "constant"))
DEVICE_NAMES = {"cpu": "CPU", "cuda": "CUDA (GPU)", "mps": "MPS (Apple GPU)"}
IDLE_STATUS = "Pick a data set and press Train, or use Train ▸ Train on MNIST (Ctrl+T)."
NOT_TRAINED_STATUS = "Not trained: the box below says why."


def _settings_class():
    from visualkeras_app.training.settings import TrainSettings

    return TrainSettings


def one_click_settings(**overrides):
    """The one-click MNIST recipe (``training.recipe``: Adam + one-cycle, one epoch) from the training core."""
    from visualkeras_app.training.recipe import one_click_settings as recipe

    return recipe(**overrides)


def format_eta(seconds) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "—"
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class TrainingPanel(QWidget):
    """The Training dock's contents.

    Args:
        model_provider: a callable returning the engine model to train (the main window builds it from
            the document); it raises ValueError with a readable message when the graph has problems.
        worker: a `TrainingWorker` (one is made when None).

    Signals:
        run_finished(RunRecord): a run ended (completed, stopped or NaN); the model holds its weights. Not
            sent for a run that `show_model` detached (another model was opened meanwhile).
        results_ready(object): the test-set `Results` of the run, for the Results dock.
        error(str): training could not start or failed; the message is also shown in the panel.
        settings_changed(dict): the user changed a setting (saved with the document).
        evaluate_requested(): the user clicked Evaluate (the window builds the model with its weights and calls
            `evaluate`).
        fix_requested(tuple): the user clicked the fix of a `FitProblem` shown with `show_fit_problem`: its
            ``action``, ``(node_id, key, value)``, for the window to apply to the document.
    """

    run_finished = Signal(object)
    results_ready = Signal(object)
    error = Signal(str)
    settings_changed = Signal(dict)
    fix_requested = Signal(object)
    evaluate_requested = Signal()

    def __init__(self, model_provider=None, worker=None, parent=None):
        super().__init__(parent)
        self.model_provider = model_provider
        self.worker = worker if worker is not None else TrainingWorker(parent=self)
        self._run_count = 0
        self._loading = False
        self._progress_text = ""  # the progress line without "Paused · "
        self.model_name = ""  # the model the next run trains, for the Runs table (set by the window)
        self._run_model_name = ""
        # True from `show_model` (another model opened) until the old run has ended: its last events are
        # not shown (its record still joins the run list, under its own model's name).
        self._detached = False
        self._evaluating = False
        self._can_evaluate = False  # the document has trained weights (set by the window)
        self._build()
        self._initial_settings = self.settings().to_dict()
        self._connect_worker()
        self._update_buttons()

    # ------------------------------------------------------------------ construction
    def _build(self):
        outer = QHBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        splitter = QSplitter(Qt.Horizontal, self)
        outer.addWidget(splitter)

        form_host = QWidget()
        form = QFormLayout(form_host)
        form.setContentsMargins(2, 2, 6, 2)
        form.setVerticalSpacing(3)
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        self.dataset_combo = QComboBox()
        for title, key in DATASETS:
            self.dataset_combo.addItem(title, key)
        self.dataset_combo.addItem(OPEN_DATASET, None)
        self.dataset_combo.addItem(OPEN_FOLDER, None)
        self.dataset_combo.setToolTip("MNIST and Fashion-MNIST are built in; your own data: an .npz with "
                                      "x_train/y_train/x_test/y_test, a CSV with the label first, or a folder "
                                      "with one subfolder of images per class (Dataset ▸ Image Folder… previews "
                                      "it)")
        self.dataset_combo.activated.connect(self._on_dataset_activated)
        self.loss_combo = self._combo(LOSSES, "The loss; auto picks sparse categorical cross-entropy for a "
                                              "softmax output with integer labels")
        self.optimizer_combo = self._combo(OPTIMIZERS, "The optimizer")
        self.lr_spin = QDoubleSpinBox()
        self.lr_spin.setDecimals(5)
        self.lr_spin.setRange(1e-5, 10.0)
        self.lr_spin.setSingleStep(1e-4)
        self.lr_spin.setValue(1e-3)
        self.lr_spin.setToolTip("The learning rate (the peak rate with the one-cycle schedule)")
        self.schedule_combo = QComboBox()
        for title, key in SCHEDULES:
            self.schedule_combo.addItem(title, key)
        self.schedule_combo.setToolTip("One-cycle: warm up to the learning rate, then anneal to almost zero "
                                       "(fast, robust); constant: the same rate throughout")
        self.epochs_spin = self._spin(1, 100000, 1, "Epochs to train")
        self.batch_spin = self._spin(1, 65536, 64, "Samples per batch")
        self.val_spin = QDoubleSpinBox()
        self.val_spin.setRange(0.0, 0.9)
        self.val_spin.setSingleStep(0.05)
        self.val_spin.setDecimals(2)
        self.val_spin.setValue(0.1)
        self.val_spin.setToolTip("The fraction of the training data held out to validate after each epoch")
        self.seed_spin = self._spin(0, 2**31 - 1, 0, "Random seed: the same seed gives the same run")
        self.device_combo = QComboBox()
        self.device_combo.addItem("CPU", "cpu")
        self.device_combo.setToolTip("Where to train: CUDA or MPS appear when this machine has them")
        self.precision_combo = QComboBox()
        for key in PRECISIONS:
            self.precision_combo.addItem(PRECISION_TITLES[key], key)
        self.precision_combo.setCurrentIndex(self.precision_combo.findData("float32"))
        self.precision_combo.setToolTip(
            "The precision the run computes in (the model's weights stay float32, and the model keeps its own "
            "policies after the run). Mixed bfloat16/float16: Keras's mixed policies, faster where the device "
            "multiplies them in hardware. Auto: mixed bfloat16 on a CPU with AMX (Intel Xeon from the 4th "
            "generation on) or an NVIDIA GPU from Ampere on, float32 elsewhere")
        self.samples_spin = self._spin(0, 10_000_000, 0, "Train on at most this many samples (0: all of them)")
        self.samples_spin.setSpecialValueText("all")
        self.samples_spin.setSingleStep(1000)
        for combo in (self.dataset_combo, self.loss_combo, self.optimizer_combo, self.schedule_combo,
                      self.device_combo, self.precision_combo):
            self._narrow(combo)
        for label, w in (("Dataset", self.dataset_combo), ("Loss", self.loss_combo),
                         ("Optimizer", self.optimizer_combo), ("Learning rate", self.lr_spin),
                         ("Schedule", self.schedule_combo), ("Epochs", self.epochs_spin),
                         ("Batch size", self.batch_spin), ("Validation split", self.val_spin),
                         ("Seed", self.seed_spin), ("Device", self.device_combo),
                         ("Precision", self.precision_combo), ("Samples", self.samples_spin)):
            form.addRow(label, w)
        for w in (self.loss_combo, self.optimizer_combo, self.schedule_combo, self.device_combo,
                  self.precision_combo):
            w.currentIndexChanged.connect(self._emit_settings)
        for w in (self.lr_spin, self.epochs_spin, self.batch_spin, self.val_spin, self.seed_spin,
                  self.samples_spin):
            w.valueChanged.connect(self._emit_settings)
        scroll = QScrollArea()
        scroll.setWidget(form_host)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)  # the fields shrink instead
        scroll.setMinimumWidth(200)  # with the runs' 170 and the buttons' row: a 1366-px screen
        splitter.addWidget(scroll)

        middle = QWidget()
        mid = QVBoxLayout(middle)
        mid.setContentsMargins(4, 0, 4, 0)
        mid.setSpacing(3)
        row = QHBoxLayout()
        self.train_button = QPushButton("Train")
        self.train_button.setToolTip("Train the model on the chosen data set")
        self.train_button.setDefault(True)
        # ``clicked`` sends Qt's ``checked`` bool: train() must get no argument (not settings=False).
        self.train_button.clicked.connect(lambda _checked=False: self.train())
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Pause between batches; Resume continues the same run")
        self.pause_button.clicked.connect(lambda _checked=False: self.toggle_pause())
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop before the next batch; the model keeps what it learned")
        self.stop_button.clicked.connect(lambda _checked=False: self.stop())
        self.more_spin = self._spin(1, 10000, 1, "How many more epochs")
        self.more_button = QPushButton("more epochs")
        self.more_button.setToolTip("Continue the last run from where it stopped")
        self.more_button.clicked.connect(lambda _checked=False: self.train_more(self.more_spin.value()))
        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.setToolTip("Evaluate the model's trained weights on the test set, without training "
                                        "(a model opened with weights, or one trained here)")
        self.evaluate_button.clicked.connect(lambda _checked=False: self.evaluate_requested.emit())
        for w in (self.train_button, self.pause_button, self.stop_button, self.evaluate_button):
            row.addWidget(w)
        row.addSpacing(4)  # the row sets the window's minimum width: it must fit a 1366-px laptop screen
        row.addWidget(QLabel("Train"))
        row.addWidget(self.more_spin)
        row.addWidget(self.more_button)
        row.addStretch(1)
        mid.addLayout(row)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setValue(0)
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setFormat("Ready")
        self.progress_bar.setMaximumHeight(18)
        self.progress_bar.setMinimumWidth(120)
        mid.addWidget(self.progress_bar)
        self.status_label = QLabel(IDLE_STATUS)
        self.status_label.setStyleSheet("color:#555")
        self.status_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.status_label.setWordWrap(True)  # long messages wrap instead of widening the dock
        mid.addWidget(self.status_label)
        self.steps_label = QLabel("")
        self.steps_label.setWordWrap(True)
        self.steps_label.setStyleSheet("color:#2E5E2E")
        self.steps_label.setToolTip("What was done to the data so that it fits the model")
        self.steps_label.hide()
        mid.addWidget(self.steps_label)
        self.problem_label = QLabel("")
        self.problem_label.setWordWrap(True)
        self.problem_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.problem_label.setStyleSheet("QLabel{background:#FDECEA;color:#8A1C12;border:1px solid #F1B0A8;"
                                         "border-radius:3px;padding:4px}")
        self.problem_label.hide()
        mid.addWidget(self.problem_label)
        # Before training: the model does not fit the data set (from the shapes), and the one-click fix.
        self.fit_box = QFrame()
        self.fit_box.setObjectName("fit_box")
        self.fit_box.setStyleSheet("QFrame#fit_box{background:#FFF4DC;border:1px solid #E8C77A;border-radius:3px}"
                                   "QLabel{color:#5C3D00}")
        fit_row = QHBoxLayout(self.fit_box)
        fit_row.setContentsMargins(6, 3, 6, 3)
        self.fit_label = QLabel("")
        self.fit_label.setWordWrap(True)
        self.fit_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.fix_button = QPushButton("")
        self.fix_button.setToolTip("Make this change to the model (Undo takes it back)")
        self.fix_button.clicked.connect(lambda _checked=False: self._request_fix())
        fit_row.addWidget(self.fit_label, 1)
        fit_row.addWidget(self.fix_button, 0, Qt.AlignVCenter)
        self.fit_box.hide()
        self._fit_problem = None
        mid.addWidget(self.fit_box)
        self.plots = TrainingPlots()
        self.plots.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        mid.addWidget(self.plots, 1)
        splitter.addWidget(middle)

        self.runs_view = RunsView()
        self.runs_view.setMinimumWidth(170)
        self.runs_view.overlay_changed.connect(self.plots.set_overlays)
        splitter.addWidget(self.runs_view)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setStretchFactor(2, 0)
        splitter.setSizes([250, 700, 420])
        self.splitter = splitter

    @staticmethod
    def _combo(items, tip):
        c = QComboBox()
        for it in items:
            c.addItem(it, it)
        c.setToolTip(tip)
        return c

    @staticmethod
    def _narrow(combo, chars=8):
        """Let ``combo`` be narrower than its longest item ("sparse_categorical_crossentropy"): the form
        column fits the dock; the list that drops down stays wide enough to read."""
        combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(chars)
        combo.view().setMinimumWidth(combo.view().sizeHintForColumn(0) + 24)

    @staticmethod
    def _spin(lo, hi, value, tip):
        s = QSpinBox()
        s.setRange(lo, hi)
        s.setValue(value)
        s.setToolTip(tip)
        return s

    def _connect_worker(self):
        w = self.worker
        w.batches.connect(self._on_batches)
        w.progress.connect(self._on_progress)
        w.epoch_ended.connect(self._on_epoch)
        w.prepared.connect(self._on_prepared)
        w.mismatch.connect(self._on_mismatch)
        w.message.connect(self._on_message)
        w.error.connect(self._on_error)
        w.finished.connect(self._on_finished)
        w.results_ready.connect(self._on_results)
        w.state_changed.connect(self._on_state)

    # ------------------------------------------------------------------ settings
    def settings(self):
        """The `TrainSettings` the widgets describe."""
        return _settings_class()(
            dataset=self.dataset_combo.currentData() or "mnist",
            loss=self.loss_combo.currentData(),
            optimizer=self.optimizer_combo.currentData(),
            learning_rate=float(self.lr_spin.value()),
            epochs=int(self.epochs_spin.value()),
            batch_size=int(self.batch_spin.value()),
            validation_split=float(self.val_spin.value()),
            seed=int(self.seed_spin.value()),
            device=self.device_combo.currentData() or "cpu",
            schedule=self.schedule_combo.currentData(),
            max_train_samples=int(self.samples_spin.value()) or None,
            precision=self.precision_combo.currentData(),
        )

    def set_settings(self, settings):
        """Show ``settings`` (a `TrainSettings` or its dict, e.g. a document's saved ``training``)."""
        d = settings if isinstance(settings, dict) else settings.to_dict()
        self._loading = True
        try:
            if d.get("dataset"):
                self.set_dataset(d["dataset"])
            for combo, key in ((self.loss_combo, "loss"), (self.optimizer_combo, "optimizer"),
                               (self.schedule_combo, "schedule"), (self.device_combo, "device"),
                               (self.precision_combo, "precision")):
                if d.get(key) is not None:
                    i = combo.findData(d[key])
                    if i >= 0:
                        combo.setCurrentIndex(i)
            for spin, key in ((self.lr_spin, "learning_rate"), (self.epochs_spin, "epochs"),
                              (self.batch_spin, "batch_size"), (self.val_spin, "validation_split"),
                              (self.seed_spin, "seed")):
                if d.get(key) is not None:
                    spin.setValue(d[key])
            if "max_train_samples" in d:
                self.samples_spin.setValue(int(d["max_train_samples"] or 0))
        finally:
            self._loading = False

    def set_dataset(self, name_or_path):
        """Select a built-in data set by key, or a user file by path (added to the list)."""
        i = self.dataset_combo.findData(name_or_path)
        if i < 0:
            i = next(k for k in range(self.dataset_combo.count())
                     if self.dataset_combo.itemData(k) is None)  # before "Open…"
            self.dataset_combo.insertItem(i, os.path.basename(str(name_or_path)), str(name_or_path))
            self.dataset_combo.setItemData(i, str(name_or_path), Qt.ToolTipRole)
        self.dataset_combo.setCurrentIndex(i)
        self._emit_settings()

    def _on_dataset_activated(self, index):
        if self.dataset_combo.itemData(index) is not None:
            self._emit_settings()
            return
        if self.dataset_combo.itemText(index) == OPEN_FOLDER:
            folder = QFileDialog.getExistingDirectory(self, "Open an image folder (one subfolder per class)")
            if folder:
                try:  # its shape, for the before-training check (a bad folder is reported when training)
                    from visualkeras_app.training.fit_check import remember_shape
                    from visualkeras_app.training.folder_data import scan_folder

                    summary = scan_folder(folder, samples_per_class=0)
                    remember_shape(os.path.abspath(folder), summary.sample_shape, len(summary.class_names))
                except ValueError:
                    pass
                self.set_dataset(os.path.abspath(folder))
            else:
                self.dataset_combo.setCurrentIndex(0)
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open a data set", "",
                                              "Data sets (*.npz *.csv);;All files (*)")
        if path:
            self.set_dataset(path)
        else:
            self.dataset_combo.setCurrentIndex(0)

    def set_devices(self, devices):
        """Fill the device list (``engine.backend.available_devices()``)."""
        current = self.device_combo.currentData()
        self.device_combo.blockSignals(True)
        self.device_combo.clear()
        for d in devices:
            self.device_combo.addItem(DEVICE_NAMES.get(d, d), d)
        i = self.device_combo.findData(current)
        self.device_combo.setCurrentIndex(max(i, 0))
        self.device_combo.blockSignals(False)

    def refresh_devices(self):
        try:
            from engine.backend import available_devices

            self.set_devices(available_devices())
        except Exception:  # CPU stays available
            pass

    def _emit_settings(self, *_):
        if not self._loading:
            self.settings_changed.emit(self.settings().to_dict())

    # ------------------------------------------------------------------ commands
    def train(self, settings=None) -> bool:
        """Start a run with the panel's settings (or ``settings``, which the panel then shows)."""
        if self.worker.is_running():
            return False
        if settings is not None:
            self.set_settings(settings)
        self._clear_notes()
        try:
            settings = self.settings()
            if self.model_provider is None:
                raise ValueError("There is no model to train.")
            model = self.model_provider()
        except Exception as exc:  # the graph's problems, in plain words
            self.show_problem(str(exc) or type(exc).__name__)
            self.status_label.setText(NOT_TRAINED_STATUS)
            self.error.emit(str(exc))
            return False
        self.plots.reset()
        self.progress_bar.setValue(0)
        self._progress_text = ""
        self.steps_label.hide()
        name = self.dataset_combo.currentText() if settings.dataset == self.dataset_combo.currentData() \
            else settings.dataset
        self.status_label.setText(f"Training on {name}…")
        self._epochs_total = settings.epochs
        self._run_model_name = self.model_name
        self._detached = False
        return self.worker.start(model, settings)

    def evaluate(self, model) -> bool:
        """Evaluate ``model`` (with its weights) on the test set of the panel's data set, without training."""
        if self.worker.is_running():
            return False
        self._clear_notes()
        settings = self.settings()
        self.steps_label.hide()
        self.progress_bar.setValue(0)
        self._progress_text = "Evaluating on the test set…"
        name = self.dataset_combo.currentText() if settings.dataset == self.dataset_combo.currentData() \
            else settings.dataset
        self.status_label.setText(f"Evaluating on the {name} test set (no training)…")
        self._evaluating = True
        self._detached = False
        if not self.worker.evaluate(model, settings):
            self._evaluating = False
            return False
        return True

    def clear_status(self):
        """Back to "Ready" (the weights the status spoke of are gone); the plots and the run list stay."""
        if self.worker.is_running():
            return
        self.progress_bar.setValue(0)
        self._progress_text = ""
        self.progress_bar.setFormat("Ready")
        self.status_label.setText(IDLE_STATUS)

    def set_can_evaluate(self, on):
        """Whether the document has trained weights to evaluate (the Evaluate button)."""
        self._can_evaluate = bool(on)
        self._update_buttons()

    def drop_session(self):
        """The document changed so that "more epochs" would train another model than it shows: disable it."""
        if self.worker.forget():
            self._update_buttons()

    def train_more(self, epochs=None) -> bool:
        epochs = int(epochs or self.more_spin.value())
        self._clear_notes()
        self._epochs_total = epochs
        self._progress_text = ""
        return self.worker.train_more(epochs)

    def stop(self):
        self.worker.stop()

    def toggle_pause(self):
        if self.worker.is_paused():
            self.worker.resume()
        else:
            self.worker.pause()

    def shutdown(self, ms=3000):
        return self.worker.shutdown(ms)

    def show_model(self, name="", settings=None):
        """Another model is in the window: show none of the previous model's run (plots, progress, status,
        notes), show ``settings`` (its saved training settings, over the panel's defaults), and let
        "more epochs" not continue the old model. A run in progress is stopped; its record still joins the
        run list under the old model's name."""
        self.model_name = str(name or "")
        if self.worker.is_running():
            self._detached = True
            self.worker.stop()
            if self.worker.session is not None:
                self.worker.session.resume()  # a paused run must wake up to stop
        else:
            self.worker.forget()
        self.plots.reset()
        self.progress_bar.setValue(0)
        self._progress_text = ""
        self.progress_bar.setFormat("Ready")
        self.status_label.setText(IDLE_STATUS)
        self.steps_label.hide()
        self.steps_label.setText("")
        self._clear_notes()
        self.set_settings({**self._initial_settings, **dict(settings or {})})
        self._update_buttons()

    # ------------------------------------------------------------------ worker events
    def _on_state(self, state):
        if self._detached:
            if state == IDLE:  # the old model's run has ended: nothing of it stays
                self._detached = self._evaluating = False
                self.worker.forget()
            self._update_buttons()
            return
        self._update_buttons()
        if self._evaluating:
            if state in (PREPARING, RUNNING):
                self.progress_bar.setFormat("Evaluating on the test set…")
            elif state == IDLE:
                self._evaluating = False
                if self.progress_bar.format().startswith("Evaluating"):
                    self.progress_bar.setFormat("Ready")
            return
        if state == PREPARING:
            self._progress_text = "Preparing the data…"
        elif state == RUNNING and self._progress_text in ("", "Preparing the data…"):
            self._progress_text = "Starting…"
        if state in (PREPARING, RUNNING):
            self.progress_bar.setFormat(self._progress_text)  # also drops "Paused · " on Resume
        elif state == PAUSED:
            self.progress_bar.setFormat("Paused · " + self._progress_text)
        elif state == STOPPING:
            self.progress_bar.setFormat("Stopping…")
        elif state == IDLE and self.progress_bar.format() in ("Preparing the data…", "Starting…", "Stopping…"):
            self.progress_bar.setFormat("Ready")

    def _update_buttons(self):
        state = self.worker.state
        busy = state != IDLE
        self.train_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy and state != STOPPING)
        self.pause_button.setEnabled(state in (RUNNING, PAUSED, PREPARING))
        self.pause_button.setText("Resume" if state == PAUSED else "Pause")
        can_more = not busy and self.worker.session is not None
        self.evaluate_button.setEnabled(not busy and self._can_evaluate)
        self.more_button.setEnabled(can_more)
        self.more_spin.setEnabled(can_more)

    def _on_batches(self, chunk):
        if not self._detached:
            self.plots.add_batches(chunk)

    def _on_results(self, results):
        if self._detached:
            return
        if self._evaluating:
            acc, loss = getattr(results, "test_accuracy", None), getattr(results, "test_loss", None)
            parts = []
            if isinstance(acc, float):
                parts.append(f"test accuracy <b>{acc * 100:.2f}%</b>")
            if isinstance(loss, float):
                parts.append(f"test loss {loss:.4f}")
            self.status_label.setText("Evaluated (the model's own weights, no training): " + " · ".join(parts))
            self.progress_bar.setValue(1000)
            self.progress_bar.setFormat("Evaluated · " + (f"test accuracy {acc * 100:.2f}%" if isinstance(acc, float)
                                                          else ""))
        self.results_ready.emit(results)

    def _on_progress(self, p):
        if self._detached:
            return
        epochs = max(1, int(getattr(p, "epochs", 1) or 1))
        batches = max(1, int(getattr(p, "batches", 1) or 1))
        epoch = int(getattr(p, "epoch", 0) or 0)
        batch = int(getattr(p, "batch", 0) or 0)
        phase = getattr(p, "phase", "train")
        # Progress counts epochs from 1 when epoch reaches epochs (the last one); keep it 1-based for people.
        shown_epoch = epoch if 1 <= epoch <= epochs and getattr(p, "one_based", True) else epoch + 1
        done = ((shown_epoch - 1) * batches + batch) / (epochs * batches)
        self.progress_bar.setValue(int(max(0.0, min(1.0, done)) * 1000))
        sps = getattr(p, "samples_per_s", None)
        sps_text = f"{sps:,.0f} samples/s" if isinstance(sps, (int, float)) and math.isfinite(sps) and sps > 0 \
            else "— samples/s"
        eta = f"ETA {format_eta(getattr(p, 'eta_s', None))}"
        if phase == "test":
            text = "Evaluating on the test set…"
        elif phase == "validate":
            text = f"Epoch {shown_epoch}/{epochs} · validating… · {eta}"
        else:
            text = f"Epoch {shown_epoch}/{epochs} · batch {batch}/{batches} · {sps_text} · {eta}"
        self._progress_text = text
        self.progress_bar.setFormat(("Paused · " + text) if self.worker.is_paused() else text)

    def _on_epoch(self, epoch, logs):
        if self._detached:
            return
        self.plots.add_epoch(epoch, logs)
        parts = [f"{k} {v:.4f}" for k, v in sorted(logs.items()) if isinstance(v, float)
                 and k in ("loss", "accuracy", "val_loss", "val_accuracy")]
        self.status_label.setText(f"Epoch {epoch + 1}: " + " · ".join(parts))

    def _on_prepared(self, prepared):
        if self._detached:
            return
        steps = list(getattr(prepared, "steps", []) or [])
        if steps:
            self.steps_label.setText("Preprocessing: " + " · ".join(steps))
            self.steps_label.show()

    def _on_mismatch(self, text, fix):
        if self._detached:
            return
        # Not "Training on MNIST…" beside a "Ready" bar.
        self.status_label.setText("Not evaluated: the box below says why." if self._evaluating else NOT_TRAINED_STATUS)
        self.show_problem(text + (f"<br><b>Fix:</b> {fix}" if fix else ""))
        self.error.emit(text)

    def _on_message(self, text):
        if self._detached:
            return
        self.status_label.setText(text)

    def _on_error(self, text):
        if self._detached:
            return
        text = str(text)
        self.status_label.setText("Training failed: the box below says why.")
        self.show_problem(text if text.startswith("Training failed") else f"Training failed: {text}")
        self.error.emit(text)

    def _on_finished(self, record):
        if record is None:
            return
        if record not in self.runs_view.records:
            self._run_count += 1
            if not getattr(record, "name", None):
                try:
                    record.name = f"run {self._run_count}"
                except AttributeError:
                    pass
            if not getattr(record, "model", ""):
                try:
                    record.model = self._run_model_name
                except AttributeError:
                    pass
        self.runs_view.add_run(record)
        if self._detached:  # listed, but the window shows another model now: run_finished is not for it
            return
        acc, loss = getattr(record, "test_accuracy", None), getattr(record, "test_loss", None)
        reason = getattr(record, "stopped_reason", None)
        parts = []
        if isinstance(acc, (int, float)):
            parts.append(f"test accuracy <b>{acc * 100:.2f}%</b>")
        if isinstance(loss, (int, float)):
            parts.append(f"test loss {loss:.4f}")
        dur = getattr(record, "duration_s", None)
        if isinstance(dur, (int, float)):
            parts.append(f"{dur:.1f} s")
        head = "Stopped" if reason and reason not in ("completed", "finished") else "Done"
        self.status_label.setText(f"{head}: " + " · ".join(parts) + (f" ({reason})" if reason and head ==
                                                                      "Stopped" else ""))
        if head == "Done":
            self.progress_bar.setValue(1000)
        self.progress_bar.setFormat(f"{head} · " + (f"test accuracy {acc * 100:.2f}%" if isinstance(acc, float)
                                                     else ""))
        self.run_finished.emit(record)
        self._update_buttons()

    # ------------------------------------------------------------------ notes
    def _clear_notes(self):
        self.problem_label.hide()
        self.problem_label.setText("")

    def count_runs(self, n):
        """``n`` runs are already listed (a project's saved runs): the next run is named after them."""
        self._run_count = max(self._run_count, int(n))

    def show_problem(self, html):
        """Show why training cannot start or failed (rich text), above the plots."""
        self.problem_label.setText(html)
        self.problem_label.show()

    def show_fit_problem(self, problem, dataset_name="the data set"):
        """Show a `FitProblem` (the model does not fit the data set) before any training, with its one-click
        fix when it has one; None hides it."""
        self._fit_problem = problem
        if problem is None:
            self.fit_box.hide()
            return
        fix = problem.fix[:1].upper() + problem.fix[1:] if problem.fix else ""
        # With a fix button the button says the fix (its tooltip the whole sentence): the note stays three
        # lines, which a short dock has room for beside the plots.
        self.fit_label.setText(f"<b>Before training on {dataset_name}:</b> {problem.message}"
                               + (f"<br><b>Fix:</b> {fix}" if fix and problem.action is None else ""))
        self.fit_label.setToolTip(f"Fix: {fix}" if fix else "")
        self.fix_button.setText(problem.action_text)
        self.fix_button.setToolTip(f"{fix} Undo takes it back." if fix else "")
        self.fix_button.setVisible(problem.action is not None)
        self.fit_box.show()

    def fit_problem_text(self) -> str:
        """The before-training note ("" when the model fits the data set)."""
        return self.fit_label.text() if self.fit_box.isVisibleTo(self) else ""

    def _request_fix(self):
        if self._fit_problem is not None and self._fit_problem.action is not None:
            self.fix_requested.emit(self._fit_problem.action)

    def problem_text(self) -> str:
        """The mismatch or error shown in the panel ("" when none)."""
        return self.problem_label.text() if self.problem_label.isVisibleTo(self) else ""
