"""Screenshots of training in the app, for the README: the Training panel mid-run and the Results after it.

    python scripts/screenshot_training.py            # offscreen; docs/screenshot-training.png, -results.png
    python scripts/screenshot_training.py --samples 12000 --at 0.5
    QT_QPA_PLATFORM=xcb xvfb-run -a python scripts/screenshot_training.py

It opens the window (1366x768, a laptop's screen), presses "Train on MNIST" on an empty document (the fast MNIST template with
the one-click recipe), grabs the window once ``--at`` of the batches are done (live plots, progress bar),
waits for the end, then shows the Results dock (confusion matrix, misclassified digits, the first one enlarged) and grabs again.
Settings and the recovery file live in a temporary folder: the user's are left alone.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=0, help="training samples (default: all 60,000)")
    ap.add_argument("--at", type=float, default=0.6, help="grab the training shot at this fraction of the run")
    ap.add_argument("--out-training", default=os.path.join(ROOT, "docs", "screenshot-training.png"))
    ap.add_argument("--out-results", default=os.path.join(ROOT, "docs", "screenshot-results.png"))
    ap.add_argument("--size", default="1366x768", help="the window (default: a laptop's screen)")
    ap.add_argument("--min-zoom", type=float, default=0.6, help="zoom the canvas to at least this")
    args = ap.parse_args(argv)
    if not os.environ.get("DISPLAY") and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    tmp = tempfile.mkdtemp(prefix="vk-shot-")
    os.environ["VISUALKERAS_RECOVERY_DIR"] = tmp
    sys.path.insert(0, ROOT)

    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtWidgets import QApplication

    from visualkeras_app.app import make_application
    from visualkeras_app.mainwindow import MainWindow

    app = make_application()
    settings = QSettings(os.path.join(tmp, "settings.ini"), QSettings.IniFormat)
    win = MainWindow(settings=settings, offer_recovery=False)
    w, h = (int(v) for v in args.size.lower().split("x"))
    win.resize(w, h)
    win.show()
    win.start()
    tr = win.training
    panel = tr.panel
    if panel is None:
        raise SystemExit("The training panel could not be built (is the training core installed?)")
    panel.samples_spin.setValue(args.samples)
    done, progress = [], []
    panel.run_finished.connect(done.append)
    panel.worker.progress.connect(progress.append)
    results = []
    panel.results_ready.connect(results.append)
    if not tr.train_on_mnist():
        raise SystemExit(f"Training did not start: {panel.problem_text()}")
    for _ in range(5):  # the docks are tabified on the first event-loop turns
        app.processEvents()
    win.inspector_dock.raise_()
    for _ in range(5):
        app.processEvents()
    win.view.show_graph(args.min_zoom)

    def pump(cond, timeout):
        t = time.time()
        while not cond():
            app.processEvents()
            time.sleep(0.005)
            if time.time() - t > timeout:
                raise SystemExit("Timed out waiting for training")

    def fraction():
        if not progress:
            return 0.0
        p = progress[-1]
        return ((p.epoch - 1) * p.batches + p.batch) / max(1, p.epochs * p.batches)

    pump(lambda: fraction() >= args.at or done, 900)
    for _ in range(5):
        app.processEvents()
    os.makedirs(os.path.dirname(os.path.abspath(args.out_training)), exist_ok=True)
    if not win.grab().save(args.out_training):
        raise SystemExit(f"Could not write {args.out_training}")
    print(f"wrote {args.out_training} at {fraction():.0%} of the run")

    pump(lambda: bool(done) and (bool(results) or panel.worker.state == "idle"), 900)
    pump(lambda: panel.worker.state == "idle", 120)
    # The results need width: widen the right-hand dock for this shot.
    tr.results_dock.raise_()
    win.resizeDocks([tr.results_dock], [int(w * 0.5)], Qt.Horizontal)
    for _ in range(10):
        app.processEvents()
        time.sleep(0.02)
    view = tr.results_view
    if view is not None and view.grid.count():
        view.grid.setCurrentRow(0)  # the first misclassified digit, enlarged beside the matrix
    for _ in range(5):
        app.processEvents()
    win.view.show_graph(args.min_zoom)
    app.processEvents()
    if not win.grab().save(args.out_results):
        raise SystemExit(f"Could not write {args.out_results}")
    acc = getattr(done[0], "test_accuracy", None)
    print(f"wrote {args.out_results} (test accuracy {acc:.4f})" if acc is not None else f"wrote {args.out_results}")
    win.controller.undo_stack.setClean()
    win._trained_unsaved = False
    win.close()
    QApplication.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
