"""Does the document's model fit the chosen data set? Answered before training, from the inferred shapes.

The same check that training makes (`data.prepare`, on a one-sample stand-in of the data set with its real
sample shape and classes), so the message is the one a run would give; plus, where one edit fixes it, that
edit as an action the window applies with one click (set the Input's shape, set the last Dense's units).
No model is built and no data is loaded: it runs after every edit.
"""
from __future__ import annotations

import math
import os
import weakref
from dataclasses import dataclass

import numpy as np

from visualkeras_app.training.data import BUILTIN, Dataset, DatasetMismatch, prepare

# The built-in data sets' sample shape and number of classes, without loading them.
BUILTIN_SHAPES = {"mnist": ((28, 28), 10), "fashion_mnist": ((28, 28), 10)}


@dataclass
class FitProblem:
    """Why the model does not fit the data set, and how to fix it.

    Attributes:
        message: what does not fit (as training would report it).
        fix: the sentence saying what to change.
        action: one edit that fixes it, ``(node_id, key, value)`` for ``EditorController.set_param``; None
            when no single edit does (e.g. a Flatten must be inserted).
        action_text: the fix button's text, e.g. "Set the Input to (784,)".
    """

    message: str
    fix: str
    action: tuple | None = None
    action_text: str = ""


# A user's data set's (sample shape, number of classes), once a Dataset dialog has looked at it.
_USER_SHAPES: dict = {}


def remember_shape(path, sample_shape, num_classes):
    """Record a user's data set's sample shape and classes (found by its preview), so that the fit check
    speaks for it before training as it does for the built-in ones."""
    _USER_SHAPES[str(path)] = (tuple(int(d) for d in sample_shape), int(num_classes))


def stand_in(dataset) -> Dataset | None:
    """A one-sample `Dataset` shaped as the built-in ``dataset`` (or a user's one recorded by
    ``remember_shape``); None for a user's file not looked at yet (training reports a mismatch then)."""
    key = str(dataset or "mnist").lower().replace("-", "_")
    if str(dataset) in _USER_SHAPES:
        key = str(dataset)
        shape, k = _USER_SHAPES[key]
    elif key not in BUILTIN_SHAPES:
        return None
    else:
        shape, k = BUILTIN_SHAPES[key]
    x = np.zeros((1,) + shape, np.uint8)
    y = np.zeros(1, np.int64)
    return Dataset(key, x, y, x.copy(), y.copy(), [str(i) for i in range(k)])


def _activation(node) -> str | None:
    """The output node's last activation, read as `data.output_activation` reads a built model's."""
    if node.class_name == "Softmax":
        return "softmax"
    act = node.config.get("activation")
    if isinstance(act, dict):
        act = act.get("config", {}).get("name") or act.get("class_name")
    if act is None:
        return "linear" if node.class_name == "Dense" else None
    return str(act).lower()


# result -> (the graph's key, the ends found): a 20,000-layer document is checked after each inference and
# each change of the Training panel's settings, and finding its ends took 30-50 ms.
_ENDS = weakref.WeakKeyDictionary()


def _ends(doc, result):
    """(inputs, outputs) of ``doc``'s graph, kept for ``result`` while the graph's nodes and edges are the ones
    it was inferred for (an edit makes a new result; tests that edit the lists by hand change their length)."""
    key = (id(doc), id(doc.nodes), len(doc.nodes), id(doc.edges), len(doc.edges))
    try:
        kept = _ENDS.get(result)
    except TypeError:  # a result that cannot be weakly referenced: found every time
        kept = None
    if kept is not None and kept[0] == key:
        return kept[1]
    inputs = [n for n in doc.nodes.values() if n.is_input]
    feeding = {e.src for e in doc.edges}  # one pass over the edges (a lookup per node took 50 ms at 20,000)
    outputs = [n for n in doc.nodes.values() if n.id not in feeding and not n.is_input]
    try:
        _ENDS[result] = (key, (inputs, outputs))
    except TypeError:
        pass
    return inputs, outputs


def model_io(doc):
    """(input node, output node, input shape, output shape) of a one-input, one-output document whose shapes
    are known; None otherwise (the Problems panel speaks for a broken graph)."""
    result = doc.result
    if result is None or getattr(result, "errors", None) or not doc.nodes:
        return None
    inputs, outputs = _ends(doc, result)
    if len(inputs) != 1 or len(outputs) != 1:
        return None
    in_shape, out_shape = result.shapes.get(inputs[0].id), result.shapes.get(outputs[0].id)
    if not isinstance(in_shape, tuple) or not isinstance(out_shape, tuple):
        return None
    return inputs[0], outputs[0], in_shape, out_shape


def _fits(data, in_shape, out_shape, loss, activation) -> bool:
    try:
        prepare(data, in_shape, out_shape, loss, output_activation=activation)
    except DatasetMismatch:
        return False
    return True


def fit_problem(doc, dataset="mnist", loss="auto") -> FitProblem | None:
    """The `FitProblem` of training ``doc``'s model on ``dataset`` (a built-in key) with ``loss``; None when it
    fits, or when that cannot be told before training (a user's file, a broken or multi-input graph)."""
    data = stand_in(dataset)
    io = model_io(doc) if data is not None else None
    if io is None:
        return None
    in_node, out_node, in_shape, out_shape = io
    activation = _activation(out_node)
    try:
        prepare(data, in_shape, out_shape, loss, output_activation=activation)
        return None
    except DatasetMismatch as e:
        message, fix = e.message, e.fix
    k = data.num_classes
    have = data.sample_shape
    want = tuple(in_shape)[1:]
    action, action_text = None, ""
    input_ok = _fits(data, in_shape, (None, k), "auto", "softmax")
    output_ok = _fits(data, (None,) + have, out_shape, loss, activation)
    # One edit fixes only one side; when both differ the model was made for other data (text, say): no guess.
    first = [doc.nodes[e.dst] for e in doc.outputs_of(in_node.id)]
    takes_tokens = any(n.class_name == "Embedding" for n in first)
    if not input_ok and output_ok and not takes_tokens:
        target = (math.prod(have),) if len(want) == 1 else (have + (1,) if len(have) == 2 else have)
        if _fits(data, (None,) + target, (None, k), "auto", "softmax"):
            action = (in_node.id, "batch_shape", [None, *target])
            action_text = f"Set the Input to {target}"
    elif input_ok and not output_ok and len(out_shape) == 2 and out_node.class_name == "Dense" \
            and out_shape[-1] != k:
        action = (out_node.id, "units", k)
        action_text = f"Set {out_node.name}'s units to {k}"
    name = BUILTIN.get(data.name, os.path.basename(os.path.normpath(data.name)))
    return FitProblem(message=message.replace("the data set", name), fix=fix, action=action,
                      action_text=action_text)
