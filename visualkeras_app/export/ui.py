"""The window's export actions: File > Export submenu (Export…, Training Script…, Copy Canvas as Image,
Export Canvas as SVG/PNG…). Qt only at module level: no torch until an export runs.
"""
from __future__ import annotations

import os

from PySide6.QtCore import QMarginsF, QRectF, QSize, Qt
from PySide6.QtGui import QAction, QColor, QGuiApplication, QImage, QKeySequence, QPainter
from PySide6.QtWidgets import QApplication, QFileDialog, QGraphicsItem

# (filter text, default extension, export options)
EXPORT_FILTERS = [
    ("Keras model (*.keras)", ".keras", {}),
    ("Keras HDF5 model (*.h5)", ".h5", {}),
    ("Keras model config (*.json)", ".json", {}),
    ("Keras weights (*.weights.h5)", ".weights.h5", {}),
    ("Python script using engine (*.py)", ".py", {}),
    ("Standalone PyTorch module (*_torch.py)", "_torch.py", {}),
    ("ONNX (*.onnx)", ".onnx", {}),
    ("Graph diagram (*.png *.svg *.pdf *.dot)", ".png", {"style": "graph"}),
    ("Layered diagram (*.png *.svg *.pdf)", ".png", {"style": "layered"}),
]


def install_export_menu(window, file_menu, before=None):
    """Add the Export submenu to ``file_menu`` (before the action ``before`` when given); returns it."""
    menu = file_menu.addMenu("&Export") if before is None else None
    if menu is None:
        from PySide6.QtWidgets import QMenu

        menu = QMenu("&Export", window)
        file_menu.insertMenu(before, menu)
    window.act_export = act = QAction("&Export…", window)
    act.setShortcut(QKeySequence("Ctrl+E"))
    act.setStatusTip("Export the model: Keras files, a Python or PyTorch script, ONNX, or a diagram")
    act.triggered.connect(lambda: export_dialog(window))
    menu.addAction(act)
    window.act_export_training = act = QAction("&Training Script…", window)
    act.setStatusTip("Write a standalone train.py for this model and the Training panel's settings, to run with "
                     "python or torchrun")
    act.setToolTip("A standalone train.py: this model, its data set and the Training panel's settings.\n"
                   "Run it with 'python train.py', or on several GPUs with\n"
                   "'torchrun --nproc_per_node=N train.py'. It saves model.keras.")
    act.triggered.connect(lambda: export_training_script_dialog(window))
    menu.addAction(act)
    menu.setToolTipsVisible(True)
    menu.addSeparator()
    window.act_copy_canvas = act = QAction("&Copy Canvas as Image", window)
    act.setStatusTip("Copy the canvas to the clipboard as an image")
    act.triggered.connect(lambda: copy_canvas(window))
    menu.addAction(act)
    window.act_export_canvas = act = QAction("Export &Canvas as SVG/PNG…", window)
    act.setStatusTip("Save the canvas as it looks, as an SVG or PNG file")
    act.triggered.connect(lambda: export_canvas_dialog(window))
    menu.addAction(act)
    return menu


def _status(window, text):
    fn = getattr(window, "show_message", None)
    if fn is not None:
        fn(text)


def _error(window, title, text):
    fn = getattr(window, "_error", None)
    if fn is not None:
        fn(title, text)
    else:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.warning(window, title, text)


def _base_name(window):
    name = getattr(window, "display_name", None) or "model"
    return os.path.splitext(os.path.basename(str(name)))[0] or "model"


def export_dialog(window):
    filters = [f for f, _, _ in EXPORT_FILTERS]
    start = os.path.join(os.path.expanduser("~"), _base_name(window) + ".keras")
    path, chosen = QFileDialog.getSaveFileName(window, "Export Model", start, ";;".join(filters))
    if not path:
        return None
    options = {}
    for text, ext, opts in EXPORT_FILTERS:
        if text == chosen:
            options = dict(opts)
            from visualkeras_app.export.core import ExportError, detect_format

            try:
                detect_format(path)
            except ExportError:
                path += ext
    return export_document(window, path, **options)


def training_settings(window):
    """The settings a training script gets: the Training panel's when it is loaded, else the document's
    saved ones over the one-click recipe (what ``visualkeras-app train`` would use)."""
    training = getattr(window, "training", None)
    panel = getattr(training, "panel", None)
    if panel is not None:
        return panel.settings()
    from visualkeras_app.training.recipe import settings_for

    return settings_for(window.controller.document)


def export_training_script_dialog(window):
    start = os.path.join(os.path.expanduser("~"), "train.py")
    path, _ = QFileDialog.getSaveFileName(window, "Export Training Script", start, "Python training script (*.py)")
    if not path:
        return None
    if not path.lower().endswith(".py"):
        path += ".py"
    try:
        settings = training_settings(window)
    except ValueError as e:
        _error(window, "Export failed", str(e))
        return None
    return export_document(window, path, format="train", settings=settings, name=_base_name(window))


def export_document(window, path, **options):
    """Export the window's document to ``path``; errors in a dialog, the result in the status bar."""
    from visualkeras_app.export import ExportError, export_model

    doc = window.controller.document
    QApplication.setOverrideCursor(Qt.WaitCursor)
    try:
        report = export_model(doc, path, **options)
    except (ExportError, ValueError, OSError) as e:
        QApplication.restoreOverrideCursor()
        _error(window, "Export failed", str(e))
        return None
    except ImportError as e:
        QApplication.restoreOverrideCursor()
        _error(window, "Export failed", f"A package this export needs is missing: {e}")
        return None
    QApplication.restoreOverrideCursor()
    message = report.message()
    if report.format not in ("png", "svg", "pdf", "dot", "train") and not any(n.weights for n in doc.nodes.values()):
        message += " The model has not been trained: its weights are fresh random ones."
    _status(window, message)
    return report


def _scene_rect(scene, margin=24.0):
    realize_all = getattr(scene, "realize_all", None)
    if realize_all is not None:  # a big document's canvas has items only near the view: make them all
        realize_all()
    return scene.itemsBoundingRect().marginsAdded(QMarginsF(margin, margin, margin, margin))


def canvas_image(scene, scale=2.0) -> QImage:
    """The canvas's items as an image (white background), ``scale`` pixels per scene unit."""
    rect = _scene_rect(scene)
    w, h = max(1, int(rect.width() * scale)), max(1, int(rect.height() * scale))
    image = QImage(w, h, QImage.Format_ARGB32)
    image.setDevicePixelRatio(1.0)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.Antialiasing, True)
    painter.setRenderHint(QPainter.TextAntialiasing, True)
    scene.render(painter, QRectF(0, 0, w, h), rect)
    painter.end()
    return image


def save_canvas(scene, path) -> str:
    """Write the canvas to ``path`` as SVG (vector) or PNG; returns the format written."""
    from engine.utils.file_utils import atomic_write

    lower = path.lower()
    if not lower.endswith((".svg", ".png")):
        raise ValueError(f"The canvas is exported as .svg or .png. Received: {os.path.basename(path)!r}")
    written = []
    atomic_write(path, lambda tmp: written.append(_write_canvas(scene, tmp, lower)))
    return written[0]


def _write_canvas(scene, path, lower):
    if lower.endswith(".svg"):
        from PySide6.QtSvg import QSvgGenerator

        rect = _scene_rect(scene)
        gen = QSvgGenerator()
        gen.setFileName(path)
        gen.setSize(QSize(int(rect.width()), int(rect.height())))
        gen.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
        gen.setTitle("visualkeras-app canvas")
        # Items cached as pixmaps (the node boxes, for fast panning) would land in the SVG as images:
        # draw them uncached so that the file stays vector, with real text.
        cached = [(item, item.cacheMode()) for item in scene.items() if item.cacheMode() != QGraphicsItem.NoCache]
        for item, _ in cached:
            item.setCacheMode(QGraphicsItem.NoCache)
        try:
            painter = QPainter(gen)
            painter.fillRect(QRectF(0, 0, rect.width(), rect.height()), QColor("white"))
            scene.render(painter, QRectF(0, 0, rect.width(), rect.height()), rect)
            painter.end()
        finally:
            for item, mode in cached:
                item.setCacheMode(mode)
        return "svg"
    if not canvas_image(scene).save(path, "PNG"):
        raise OSError(f"Could not write {path!r}.")
    return "png"


def copy_canvas(window):
    scene = window.scene
    if not scene.items() and not window.controller.document.nodes:  # a big document's items come on demand
        _status(window, "The canvas is empty: nothing to copy.")
        return None
    image = canvas_image(scene)
    QGuiApplication.clipboard().setImage(image)
    _status(window, f"Copied the canvas as a {image.width()}×{image.height()} image.")
    return image


def export_canvas_dialog(window):
    start = os.path.join(os.path.expanduser("~"), _base_name(window) + "-canvas.svg")
    path, chosen = QFileDialog.getSaveFileName(window, "Export Canvas", start, "SVG image (*.svg);;PNG image (*.png)")
    if not path:
        return None
    if not path.lower().endswith((".svg", ".png")):
        path += ".png" if "PNG" in chosen else ".svg"
    try:
        fmt = save_canvas(window.scene, path)
    except (ValueError, OSError) as e:
        _error(window, "Export failed", str(e))
        return None
    _status(window, f"Exported the canvas as {fmt.upper()} to {path}.")
    return path
