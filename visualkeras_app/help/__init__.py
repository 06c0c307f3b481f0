"""Help: the getting-started page, per-layer documentation (F1 on a palette item or a selected layer), and the
Help menu entries that open them (`install_help`). The shortcut sheet is `visualkeras_app.shortcuts`."""
from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence


def install_help(window, help_menu):
    """Add "Getting Started" and "Layer Documentation" (F1) at the top of ``help_menu``; the actions are
    ``window.act_getting_started`` and ``window.act_layer_help``."""
    from visualkeras_app.help import dialogs

    first = help_menu.actions()[0] if help_menu.actions() else None
    start = QAction("&Getting Started", window)
    start.setToolTip("A first model in five steps: build, check the shapes, train, see the results, save")
    start.setStatusTip(start.toolTip())
    start.triggered.connect(lambda: dialogs.show_getting_started(window))
    layer = QAction("&Layer Documentation", window)
    layer.setShortcut(QKeySequence("F1"))
    layer.setToolTip("The selected layer's (or the highlighted palette item's) documentation: what it does, its "
                     "arguments, its input and output shapes")
    layer.setStatusTip(layer.toolTip())
    layer.triggered.connect(lambda: dialogs.show_layer_help(window))
    for act in (start, layer):
        window.addAction(act)
        help_menu.insertAction(first, act)
    if first is not None:
        help_menu.insertSeparator(first)
    window.act_getting_started, window.act_layer_help = start, layer
    return start, layer
