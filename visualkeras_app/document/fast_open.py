"""A Keras ``Sequential`` config opened as a document without building its model (issue 18: a 20,000-layer
file in seconds, where building every layer took a millisecond each).

The usual way (``project.open_any``) builds the engine model from the config, then reads the document off
it. A Sequential config that starts with an ``InputLayer`` says all the document needs: each layer's class
and config, in order, one after another. Here each *distinct* layer config (its class and config less the
name) is built once by the engine's own deserializer, under ``shapes_only()``, and its ``get_config()``
cleaned as the usual way cleans it (``defaults.clean_config``); layers that differ only by name share
that. Shapes, parameter counts and problems then come from the document's inference, which caches on
``(class, config, input shape)``, so a long run of like layers costs one probe.

The result is the document the usual way makes (the same node ids, names, configs, edges and layout; a
test compares them). Anything this does not take, it declines (returns None) and the caller builds the
model as before, which also gives the usual error for a broken file: a config that is not a Sequential
starting with an Input, a nested model, a layer the inference finds a problem with, or more weights than
the engine's loader allows (``WeightBudget``).
"""
from __future__ import annotations

import json

from engine.utils.progress_utils import report
from visualkeras_app.document.graph import Document, Edge, LayerNode

# The name the shared layers are built under (the nodes get their own): keeps Keras's automatic-name
# counters untouched.
_PROBE_NAME = "vk_fast_open_layer"
# Layer classes that hold other models or Python code: always the usual way.
_DECLINED = {"Sequential", "Functional", "Model", "Lambda", "TFOpLambda", "SlicingOpLambda"}


def _layer_specs(data):
    """The layer configs of a Keras 3 Sequential model config starting with an InputLayer, or None."""
    if not isinstance(data, dict) or data.get("class_name") != "Sequential":
        return None
    inner = data.get("config")
    specs = inner.get("layers") if isinstance(inner, dict) else None
    if not isinstance(specs, list) or len(specs) < 2:
        return None
    names = set()
    for spec in specs:
        if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str) \
                or spec["class_name"] in _DECLINED or not isinstance(spec.get("config"), dict):
            return None
        name = spec["config"].get("name")
        if not isinstance(name, str) or not name or name in names:
            return None
        names.add(name)
    if specs[0]["class_name"] != "InputLayer" or any(s["class_name"] == "InputLayer" for s in specs[1:]):
        return None
    return specs


def sequential_document(data):
    """The document for Sequential model config ``data`` (a parsed ``model.to_json()``), made without
    building the model; None when the config is not one this takes (see the module docstring). Its layer
    configs are checked as ``project.check_document`` checks a document's (``ValueError`` naming the layer)."""
    specs = _layer_specs(data)
    if specs is None:
        return None
    from engine.layers.layer import shapes_only
    from engine.saving.serialization import WeightBudget, deserialize_layer

    from visualkeras_app.document.config_check import check_layer_config
    from visualkeras_app.document.defaults import clean_config
    from visualkeras_app.document.layout import apply_layout, auto_layout

    made = {}  # the spec less its name, as JSON -> (class name, cleaned config as JSON)
    doc = Document()
    with doc.batch():
        prev = None
        for i, spec in enumerate(specs):
            config = dict(spec["config"])
            name = config.pop("name")
            key = json.dumps([spec["class_name"], spec.get("module"), spec.get("registered_name"), config],
                             sort_keys=True)
            if key not in made:
                with shapes_only():
                    layer = deserialize_layer({**spec, "config": {**config, "name": _PROBE_NAME}})
                clean = clean_config(layer.get_config())
                # What project.check_document checks of each node, once per distinct config (its messages
                # name the layer: the first one with that config).
                check_layer_config(type(layer).__name__, clean, name)
                made[key] = (type(layer).__name__, json.dumps(clean))
            class_name, clean = made[key]
            # Each node owns its config (a copy, parsed from the JSON text: the quickest deep copy).
            nid = doc.add_node(LayerNode(doc.new_id(), class_name, name, json.loads(clean))).id
            if prev is not None:
                doc.add_edge(Edge(prev, nid))
            prev = nid
            report("Reading the layers", i + 1, len(specs))
        apply_layout(doc, auto_layout(doc, "TB"))
    result = doc.result
    if result is None or result.problems or result.total_params > WeightBudget().limit:
        return None  # the usual way gives the file's error (or opens what this cannot judge)
    return doc
