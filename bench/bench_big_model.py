"""Opening big models in the window: is every stage linear in the number of layers?

For a small and a large Sequential chain of Dense layers saved as a Keras JSON file (1,000 and 10,000
layers by default), times each stage of File > Open as the window runs it: reading the file into a
document (engine rebuild + conversion, ``open_any``), binding the canvas, the summary dock and the code
dock; then prints each stage's milliseconds per layer and the ratio large/small of per-layer times
(about 1.0 means linear; 10 would mean quadratic at 10x the layers). "new document" is every handler of
the replaced document (the canvas's bind among them, timed again on its own as "(canvas bind)", not added
to "all"); "canvas items" shows the graph as the window does and makes the items its view shows (a big
document's canvas makes only those).

Then File > Open of the large file as a user runs it (``MainWindow.open_file``: the background read with
its progress dialog, the canvas, the docks' deferred work), with a 10 ms timer ticking throughout: when the
document is in the window, when the canvas shows its items (a usable window), when the code dock has
finished its slices, and the longest time the event loop went unanswered in each phase (issue 18 asks
under 5 s for 20,000 layers and 100 ms at most).

    QT_QPA_PLATFORM=offscreen python bench/bench_big_model.py [--small 1000] [--large 10000] [--no-stages]
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
    w.controller.replace_document(doc)  # the canvas binds to it, the docks schedule their refreshes
    out["new document"] = time.perf_counter() - t
    t = time.perf_counter()
    w.scene._bind()  # the canvas's part of it, again on its own (a big document: its grids, no items yet)
    out["(canvas bind)"] = time.perf_counter() - t
    t = time.perf_counter()
    w.view.show_graph()  # what the window does next: the view at the graph's start, with its items
    w.scene.finish_region()
    out["canvas items"] = time.perf_counter() - t
    t = time.perf_counter()
    w.summary_panel.refresh()
    out["summary dock"] = time.perf_counter() - t
    t = time.perf_counter()
    w.code_panel.refresh()
    w.code_panel.text()  # a big model's code is written in slices: finish them, to time all of it
    out["code dock"] = time.perf_counter() - t
    w.close()
    return out


def canvas_ready(w) -> bool:
    """Whether the canvas shows the items of what its view shows (a big document makes them as it scrolls)."""
    scene, view = w.scene, w.view
    if not hasattr(scene, "region_covers"):
        return True
    seen = view.mapToScene(view.viewport().rect()).boundingRect()
    return scene.region_covers(seen) and not scene.realize_pending()


def open_as_user(app, path, settle=3.0, limit=120.0):
    """File > Open of ``path`` in a shown window with a 10 ms timer ticking. Returns the seconds to the
    document in the window, to the canvas showing its items, to the code dock done, the longest event-loop
    gap (s) of each phase and the number of canvas items then."""
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
    t_doc = time.perf_counter()
    t_canvas = t_code = None
    stop = t_doc + limit
    while time.perf_counter() < stop:
        app.processEvents()
        now = time.perf_counter()
        if t_canvas is None and canvas_ready(w) and len(w.scene.node_items()):
            t_canvas = now
        if t_code is None and t_canvas is not None and not w.code_panel.busy:
            t_code = now
        if t_code is not None and now > t_code + settle:  # the docks' deferred refreshes after it
            break
    timer.stop()
    ticks.append(time.perf_counter())
    marks = [start, t_doc, t_canvas or ticks[-1], t_code or ticks[-1], ticks[-1]]
    gaps = [0.0] * 4
    for a, b in zip(ticks, ticks[1:]):
        phase = max(i for i in range(4) if a >= marks[i] or i == 0)
        gaps[phase] = max(gaps[phase], b - a)
    items = len(w.scene.node_items()) + len(w.scene.edge_items())
    w.close()
    return {"document in window": t_doc - start, "canvas shows its items": (t_canvas or ticks[-1]) - start,
            "code dock done": (t_code or ticks[-1]) - start}, gaps, items


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=10000)
    parser.add_argument("--no-stages", action="store_true", help="only the File > Open of the large file")
    args = parser.parse_args()
    import engine.models  # noqa: F401  (loaded at start-up by the window; not part of the open)
    from visualkeras_app.app import make_application

    app = make_application([])
    with tempfile.TemporaryDirectory() as folder:
        small, large = write_chain(folder, args.small), write_chain(folder, args.large)
        if not args.no_stages:
            stages(app, small)  # warm: imports and first-use caches
            a, b = stages(app, small), stages(app, large)
            print(f"{'stage':14} {'ms/layer @' + str(args.small):>16} {'ms/layer @' + str(args.large):>17} {'ratio':>7}")
            for name in a:
                pa, pb = 1000 * a[name] / args.small, 1000 * b[name] / args.large
                print(f"{name:14} {pa:16.3f} {pb:17.3f} {pb / max(pa, 1e-9):7.2f}")
            ta, tb = (sum(v for k, v in x.items() if not k.startswith("(")) for x in (a, b))
            print(f"{'all':14} {1000 * ta / args.small:16.3f} {1000 * tb / args.large:17.3f} "
                  f"{(tb / args.large) / (ta / args.small):7.2f}")
        else:
            open_as_user(app, small)  # warm: imports and first-use caches
        times, gaps, items = open_as_user(app, large)
        print(f"File > Open of {args.large:,} layers (load average {os.getloadavg()[0]:.1f}):")
        for (name, secs), gap in zip(times.items(), gaps):
            print(f"  {name:24} at {secs:6.2f} s; longest event-loop gap before it {1000 * gap:5.0f} ms")
        print(f"  after it (docks settle)                 longest event-loop gap {1000 * gaps[3]:5.0f} ms")
        print(f"  longest gap overall {1000 * max(gaps):.0f} ms (target 100 ms); usable window after "
              f"{times['canvas shows its items']:.2f} s (target 5 s); {items} canvas items")


if __name__ == "__main__":
    main()
