"""Screenshot of Dataset ▸ Image Folder… for the README: the preview of a folder of PNGs.

    python scripts/screenshot_dataset.py --folder /tmp/fashion_png      # docs/screenshot-dataset.png
    QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1366x768x24" python scripts/screenshot_dataset.py --folder F

Opens the window with a template on the canvas (``--template``, default mnist_fast_cnn), opens the dialog
on ``--folder`` (``scripts/fashion_folder.py --folder F`` makes one from Fashion-MNIST; without it, a folder
of MNIST test digits is written to a temporary folder) and grabs the dialog. ``--augment`` adds RandomFlip
and RandomRotation after the Input first and also grabs the augmented samples.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def mnist_folder(folder, n=600):
    import numpy as np
    from PIL import Image

    from engine.datasets import mnist

    _, (x, y) = mnist.load_data()
    for i in range(n):
        os.makedirs(os.path.join(folder, str(y[i])), exist_ok=True)
        Image.fromarray(np.asarray(x[i])).save(os.path.join(folder, str(y[i]), f"{i:05d}.png"))
    return folder


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folder", default=None)
    ap.add_argument("--template", default="mnist_fast_cnn")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "screenshot-dataset.png"))
    ap.add_argument("--window-out", default=None, help="also grab the whole window after 'Use for Training'")
    ap.add_argument("--augment", default=None, help="also add augmentation and grab its samples to this PNG")
    ap.add_argument("--size", default="1000x640")
    ap.add_argument("--train-epochs", type=int, default=0,
                    help="then press Train in the dialog with this many epochs, wait, print the test accuracy")
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
    win.resize(1366, 768)
    win.show()
    win.start()
    win.new_from_template(args.template)
    folder = args.folder or mnist_folder(os.path.join(tmp, "digits"))
    if args.augment:
        doc = win.controller.document
        inp = next(n for n in doc.nodes.values() if n.is_input)
        edge = next(e for e in doc.edges if e.src == inp.id)
        win.controller.insert_into_edge("RandomRotation", edge, doc.nodes[edge.dst].pos)
        edge = next(e for e in doc.edges if e.src == inp.id)
        win.controller.insert_into_edge("RandomZoom", edge, doc.nodes[edge.dst].pos)
    dlg = win.dataset_menu.open_image_folder(folder)
    w, h = (int(v) for v in args.size.lower().split("x"))
    dlg.resize(w, h)
    for _ in range(20):
        app.processEvents()
    dlg.grab().save(args.out)
    print("wrote", args.out)
    if args.augment:
        aug = dlg.show_augmented()
        for _ in range(20):
            app.processEvents()
        aug.grab().save(args.augment)
        print("wrote", args.augment)
    if args.train_epochs:
        import time

        panel = win.training.panel
        panel.set_settings({"epochs": args.train_epochs, "batch_size": 64, "max_train_samples": 0})
        start = time.monotonic()
        dlg.train_button.click()
        while panel.worker.state != "idle" or panel.worker.last_record is None:
            app.processEvents()
            time.sleep(0.05)
        record = panel.worker.last_record
        print(f"trained in the window for {time.monotonic() - start:.0f} s on {panel.worker.dataset.name}: "
              f"{len(panel.worker.dataset.x_train)} training images, test_accuracy: {record.test_accuracy:.4f}")
    if args.window_out:
        if not args.train_epochs:
            dlg.use_for_training()
        for _ in range(40):
            app.processEvents()
        win.grab().save(args.window_out)
        print("wrote", args.window_out)
    win.close()
    QApplication.processEvents()


if __name__ == "__main__":
    raise SystemExit(main())
