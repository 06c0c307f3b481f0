"""The window's Dataset menu: your own data, looked at before training.

Kept apart from ``mainwindow.py`` (as the Export menu is): the window calls ``install_dataset_menu`` once.
"""
from __future__ import annotations

from PySide6.QtWidgets import QFileDialog


class DatasetMenu:
    """Dataset ▸ Image folder… / Table (CSV)… / Arrays (.npz)…; each opens a preview dialog.

    Attributes:
        menu: the QMenu.
        act_folder, act_table, act_arrays: its actions.
        dialog: the last dialog opened (tests read it).
    """

    def __init__(self, window, bar, before=None):
        self.window = window
        self.dialog = None
        self.menu = bar.addMenu("&Dataset") if before is None else None
        if self.menu is None:
            from PySide6.QtWidgets import QMenu

            self.menu = QMenu("&Dataset", bar)
            bar.insertMenu(before, self.menu)
        self.menu.setToolTipsVisible(True)
        self.act_folder = window.add_action("&Image Folder…", self.open_image_folder, None,
                                            "Train on your own images: a folder with one subfolder per class")
        self.act_table = window.add_action("&Table (CSV)…", self.open_table, None,
                                           "Train on a table: pick the feature and target columns")
        self.act_arrays = window.add_action("&Arrays (.npz)…", self.open_arrays, None,
                                            "Train on NumPy arrays: x_train, y_train, x_test, y_test")
        for act in (self.act_folder, self.act_table, self.act_arrays):
            self.menu.addAction(act)
        from visualkeras_app.data_ui.predict_drop import PredictDrop

        self.predict_drop = PredictDrop(window)  # images dropped on the Results dock are classified

    def _show(self, dialog):
        self.dialog = dialog
        dialog.show()
        return dialog

    def open_image_folder(self, path=None):
        """Open the image-folder preview; without ``path``, ask for a folder first."""
        from visualkeras_app.data_ui.image_folder_dialog import ImageFolderDialog

        if not path:
            path = QFileDialog.getExistingDirectory(self.window, "Open an image folder (one subfolder per class)")
            if not path:
                return None
        return self._show(ImageFolderDialog(self.window, path))

    def open_table(self, path=None):
        from visualkeras_app.data_ui.table_dialog import TableDialog

        if not path:
            path, _ = QFileDialog.getOpenFileName(self.window, "Open a table", "", "CSV files (*.csv);;All files (*)")
            if not path:
                return None
        return self._show(TableDialog(self.window, path))

    def open_arrays(self, path=None):
        from visualkeras_app.data_ui.arrays_dialog import ArraysDialog

        if not path:
            path, _ = QFileDialog.getOpenFileName(self.window, "Open arrays", "", "NumPy arrays (*.npz);;All files (*)")
            if not path:
                return None
        return self._show(ArraysDialog(self.window, path))


def install_dataset_menu(window, bar, before=None) -> DatasetMenu:
    return DatasetMenu(window, bar, before)
