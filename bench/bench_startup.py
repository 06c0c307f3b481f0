"""Start-up benchmark: time to the main window's first paint and to a usable Layers panel, against an empty
PySide6 QMainWindow.

Each start is a fresh Python process, timed from just before it is launched, so interpreter start-up and imports
count. For the editor it reports:

- first paint: the window's first paint event (and whether torch had been imported by then: it must not be);
- palette usable: the first turn of the event loop after the first paint at which the Layers panel is filled
  and a drag can start (the palette produces the drag mime for a layer), and whether torch was imported then;
- engine ready: the window's ``started`` signal (the engine imported on its background thread, the training
  panel built);
- the longest the event loop went without turning (a 10 ms timer's largest gap) between the first paint and
  engine ready: how smooth the window stays while torch imports beside it.

    python bench/bench_startup.py            # 5 runs each, medians
    python bench/bench_startup.py --runs 9
    QT_QPA_PLATFORM=xcb xvfb-run -a python bench/bench_startup.py   # a real X server

Goals: the editor's first paint at most 3x the empty window's, with torch not yet imported (issue 4); the palette
usable within 1.5 s of launch (issue 17, item 7). The machine's load (``uptime``) is printed before and after:
on a shared machine the figures move with it.
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
TARGET_USABLE_S = 1.5  # issue 17, item 7: the palette usable within 1.5 s of launch


def child(kind: str):
    """Runs in the fresh process: show the window, report the first paint (and for the editor the palette and
    the engine), quit."""
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    report = {"kind": kind}
    app = QApplication.instance() or QApplication(sys.argv[:1])

    if kind == "empty":
        win = QMainWindow()
    else:
        sys.path.insert(0, ROOT)
        from PySide6.QtCore import QSettings

        from visualkeras_app.app import make_application, open_window
        from visualkeras_app.panels.palette import LAYER_MIME

        make_application()
        os.environ["VISUALKERAS_RECOVERY_DIR"] = tempfile.mkdtemp()  # the user's recovery files stay untouched
        settings = QSettings(os.path.join(tempfile.mkdtemp(), "bench.ini"), QSettings.IniFormat)
        win = open_window(settings=settings)  # as `visualkeras-app` opens it (shown; crash recovery offered)
    win.resize(1400, 900)
    ticks = []

    def palette_usable():
        panel = win.palette_panel
        item = panel.item_for("Dense") if panel.loaded else None
        mime = panel.tree.mimeData([item]) if item is not None else None
        if mime is None or not mime.hasFormat(LAYER_MIME):
            QTimer.singleShot(0, palette_usable)  # not yet: look again on the loop's next turn
            return
        report["usable"] = time.time()
        report["torch_at_usable"] = "torch" in sys.modules

    class FirstPaint(QObject):
        def eventFilter(self, obj, ev):
            if ev.type() == QEvent.Paint and "paint" not in report and hasattr(obj, "window") \
                    and obj.window() is win:
                report["paint"] = time.time()
                report["torch_at_paint"] = "torch" in sys.modules
                if kind == "empty":
                    QTimer.singleShot(0, app.quit)
                else:
                    QTimer.singleShot(0, palette_usable)
                    ticker.start()
            return False

    spy = FirstPaint()
    app.installEventFilter(spy)
    ticker = QTimer()
    ticker.setInterval(10)
    ticker.timeout.connect(lambda: ticks.append(time.time()))
    if kind != "empty":
        def ready():
            report["ready"] = time.time()
            report["torch_at_ready"] = "torch" in sys.modules
            ticker.stop()
            stamps = [report["paint"], *ticks, report["ready"]]
            report["max_stall"] = max(b - a for a, b in zip(stamps, stamps[1:]))
            from visualkeras_app.startup import engine_loader

            loader = engine_loader()
            report["engine_import_s"] = loader.seconds
            report["gui_waits"] = loader.guarded_waits  # GUI-thread imports that had to wait for the engine
            QTimer.singleShot(0, app.quit)

        win.started.connect(ready)
    QTimer.singleShot(60_000, app.quit)
    if kind == "empty":
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
    for key in ("usable", "ready"):
        if key in rep:
            rep[key + "_s"] = rep[key] - t0
    return rep


def load() -> str:
    """The machine's load averages (1, 5, 15 minutes), as ``uptime`` prints them."""
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


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
    load_before = load()
    one_run("empty")  # warm the file cache so the first timed run is not an outlier
    one_run("app")
    empty, app = [], []
    for _ in range(args.runs):  # interleaved, so machine load hits both alike
        empty.append(one_run("empty"))
        app.append(one_run("app"))
    e = statistics.median(r["paint_s"] for r in empty)
    a = statistics.median(r["paint_s"] for r in app)
    usable = statistics.median(r["usable_s"] for r in app)
    ready = statistics.median(r["ready_s"] for r in app)
    stall = statistics.median(r["max_stall"] for r in app)

    def flag(key, bad):
        hits = sum(r[key] for r in app)
        return f"{'YES' if hits else 'no'}{' (bad)' if hits and bad else ''} ({hits}/{len(app)} runs)"

    print(f"platform: {platform}, {args.runs} runs each, medians, from process launch; {os.cpu_count()} cores")
    print(f"load average (1, 5, 15 min): {load_before} before, {load()} after")
    print(f"  empty PySide6 QMainWindow, first paint : {e * 1000:7.0f} ms")
    print(f"  visualkeras-app window, first paint    : {a * 1000:7.0f} ms   ratio {a / e:.2f}x (goal <= 3x)")
    print(f"  visualkeras-app, palette usable        : {usable * 1000:7.0f} ms   {usable / TARGET_USABLE_S:.2f}x the "
          f"{TARGET_USABLE_S:.1f} s target (goal <= 1x); runs: "
          + " ".join(f"{r['usable_s']:.2f}" for r in app))
    print(f"  visualkeras-app, engine ready (started): {ready * 1000:7.0f} ms")
    print(f"  engine import on its thread: {statistics.median(r['engine_import_s'] for r in app) * 1000:.0f} ms; "
          f"longest event-loop stall meanwhile: {stall * 1000:.0f} ms; GUI-thread imports that waited for it: "
          f"{max(r['gui_waits'] for r in app)}")
    print(f"  torch imported at first paint: {flag('torch_at_paint', True)}; at palette usable: "
          f"{flag('torch_at_usable', True)}; at engine ready: {flag('torch_at_ready', False)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
