"""Start-up benchmark: time to the main window's first paint, against an empty PySide6 QMainWindow.

Each start is a fresh Python process, timed from just before it is launched to the first paint event
of its window, so interpreter start-up and imports count. For the editor it also reports whether
torch had been imported at that moment (it must not have been: the engine loads after the window is
on screen) and when the engine-loaded palette was ready.

    python bench/bench_startup.py            # 5 runs each, medians
    python bench/bench_startup.py --runs 9
    QT_QPA_PLATFORM=xcb xvfb-run -a python bench/bench_startup.py   # a real X server

Goal (issue 4): the editor's first paint at most 3x the empty window's, with torch not yet imported.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def child(kind: str):
    """Runs in the fresh process: show the window, report the first paint, quit."""
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    report = {"kind": kind}
    app = QApplication.instance() or QApplication(sys.argv[:1])

    if kind == "empty":
        win = QMainWindow()
    else:
        sys.path.insert(0, ROOT)
        from PySide6.QtCore import QSettings

        from visualkeras_app.app import make_application
        from visualkeras_app.mainwindow import MainWindow

        make_application()
        settings = QSettings(os.path.join(tempfile.mkdtemp(), "bench.ini"), QSettings.IniFormat)
        win = MainWindow(settings=settings, offer_recovery=False)
    win.resize(1400, 900)

    class FirstPaint(QObject):
        def eventFilter(self, obj, ev):
            if ev.type() == QEvent.Paint and "paint" not in report and hasattr(obj, "window") \
                    and obj.window() is win:
                report["paint"] = time.time()
                report["torch_at_paint"] = "torch" in sys.modules
                if kind == "empty":
                    QTimer.singleShot(0, app.quit)
            return False

    spy = FirstPaint()
    app.installEventFilter(spy)
    if kind != "empty":
        def ready():
            report["ready"] = time.time()
            report["torch_at_ready"] = "torch" in sys.modules
            QTimer.singleShot(0, app.quit)

        win.started.connect(ready)
    QTimer.singleShot(60_000, app.quit)
    win.show()
    app.exec()
    print("BENCH " + json.dumps(report), flush=True)


def one_run(kind: str) -> dict:
    t0 = time.time()
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", kind], capture_output=True,
                         text=True, cwd=ROOT, timeout=120)
    line = next((l for l in out.stdout.splitlines() if l.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"the {kind} child failed:\n{out.stdout}\n{out.stderr}")
    rep = json.loads(line[6:])
    rep["paint_s"] = rep["paint"] - t0
    if "ready" in rep:
        rep["ready_s"] = rep["ready"] - t0
    return rep


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--child", choices=["empty", "app"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    if not os.environ.get("DISPLAY") and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    platform = os.environ.get("QT_QPA_PLATFORM") or f"xcb (DISPLAY={os.environ.get('DISPLAY')})"
    one_run("empty")  # warm the file cache so the first timed run is not an outlier
    one_run("app")
    empty, app = [], []
    for _ in range(args.runs):  # interleaved, so machine load hits both alike
        empty.append(one_run("empty"))
        app.append(one_run("app"))
    e = statistics.median(r["paint_s"] for r in empty)
    a = statistics.median(r["paint_s"] for r in app)
    ready = statistics.median(r["ready_s"] for r in app)
    torch_at_paint = any(r["torch_at_paint"] for r in app)
    print(f"platform: {platform}, {args.runs} runs each, medians, from process launch")
    print(f"  empty PySide6 QMainWindow, first paint : {e * 1000:7.0f} ms")
    print(f"  visualkeras-app window, first paint    : {a * 1000:7.0f} ms   ratio {a / e:.2f}x (goal <= 3x)")
    print(f"  visualkeras-app, engine + palette ready: {ready * 1000:7.0f} ms")
    print(f"  torch imported at first paint: {'YES (bad)' if torch_at_paint else 'no'}; "
          f"at ready: {'yes' if all(r['torch_at_ready'] for r in app) else 'no'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
