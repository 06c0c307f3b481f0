"""Opening 600-1,000-layer applications in the window (issue 13: under 2 s, the palette usable).

For each application (DenseNet201 and NASNetLarge by default), opens in a fresh window:
  - the ``.keras`` file the engine saves for it (``weights=None``: random weights, all of them in the file),
    through File > Open (``MainWindow.open_file``);
  - the template, through File > New from Template > Applications (``MainWindow.new_from_template``);
and prints the seconds until the window shows it (the call returned: canvas, summary and code docks filled),
the seconds until the code dock has put in its last line, the longest time the event loop went without a
10 ms timer tick during the whole open (what a click on the palette waits for at worst), the summary's total
parameters against the engine model's, and the load average (2 cores shared by other work make every number
slower). Before each pair, a row gives the seconds of ``engine.saving.load_model`` alone on the ``.keras``
file: the engine's share of the open.

    QT_QPA_PLATFORM=offscreen python bench/bench_open_apps.py [--apps DenseNet201 NASNetLarge] [--repeat 2]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def open_in_window(app, how, target):
    """(seconds to shown, seconds to code done, longest gap, total params shown) for one open."""
    from PySide6.QtCore import QTimer

    from visualkeras_app.mainwindow import MainWindow

    w = MainWindow(offer_recovery=False)
    w.resize(1366, 768)
    w.show()
    app.processEvents()
    w.start()
    deadline = time.perf_counter() + 60
    while not w.is_started and time.perf_counter() < deadline:  # the engine loads after the first paint
        app.processEvents()
    ticks = [time.perf_counter()]
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    start = time.perf_counter()
    ok = w.open_file(target, ask=False) if how == "file" else w.new_from_template(target)
    shown = time.perf_counter() - start
    while w.code_panel.busy or w.code_panel._timer.isActive() or w.summary_panel._timer.isActive():
        app.processEvents()
    done = time.perf_counter() - start
    settle = time.perf_counter() + 0.5  # what the canvas and docks do right after
    while time.perf_counter() < settle:
        app.processEvents()
    timer.stop()
    ticks.append(time.perf_counter())
    gap = max(b - a for a, b in zip(ticks, ticks[1:]))
    result = w.controller.document.result
    total = result.total_params if ok and result is not None else None
    w.close()
    w.deleteLater()
    app.processEvents()
    return shown, done, gap, total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", nargs="+", default=["DenseNet201", "NASNetLarge"])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    os.environ.setdefault("VISUALKERAS_SETTINGS", os.path.join(tempfile.gettempdir(), "bench_open_apps.ini"))
    import engine.models  # noqa: F401  (loaded at start-up by the window; not part of the open)
    import engine.saving
    from engine import applications

    from visualkeras_app.app import make_application

    app = make_application([])
    print(f"{'open':32} {'shown s':>8} {'code s':>7} {'gap ms':>7} {'params':>12} {'engine':>12} {'load':>5}")
    with tempfile.TemporaryDirectory() as folder:
        for name in args.apps:
            model = getattr(applications, name)(weights=None)
            expected = model.count_params()
            path = os.path.join(folder, f"{name}.keras")
            model.save(path)
            del model
            for _ in range(args.repeat):
                start = time.perf_counter()
                engine.saving.load_model(path, compile=False)  # the engine alone, no window: its share of the open
                print(f"{name + ' (engine load_model)':32} {time.perf_counter() - start:8.2f} {'':7} {'':7} {'':12} "
                      f"{expected:12,} {os.getloadavg()[0]:5.1f}", flush=True)
                for how, target in (("file", path), ("template", name)):
                    shown, done, gap, total = open_in_window(app, how, target)
                    label = f"{name} ({'File > Open .keras' if how == 'file' else 'template'})"
                    mark = "" if total == expected else "  MISMATCH"
                    print(f"{label:32} {shown:8.2f} {done:7.2f} {1000 * gap:7.0f} {total or 0:12,} {expected:12,} "
                          f"{os.getloadavg()[0]:5.1f}{mark}", flush=True)
            os.remove(path)


if __name__ == "__main__":
    main()
