"""Opening big models in the window: is every stage linear in the number of layers?

For a small and a large Sequential chain of Dense layers saved as a Keras JSON file (1,000 and 10,000
layers by default), times each stage of File > Open as the window runs it: reading the file into a
document (engine rebuild + conversion, ``open_any``), binding the canvas, the summary dock and the code
dock; then prints each stage's milliseconds per layer and the ratio large/small of per-layer times
(about 1.0 means linear; 10 would mean quadratic at 10x the layers). Also the longest time the event
loop went unanswered during the whole open of the large file (issue 18 asks 100 ms).

    QT_QPA_PLATFORM=offscreen python bench/bench_big_model.py [--small 1000] [--large 10000]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write_chain(folder, n):
    layers = [{"class_name": "InputLayer", "config": {"batch_shape": [None, 4], "name": "in"}}]
    layers += [{"class_name": "Dense", "config": {"units": 4, "name": f"d{i}"}} for i in range(n)]
    path = os.path.join(folder, f"chain{n}.json")
    with open(path, "w") as f:
        json.dump({"class_name": "Sequential", "config": {"name": "chain", "layers": layers}}, f)
    return path


def stages(app, path):
    from visualkeras_app.document.project import open_any
    from visualkeras_app.mainwindow import MainWindow

    w = MainWindow(offer_recovery=False)
    w.resize(1366, 768)
    w.show()
    app.processEvents()
    w.start()
    app.processEvents()
    out = {}
    t = time.perf_counter()
    doc = open_any(path)
    out["read file"] = time.perf_counter() - t
    t = time.perf_counter()
    w.controller.replace_document(doc)  # the canvas binds to it (the docks refresh on their timers)
    out["canvas"] = time.perf_counter() - t
    t = time.perf_counter()
    w.summary_panel.refresh()
    out["summary dock"] = time.perf_counter() - t
    t = time.perf_counter()
    w.code_panel.refresh()
    w.code_panel.text()  # a big model's code is written in slices: finish them, to time all of it
    out["code dock"] = time.perf_counter() - t
    w.close()
    return out


def longest_gap(app, path):
    """Seconds the event loop went without a 10 ms timer tick while the window opened ``path``."""
    from PySide6.QtCore import QTimer

    from visualkeras_app.mainwindow import MainWindow

    w = MainWindow(offer_recovery=False)
    w.resize(1366, 768)
    w.show()
    app.processEvents()
    w.start()
    app.processEvents()
    ticks = [time.perf_counter()]
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    start = time.perf_counter()
    w.open_file(path, ask=False)
    end = time.perf_counter() + 3.0
    while time.perf_counter() < end:  # the docks' deferred refreshes
        app.processEvents()
    timer.stop()
    ticks.append(time.perf_counter())
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    total = time.perf_counter() - start - 3.0
    w.close()
    return max(gaps), total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=10000)
    args = parser.parse_args()
    import engine.models  # noqa: F401  (loaded at start-up by the window; not part of the open)
    from visualkeras_app.app import make_application

    app = make_application([])
    with tempfile.TemporaryDirectory() as folder:
        small, large = write_chain(folder, args.small), write_chain(folder, args.large)
        stages(app, small)  # warm: imports and first-use caches
        a, b = stages(app, small), stages(app, large)
        print(f"{'stage':14} {'ms/layer @' + str(args.small):>16} {'ms/layer @' + str(args.large):>17} {'ratio':>7}")
        for name in a:
            pa, pb = 1000 * a[name] / args.small, 1000 * b[name] / args.large
            print(f"{name:14} {pa:16.3f} {pb:17.3f} {pb / max(pa, 1e-9):7.2f}")
        ta, tb = sum(a.values()), sum(b.values())
        print(f"{'all':14} {1000 * ta / args.small:16.3f} {1000 * tb / args.large:17.3f} "
              f"{(tb / args.large) / (ta / args.small):7.2f}")
        gap, total = longest_gap(app, large)
        print(f"File > Open of {args.large:,} layers: {total:.1f} s; longest event-loop gap {1000 * gap:.0f} ms "
              f"(target 100 ms); load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
