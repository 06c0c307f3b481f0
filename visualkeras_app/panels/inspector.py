"""The inspector: typed editors for the selected layer's hyperparameters.

The editors come from ``document.defaults.param_spec(class_name)``: a spin box for ints, a check box
for booleans, a combo box for choices and activations, a line edit for floats, tuples and shapes.
Each value is checked with ``defaults.validate_param`` before it reaches the document; a refused value
stays in its editor, framed in red, with the reason under the form, and the document does not change.
Accepted edits go through ``controller.set_param`` (an undoable command).
"""
from __future__ import annotations

import json

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QFrame, QLabel, QLineEdit, QPushButton,
                               QScrollArea, QSizePolicy, QSpinBox, QToolButton, QVBoxLayout, QWidget)

_INVALID_STYLE = "border: 1px solid #d03030; border-radius: 2px; background: #fff0f0;"
_COMMON_ACTIVATIONS = ["linear", "relu", "sigmoid", "softmax", "tanh", "elu", "selu", "gelu", "silu",
                       "softplus", "softsign", "leaky_relu", "relu6", "hard_sigmoid", "exponential"]
_INT_LIMIT = 2 ** 31 - 1
_COMBO_KINDS = ("choice", "activation", "initializer", "regularizer", "constraint")


def _spec_attr(spec, name, default=None):
    if isinstance(spec, dict):
        return spec.get(name, default)
    return getattr(spec, name, default)


def _norm(name) -> str:
    return str(name).replace("_", "").lower()


def format_value(value) -> str:
    """How a config value reads in a line edit: tuples as ``3, 3``, None as empty."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join("None" if v is None else format_value(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def _parse_int_list(text, allow_none):
    parts = [p.strip() for p in text.strip().strip("()[]").split(",")]
    parts = [p for p in parts if p != ""]
    out = []
    for p in parts:
        if allow_none and p.lower() == "none":
            out.append(None)
            continue
        try:
            out.append(int(p))
        except ValueError:
            raise ValueError(f"{p!r} is not a whole number") from None
    return out


def parse_text(kind, text, current):
    """Parse an editor's text for ``kind``; ValueError with a short reason when it does not parse."""
    text = text.strip()
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number; type e.g. 0.5 or 1e-3") from None
    if kind == "optional_float":
        if text.lower() in ("", "none"):
            return None
        return parse_text("float", text, current)
    if kind == "optional_int":
        if text.lower() in ("", "none"):
            return None
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number; leave it empty for None") from None
    if kind in ("tuple", "shape"):
        try:
            values = _parse_int_list(text, allow_none=(kind == "shape"))
        except ValueError as exc:
            raise ValueError(f"{exc}; type comma-separated whole numbers, e.g. 3, 3") from None
        if kind == "tuple" and not values:
            raise ValueError("type at least one whole number, e.g. 3, 3")
        # A single number for a longer tuple means "the same along every axis", as Keras reads it.
        if kind == "tuple" and len(values) == 1 and isinstance(current, (list, tuple)) and len(current) > 1:
            values = values * len(current)
        return list(values) if isinstance(current, list) else tuple(values)
    if kind in ("json", "layer"):
        if text == "":
            return None
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text  # str


class ParamEditor(QObject):
    """One hyperparameter's widget. ``committed(key)`` when the user finishes an edit."""

    committed = Signal(str)

    def __init__(self, key, kind, spec, parent_widget):
        super().__init__(parent_widget)
        self.key = key
        self.kind = kind
        self.spec = spec
        self.current = None
        self.widget = self._make(parent_widget)
        tip = _spec_attr(spec, "tooltip") or _spec_attr(spec, "help") or ""
        self.widget.setToolTip(tip or key)
        self.widget.setObjectName(f"param_{key}")
        self._base_tip = self.widget.toolTip()

    # -------------------------------------------------------------- widget per kind
    def _make(self, parent):
        kind = self.kind
        if kind == "int":
            w = QSpinBox(parent)
            # Wide range on purpose: an out-of-range number reaches validate_param and gets its reason,
            # rather than being swallowed by the spin box.
            w.setRange(-_INT_LIMIT, _INT_LIMIT)
            w.setKeyboardTracking(False)
            w.setAccelerated(True)
            w.valueChanged.connect(self._emit)
            return w
        if kind == "bool":
            w = QCheckBox(parent)
            w.toggled.connect(self._emit)
            return w
        if kind in _COMBO_KINDS:
            w = QComboBox(parent)
            choices = list(_spec_attr(self.spec, "choices") or [])
            if kind == "activation":
                w.setEditable(True)
                choices = choices or list(_COMMON_ACTIVATIONS)
            for c in choices:
                w.addItem("None" if c is None else str(c), c)
            w.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            w.setMinimumContentsLength(8)
            w.activated.connect(self._emit)
            if w.isEditable():
                w.lineEdit().editingFinished.connect(self._emit)
            return w
        w = QLineEdit(parent)
        placeholder = {"tuple": "e.g. 3, 3", "shape": "e.g. None, 28, 28, 1", "optional_int": "None",
                       "optional_float": "None", "float": "a number"}.get(kind, "")
        w.setPlaceholderText(placeholder)
        w.editingFinished.connect(self._emit)
        return w

    def _emit(self, *_):
        self.committed.emit(self.key)

    # -------------------------------------------------------------- values
    def set_value(self, value):
        """Show ``value`` (the document's) without committing anything."""
        self.current = value
        w = self.widget
        w.blockSignals(True)
        try:
            if isinstance(w, QSpinBox):
                w.setValue(int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0)
            elif isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, QComboBox):
                idx = self._combo_index(value)
                if idx < 0:
                    label = self._label_of(value)
                    w.addItem(label, value)
                    idx = w.count() - 1
                w.setCurrentIndex(idx)
                if w.isEditable():
                    w.lineEdit().blockSignals(True)
                    w.setEditText(w.itemText(idx))
                    w.lineEdit().blockSignals(False)
            else:
                w.setText(format_value(value))
                w.setCursorPosition(0)
        finally:
            w.blockSignals(False)
        self.mark_invalid(None)

    @staticmethod
    def _label_of(value):
        if isinstance(value, dict):
            return str(value.get("class_name", json.dumps(value)))
        return "None" if value is None else str(value)

    def _combo_index(self, value):
        w = self.widget
        for i in range(w.count()):
            if w.itemData(i) == value:
                return i
        # Initializers come from get_config as dicts; match their class name to a string choice.
        target = _norm(self._label_of(value))
        for i in range(w.count()):
            if _norm(w.itemText(i)) == target:
                return i
        return -1

    def value(self):
        """The edited value; ValueError with a reason when the text does not parse."""
        w = self.widget
        if isinstance(w, QSpinBox):
            return int(w.value())
        if isinstance(w, QCheckBox):
            return bool(w.isChecked())
        if isinstance(w, QComboBox):
            if w.isEditable():
                text = w.currentText().strip()
                idx = w.findText(text)
                if idx >= 0:
                    return self._keep_form(w.itemData(idx))
                if not text:
                    raise ValueError("choose a value")
                return text
            data = w.currentData()
            return self._keep_form(data)
        return parse_text(self.kind, w.text(), self.current)

    def _keep_form(self, data):
        # Re-picking the item that shows the current dict value keeps the dict (no spurious edit).
        if isinstance(self.current, dict) and _norm(self._label_of(self.current)) == _norm(self._label_of(data)):
            return self.current
        return data

    def mark_invalid(self, reason):
        self.widget.setStyleSheet(_INVALID_STYLE if reason else "")
        self.widget.setToolTip(f"{self._base_tip}\n\nRefused: {reason}" if reason else self._base_tip)
        self.widget.setProperty("invalid", bool(reason))

    @property
    def is_invalid(self):
        return bool(self.widget.property("invalid"))


class InspectorPanel(QWidget):
    """Edits the selected node. Needs a controller with ``document``, ``selection_changed``,
    ``document_replaced``, ``set_param``, ``rename`` (see ``editor/controller.py``)."""

    refused = Signal(str)  # a refused edit's reason (the window shows it in the status bar too)

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.controller = controller
        self.node_id = None
        self.editors: dict[str, ParamEditor] = {}
        self._doc = None

        self.title = QLabel(self)
        self.title.setTextFormat(Qt.RichText)
        self.title.setWordWrap(True)
        self.name_edit = QLineEdit(self)
        self.name_edit.setObjectName("name_edit")
        self.name_edit.setToolTip("The layer's name (unique in the model); Keras uses it in summaries and files")
        # Freeze / unfreeze the selected layer's whole block (layers sharing Keras's block name prefix).
        self.block_button = QPushButton(self)
        self.block_button.setObjectName("block_trainable_button")
        self.block_button.clicked.connect(self._toggle_block)
        self.block_button.hide()
        self.info = QLabel(self)
        self.info.setTextFormat(Qt.RichText)
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.problems = QLabel(self)
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #b02020;")
        self.error = QLabel(self)
        self.error.setObjectName("inspector_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b02020; background: #fff0f0; border: 1px solid #e0a0a0; "
                                 "border-radius: 3px; padding: 4px;")
        self.error.hide()
        self.empty = QLabel("Select a layer on the canvas to edit its settings.", self)
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignHCenter | Qt.AlignTop)
        self.empty.setStyleSheet("color: palette(mid); padding: 12px;")

        self.form_host = QWidget()
        self.form = self._new_form()
        self.advanced_toggle = QToolButton(self.form_host)
        self.advanced_toggle.setText("Advanced: initializers, regularizers, constraints")
        self.advanced_toggle.setCheckable(True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.advanced_toggle.setArrowType(Qt.RightArrow)
        self.advanced_toggle.setAutoRaise(True)
        self.advanced_toggle.setToolTip("Settings most models keep at their Keras defaults")
        self.advanced_host = QWidget(self.form_host)
        self.advanced_form = self._new_form()
        self.advanced_host.setLayout(self.advanced_form)
        self.advanced_host.setVisible(False)
        self.advanced_toggle.toggled.connect(self._toggle_advanced)
        self.weight_view = None  # the trained weights' statistics and histograms, made when a layer has some
        host_layout = QVBoxLayout(self.form_host)
        host_layout.setContentsMargins(0, 0, 0, 0)
        host_layout.setSpacing(2)
        form_widget = QWidget(self.form_host)
        form_widget.setLayout(self.form)
        host_layout.addWidget(form_widget)
        host_layout.addWidget(self.advanced_toggle)
        host_layout.addWidget(self.advanced_host)
        host_layout.addWidget(self.error)  # under the fields, where the eye is after an edit
        host_layout.addStretch(1)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.NoFrame)
        self.scroll.setWidget(self.form_host)

        head = QFormLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.setLabelAlignment(Qt.AlignRight | Qt.AlignVCenter)
        head.addRow("Name", self.name_edit)
        self.head_host = QWidget(self)
        self.head_host.setLayout(head)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.empty)
        layout.addWidget(self.title)
        layout.addWidget(self.head_host)
        layout.addWidget(self.info)
        layout.addWidget(self.block_button)
        layout.addWidget(self.problems)
        self.separator = self._separator()
        layout.addWidget(self.separator)
        layout.addWidget(self.scroll, 1)
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Expanding)

        self.name_edit.editingFinished.connect(self._commit_name)
        controller.selection_changed.connect(self._on_selection)
        controller.document_replaced.connect(self._on_document_replaced)
        self._attach(controller.document)
        self.show_node(None)

    @staticmethod
    def _new_form():
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignRight | Qt.AlignVCenter)
        form.setContentsMargins(2, 2, 2, 2)
        form.setVerticalSpacing(5)
        return form

    def _toggle_advanced(self, on):
        self.advanced_toggle.setArrowType(Qt.DownArrow if on else Qt.RightArrow)
        self.advanced_host.setVisible(on)

    @staticmethod
    def _separator():
        line = QFrame()
        line.setFrameShape(QFrame.HLine)
        line.setFrameShadow(QFrame.Sunken)
        return line

    # ------------------------------------------------------------------ document wiring
    def _attach(self, doc):
        if self._doc is not None:
            self._doc.node_changed.disconnect(self._on_node_changed)
            self._doc.node_removed.disconnect(self._on_node_removed)
            self._doc.inferred.disconnect(self._on_inferred)
        self._doc = doc
        if doc is not None:
            doc.node_changed.connect(self._on_node_changed)
            doc.node_removed.connect(self._on_node_removed)
            doc.inferred.connect(self._on_inferred)

    def _on_document_replaced(self):
        self._attach(self.controller.document)
        self.show_node(None)

    def _on_selection(self, ids):
        ids = list(ids)
        if len(ids) == 1:
            self.show_node(ids[0])
        else:
            self.show_node(None, count=len(ids))

    def _on_node_changed(self, node):
        if node.id == self.node_id:
            self._refresh_values()
        self._refresh_block()

    def _refresh_block(self):
        from visualkeras_app.document.blocks import block_members, block_of, block_trainable

        doc = self.controller.document
        node = doc.nodes.get(self.node_id)
        block = block_of(node.name) if node is not None else None
        members = block_members(doc, block) if block else []
        self.block_button.setVisible(len(members) > 1)
        if len(members) > 1:
            freeze = block_trainable(doc, block) is not False
            self.block_button.setText(f"{'Freeze' if freeze else 'Unfreeze'} block {block} ({len(members)} layers)")
            self.block_button.setToolTip(f"Set trainable={not freeze} on every layer named {block}_…")

    def _toggle_block(self):
        from visualkeras_app.document.blocks import block_of, block_trainable, set_block_trainable

        node = self.controller.document.nodes.get(self.node_id)
        block = block_of(node.name) if node is not None else None
        if block:
            set_block_trainable(self.controller, block, block_trainable(self.controller.document, block) is False)
            self._refresh_block()

    def _on_node_removed(self, node):
        if node.id == self.node_id:
            self.show_node(None)

    def _on_inferred(self, _result):
        if self.node_id is not None:
            self._refresh_info()

    # ------------------------------------------------------------------ building
    def show_node(self, node_id, count=0):
        """Show the editors of ``node_id`` (None: the empty hint, or "N layers selected")."""
        doc = self.controller.document
        if node_id is not None and node_id not in doc.nodes:
            node_id = None
        self.node_id = node_id
        self._clear_form()
        self._set_error(None)
        has = node_id is not None
        for w in (self.title, self.head_host, self.info, self.separator, self.scroll):
            w.setVisible(has)
        self.empty.setVisible(not has)
        self.problems.setVisible(False)
        self.block_button.setVisible(False)
        if not has:
            self.empty.setText(f"{count} layers selected. Select one layer to edit its settings." if count > 1
                               else "Select a layer on the canvas to edit its settings.")
            return
        node = doc.nodes[node_id]
        from visualkeras_app.document import defaults

        try:
            specs = list(defaults.param_spec(node.class_name))
        except Exception as exc:  # an unknown class still shows its name
            specs = []
            self._set_error(f"No editable settings for {node.class_name}: {exc}")
        n_advanced = 0
        for spec in specs:
            key = _spec_attr(spec, "name")
            kind = _spec_attr(spec, "kind", "str")
            advanced = bool(_spec_attr(spec, "advanced", False))
            host = self.advanced_host if advanced else self.form_host
            editor = ParamEditor(key, kind, spec, host)
            editor.committed.connect(self._commit_param)
            label = QLabel(_spec_attr(spec, "label") or key, host)
            label.setToolTip(editor.widget.toolTip())
            (self.advanced_form if advanced else self.form).addRow(label, editor.widget)
            self.editors[key] = editor
            n_advanced += advanced
        self.advanced_toggle.setVisible(n_advanced > 0)
        self._refresh_values()
        self._refresh_block()

    def _clear_form(self):
        for editor in self.editors.values():
            editor.committed.disconnect(self._commit_param)
        self.editors = {}
        for form in (self.form, self.advanced_form):
            while form.rowCount():
                form.removeRow(0)

    def _refresh_values(self):
        node = self.controller.document.nodes.get(self.node_id)
        if node is None:
            return
        self.name_edit.blockSignals(True)
        self.name_edit.setText(node.name)
        self.name_edit.blockSignals(False)
        self.name_edit.setStyleSheet("")
        for key, editor in self.editors.items():
            editor.set_value(node.config.get(key))
        self._refresh_info()

    def _refresh_info(self):
        doc = self.controller.document
        node = doc.nodes.get(self.node_id)
        if node is None:
            return
        from visualkeras_app.document.style import category_color, category_of

        category = category_of(node.class_name)
        color = category_color(category)
        self.title.setText(f"<span style='color:{color}; font-size:15px'>■</span> "
                           f"<b style='font-size:13px'>{node.class_name}</b>"
                           f"<span style='color:gray'>&nbsp;&nbsp;{category}</span>")
        result = doc.result
        shape = params = "?"
        problems = []
        record = result.record(node.id) if result is not None else None
        if record is not None:
            shape, params, problems = record.shape_text, record.param_text, record.problems
        weights = ""
        if node.weights is not None:
            fits = record is None or record.weights_ok is not False
            weights = ("<br><span style='color:gray'>Keeps trained weights</span>" if fits else
                       "<br><span style='color:#8A5300'>Trained weights dropped: their shapes no longer fit, so "
                       "this layer starts from new weights (Undo brings them back)</span>")
        self.info.setText(f"<table cellspacing='2'><tr><td style='color:gray'>Output shape&nbsp;</td>"
                          f"<td><code>{shape}</code></td></tr><tr><td style='color:gray'>Params</td>"
                          f"<td>{params}</td></tr></table>{weights}")
        if problems:
            self.problems.setText("\n".join(f"⚠ {p.message}" for p in problems))
        self.problems.setVisible(bool(problems))
        self._show_weights(node)

    def _show_weights(self, node):
        """Each trained weight's shape, min/max/mean/std and histogram, under the settings (numpy loads only
        once a layer with weights is shown)."""
        if self.weight_view is None:
            if node is None or node.weights is None:
                return
            from visualkeras_app.panels.weight_view import WeightView

            self.weight_view = WeightView(self.form_host)
            lay = self.form_host.layout()
            lay.insertWidget(lay.count() - 1, self.weight_view)  # before the stretch
        self.weight_view.set_node(node)

    def refresh_weights(self):
        """Show the selected layer's weights again (after training wrote new ones into the document)."""
        self._show_weights(self.controller.document.nodes.get(self.node_id))

    # ------------------------------------------------------------------ commits
    def _set_error(self, text):
        self.error.setText(text or "")
        self.error.setVisible(bool(text))

    def _commit_param(self, key):
        node = self.controller.document.nodes.get(self.node_id)
        editor = self.editors.get(key)
        if node is None or editor is None:
            return
        try:
            value = editor.value()
        except ValueError as exc:
            self._refuse(editor, f"{key}: {exc}.")
            return
        if value == node.config.get(key) and type(value) is type(node.config.get(key)):
            editor.mark_invalid(None)
            self._set_error(None)
            return
        from visualkeras_app.document import defaults

        ok, reason = defaults.validate_param(node.class_name, key, value, node.config)
        if not ok:
            self._refuse(editor, reason)
            return
        said = []
        self.controller.message.connect(said.append)
        try:
            applied = self.controller.set_param(node.id, key, value)
        finally:
            self.controller.message.disconnect(said.append)
        if applied is False:  # the controller has the last word (it re-validates)
            self._refuse(editor, said[-1] if said else f"{key}: the value was not accepted.")
            return
        editor.mark_invalid(None)
        self._set_error(None)

    def _refuse(self, editor, reason):
        editor.mark_invalid(reason)
        self._set_error(f"Not applied — {reason}")
        self.refused.emit(reason)

    def _commit_name(self):
        node = self.controller.document.nodes.get(self.node_id)
        if node is None:
            return
        name = self.name_edit.text().strip()
        if name == node.name:
            self.name_edit.setStyleSheet("")
            return
        reason = None
        if not name:
            reason = "A layer name cannot be empty."
        elif any(n.name == name and n.id != node.id for n in self.controller.document.nodes.values()):
            reason = f"A layer named {name!r} already exists; layer names must be unique."
        else:
            try:
                self.controller.rename(node.id, name)
            except ValueError as exc:  # GraphError is a ValueError
                reason = str(exc)
        if reason:
            self.name_edit.setStyleSheet(f"QLineEdit {{{_INVALID_STYLE}}}")
            self._set_error(f"Not renamed — {reason}")
            self.refused.emit(reason)
        else:
            self.name_edit.setStyleSheet("")
            self._set_error(None)
