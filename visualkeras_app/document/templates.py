"""Ready-made documents for File > New from template and ``visualkeras-app summary TEMPLATE``.

Each template is a JSON file in ``resources/templates/``: ``key``, ``title``, ``description``,
``layers`` (``name``, ``class_name`` and the config keys that differ from the palette's defaults), an
optional ``edges`` list (``[src, dst, dst_port?, src_port?]`` by layer name; without it the layers form
a chain in order) and optional ``training`` settings.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

from visualkeras_app.document.graph import Document, Edge, LayerNode


@dataclass(frozen=True)
class Template:
    key: str
    title: str
    description: str
    group: str = ""  # a submenu of File > New from Template ("Applications"), or "" for the menu itself


def templates_dir() -> str:
    from visualkeras_app import resources_path

    return os.path.join(resources_path(), "templates")


def _read(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# The order of File > New from template: simplest first.
_ORDER = ["seed_mlp", "seed_cnn", "mnist_fast_cnn", "text_lstm", "residual_block"]


def list_templates() -> list[Template]:
    """Every template shipped in ``resources/templates`` (the known ones first, in a teaching order); with
    the engine-built application templates: ``all_templates``."""
    folder = templates_dir()
    out = []
    for fname in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if fname.endswith(".json"):
            data = _read(os.path.join(folder, fname))
            out.append(Template(data["key"], data["title"], data.get("description", "")))
    rank = {k: i for i, k in enumerate(_ORDER)}
    return sorted(out, key=lambda t: (rank.get(t.key, len(rank)), t.key))


def all_templates() -> list[Template]:
    """``list_templates()`` and then the templates built by the engine, in their menu groups: the
    transfer-learning classifiers and every keras.applications architecture (File > New from Template,
    ``visualkeras-app templates``; their keys go wherever a template key does)."""
    from visualkeras_app.document import app_templates

    grouped = app_templates.transfer_templates() + app_templates.application_templates()
    return list_templates() + [Template(*t) for t in grouped]


def template_title(key: str) -> str:
    """The menu title of template ``key`` (the key itself when unknown)."""
    return next((t.title for t in all_templates() if t.key == key), key)


def load_template(key: str, direction="TB") -> Document:
    """A new document from template ``key``, laid out; ``KeyError`` listing the keys for an unknown one."""
    from visualkeras_app.document.defaults import default_config, normalize_config
    from visualkeras_app.document.layout import apply_layout, auto_layout

    from visualkeras_app.document import app_templates

    if app_templates.is_application_key(key):
        return app_templates.load_application_template(key, direction)
    path = os.path.join(templates_dir(), f"{key}.json")
    if not key or os.sep in key or "/" in key or not os.path.isfile(path):
        known = ", ".join(t.key for t in list_templates()) + ", or an application (DenseNet201, ...)"
        raise KeyError(f"No template {key!r}. Templates: {known}.")
    data = _read(path)
    doc = Document()
    ids = {}
    with doc.batch():
        for spec in data["layers"]:
            config = default_config(spec["class_name"])
            config.update(spec.get("config", {}))
            node = LayerNode(doc.new_id(), spec["class_name"], spec["name"],
                             normalize_config(spec["class_name"], config))
            ids[spec["name"]] = doc.add_node(node).id
        edges = data.get("edges")
        if edges is None:
            names = [s["name"] for s in data["layers"]]
            edges = [[a, b] for a, b in zip(names, names[1:])]
        for e in edges:
            doc.add_edge(Edge(ids[e[0]], ids[e[1]], e[2] if len(e) > 2 else 0, e[3] if len(e) > 3 else 0))
        doc.training = dict(data.get("training") or {})
        apply_layout(doc, auto_layout(doc, direction))
    return doc
