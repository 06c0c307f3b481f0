"""Training inside the app: event-loop stalls while training, and in-app samples/s against a headless fit.

Three runs of the fast MNIST template (the one-click recipe: Adam + one-cycle, batch 64), each on a fresh
model with the same seed and the same samples:

* headless ``fit``: ``model.fit`` in the main thread, no Qt, no listener (the reference);
* headless session: ``TrainingSession.run()`` without Qt (what the CLI does);
* in-app: the main window's Training panel (``TrainingWorker`` thread, live plots, progress bar) on an
  offscreen window, with a 10 ms QTimer measuring how late each tick fires (the event-loop stall).

samples/s is timed from the end of the first batch to the end of the last (warm-up, data loading and the
test-set evaluation excluded), the same way in all three.

    python bench/bench_training_ui.py                  # 20,000 training samples, 1 epoch
    python bench/bench_training_ui.py --samples 60000  # the whole of MNIST
    QT_QPA_PLATFORM=xcb xvfb-run -a python bench/bench_training_ui.py

Goals (issue 5): stall p99 < 50 ms; in-app samples/s >= 0.95x headless fit.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


class BatchClock:
    """Times batch ends: the first and the last, and how many."""

    def __init__(self):
        self.first = self.last = None
        self.n = 0

    def tick(self, *_, **__):
        now = time.perf_counter()
        if self.first is None:
            self.first = now
        self.last = now
        self.n += 1

    def samples_per_s(self, batch_size, total_samples):
        if self.n < 2:
            return float("nan")
        # All batches after the first are full except possibly the last one.
        samples = total_samples - batch_size
        return samples / (self.last - self.first)


def build_model(seed):
    from engine import backend

    from visualkeras_app.document.convert import document_to_model
    from visualkeras_app.document.templates import load_template

    backend.set_seed(seed)
    return document_to_model(load_template("mnist_fast_cnn"))


def headless_fit(prepared, settings):
    import engine

    from visualkeras_app.training.schedules import OneCycle
    from visualkeras_app.training.session import TrainingSession

    model = build_model(settings.seed)
    # The same split, optimizer and schedule as the session, then plain fit.
    s = TrainingSession(model, prepared, settings)
    clock = BatchClock()
    cb = engine.callbacks.LambdaCallback(on_train_batch_end=clock.tick)
    total = max(1, settings.epochs * s.batches_per_epoch)
    opt = engine.optimizers.Adam(learning_rate=OneCycle(float(settings.learning_rate), total))
    model.compile(optimizer=opt, loss=prepared.loss, metrics=["accuracy"])
    model.fit(s.x_fit, s.y_fit, batch_size=settings.batch_size, epochs=settings.epochs, shuffle=True, verbose=0,
              callbacks=[cb])
    return clock.samples_per_s(settings.batch_size, len(s.x_fit)), clock.n


def headless_session(prepared, settings):
    from visualkeras_app.training.session import TrainingSession

    clock = BatchClock()

    class Listener:
        on_batch = clock.tick

    model = build_model(settings.seed)
    s = TrainingSession(model, prepared, settings, listener=Listener())
    rec = s.run()
    return clock.samples_per_s(settings.batch_size, len(s.x_fit)), clock.n, rec


def in_app(settings, dataset):
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from visualkeras_app.mainwindow import MainWindow
    from visualkeras_app.training_ui import worker as worker_mod
    from visualkeras_app.training_ui.worker import stall_probe

    app = QApplication.instance() or QApplication([])
    tmp = tempfile.mkdtemp(prefix="vk-bench-")
    os.environ["VISUALKERAS_RECOVERY_DIR"] = tmp
    app.setQuitOnLastWindowClosed(False)
    win = MainWindow(settings=QSettings(os.path.join(tmp, "s.ini"), QSettings.IniFormat), offer_recovery=False)
    win.resize(1400, 900)
    win.show()
    win.start()
    win.new_from_template("mnist_fast_cnn")
    panel = win.training.panel
    worker_mod.cached_dataset = lambda name: dataset  # already loaded: time training, not parsing
    clock = BatchClock()
    relay_on_batch = worker_mod._Relay.on_batch

    def on_batch(self, point):
        clock.tick()
        relay_on_batch(self, point)

    worker_mod._Relay.on_batch = on_batch
    chunks = []
    panel.worker.batches.connect(lambda c: chunks.append(len(c)))
    timer, late = stall_probe(10)
    done = []
    panel.run_finished.connect(done.append)
    panel.train(settings)
    while panel.worker.state == "preparing":
        app.processEvents()
        time.sleep(0.001)
    timer.start()
    while not done:
        app.processEvents()
        time.sleep(0.0005)
    timer.stop()
    panel.worker.wait()
    app.processEvents()
    worker_mod._Relay.on_batch = relay_on_batch
    n_fit = len(panel.worker.session.x_fit)
    win.controller.undo_stack.setClean()
    win._trained_unsaved = False
    win.close()
    return clock.samples_per_s(settings.batch_size, n_fit), clock.n, late, chunks, done[0]


def pct(values, q):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q / 100 * (len(v) - 1))))]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=20000, help="training samples (default 20000; 60000 = all)")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=2, help="alternated rounds of the three modes (medians)")
    args = ap.parse_args(argv)
    if not os.environ.get("DISPLAY") and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ.setdefault("VISUALKERAS_OFFLINE", "1")
    if not os.environ.get("VISUALKERAS_DATA"):
        guess = os.path.join(os.path.dirname(ROOT), "shared", "data")
        if os.path.isdir(guess):
            os.environ["VISUALKERAS_DATA"] = guess

    import torch
    from PySide6.QtWidgets import QApplication

    from visualkeras_app.training.data import load_dataset, prepare_for_model
    from visualkeras_app.training_ui.panel import one_click_settings

    QApplication.instance() or QApplication([])
    ds = load_dataset("mnist")
    settings = one_click_settings(max_train_samples=args.samples, epochs=args.epochs, batch_size=args.batch_size)
    prepared = prepare_for_model(ds, build_model(0), settings.loss, max_train_samples=args.samples)
    print(f"fast MNIST CNN, {args.samples} samples, {args.epochs} epoch(s), batch {args.batch_size}, "
          f"torch threads {torch.get_num_threads()}, cores {os.cpu_count()}")

    headless_fit(prepared, settings.replace(max_train_samples=min(args.samples, 3000)))  # warm-up
    fits, sessions, apps, late = [], [], [], []
    # Alternated rounds, medians: other work on a shared machine hits every mode alike.
    for r in range(args.rounds):
        fit_sps, fit_n = headless_fit(prepared, settings)
        fits.append(fit_sps)
        ses_sps, ses_n, rec = headless_session(prepared, settings)
        sessions.append(ses_sps)
        app_sps, app_n, round_late, chunks, app_rec = in_app(settings, ds)
        apps.append(app_sps)
        late.extend(round_late)
        print(f"round {r + 1}: headless fit {fit_sps:6.0f} samples/s · headless session {ses_sps:6.0f} samples/s · "
              f"in-app {app_sps:6.0f} samples/s ({app_n} batches in {len(chunks)} plot updates; test accuracy "
              f"{app_rec.test_accuracy:.4f})")
    fit_sps, ses_sps, app_sps = (statistics.median(v) for v in (fits, sessions, apps))
    print(f"headless fit:      {fit_sps:8.0f} samples/s (median of {args.rounds})")
    print(f"headless session:  {ses_sps:8.0f} samples/s")
    print(f"in-app (window):   {app_sps:8.0f} samples/s")
    print(f"in-app / headless fit: {app_sps / fit_sps:.3f}x   (goal >= 0.95)")
    print(f"in-app / headless session: {app_sps / ses_sps:.3f}x")
    print(f"event-loop stall over {len(late)} ticks of 10 ms: p50 {pct(late, 50):.1f} ms, p99 {pct(late, 99):.1f} ms, "
          f"max {max(late) if late else float('nan'):.1f} ms   (goal p99 < 50 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
