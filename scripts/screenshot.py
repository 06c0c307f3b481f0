"""Screenshot of the editor with a template loaded, for the README.

    python scripts/screenshot.py                       # offscreen, writes docs/screenshot-editor.png
    python scripts/screenshot.py --template residual_block --out /tmp/shot.png
    QT_QPA_PLATFORM=xcb xvfb-run -a python scripts/screenshot.py   # under a real (virtual) X server

The window is 1366x768 (a laptop's screen), the graph fitted to the view (zoomed to at least 70%, from its top, when it is
too tall to read whole), one layer selected so that the inspector shows its settings. Settings and the recovery file live in a temporary folder: the user's are left alone.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pick_template(key):
    from visualkeras_app.document.templates import list_templates

    keys = [t.key for t in list_templates()]
    if key:
        if key not in keys:
            raise SystemExit(f"Unknown template {key!r}; choose one of: {', '.join(keys)}")
        return key
    # The residual block shows a branch, a merge with two ports and shape-labelled edges in one view.
    return next((k for k in keys if "residual" in k), keys[0])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--template", help="template key (default: the small residual block)")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "screenshot-editor.png"))
    ap.add_argument("--select", help="name of the layer to select (default: the first Conv2D, else the second layer)")
    ap.add_argument("--size", default="1366x768", help="the window (default: a laptop's screen)")
    ap.add_argument("--min-zoom", type=float, default=0.7,
                    help="zoom in to at least this when the fitted graph would be smaller (default 0.7)")
    args = ap.parse_args(argv)
    if not os.environ.get("DISPLAY") and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    tmp = tempfile.mkdtemp(prefix="vk-shot-")
    os.environ["VISUALKERAS_RECOVERY_DIR"] = tmp
    sys.path.insert(0, ROOT)

    from PySide6.QtCore import QSettings
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
    key = pick_template(args.template)
    if not win.new_from_template(key):
        raise SystemExit(f"Could not load the template {key!r}")
    doc = win.controller.document
    node = None
    if args.select:
        node = next((n for n in doc.nodes.values() if n.name == args.select), None)
    if node is None:
        order = doc.result.order if doc.result is not None else list(doc.nodes)
        nodes = [doc.nodes[i] for i in order]
        node = next((n for n in nodes if n.class_name == "Conv2D"), nodes[min(1, len(nodes) - 1)])
    win.controller.set_selection([node.id])
    win.summary_dock.raise_()
    for _ in range(5):  # let deferred refreshes (code, summary, fit to view) run
        app.processEvents()
    win.view.show_graph(args.min_zoom)  # as a newly opened document is shown, after the window settled
    app.processEvents()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    if not win.grab().save(args.out):
        raise SystemExit(f"Could not write {args.out}")
    print(f"wrote {args.out} ({w}x{h}, template {key!r}, selected {node.name!r})")
    win.controller.undo_stack.setClean()
    win.close()
    QApplication.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
