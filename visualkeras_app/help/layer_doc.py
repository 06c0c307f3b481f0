"""Per-layer documentation as HTML (Qt-free): the layer class's docstring, its arguments (kind, default, and the
value a layer on the canvas has), and, for a layer on the canvas, its input and output shapes and parameters.

F1 on a palette item or a selected layer shows it (`visualkeras_app.help.dialogs.LayerHelpDialog`).
"""
from __future__ import annotations

import html
import inspect
import re

from visualkeras_app.panels.inspector import format_value


def layer_docstring(class_name) -> str:
    """The engine class's docstring, dedented ("" when the class is unknown or has none)."""
    try:
        from engine.layers import registry

        cls = registry.get_class(class_name)
    except Exception:  # noqa: BLE001 - an unknown class has no docs, the page says so
        return ""
    return inspect.cleandoc(cls.__doc__ or "")


_SECTION = re.compile(r"^([A-Z][\w ]*):$")
_ITEM = re.compile(r"^([\w*, ]+):\s(.*)$")


def _inline(text):
    """Escaped text with ``code`` spans as <code>."""
    return re.sub(r"``(.+?)``", r"<code>\1</code>", html.escape(text))


def docstring_html(text) -> str:
    """A Google-style docstring as HTML: the summary, then each section ("Args:", "Input shape:"...) with its
    entries (``name: text``, continuation lines joined) as paragraphs."""
    blocks = []  # (kind, head, text): "p" paragraphs, "h" section heads, "item" entries
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip())
        stripped = line.strip()
        if not stripped:
            blocks.append(("gap", "", ""))
            continue
        m = _SECTION.match(stripped)
        if indent == 0 and m:
            blocks.append(("h", m.group(1), ""))
            continue
        item = _ITEM.match(stripped) if 0 < indent <= 4 else None
        if item:
            blocks.append(("item", item.group(1), item.group(2)))
        elif blocks and blocks[-1][0] in ("p", "item") and (indent > 4 or blocks[-1][0] == "p"):
            kind, head, body = blocks[-1]
            blocks[-1] = (kind, head, f"{body} {stripped}")
        else:
            blocks.append(("p", "", stripped))
    out = []
    for kind, head, body in blocks:
        if kind == "h":
            out.append(f"<p style='margin:8px 0 2px 0'><b>{html.escape(head)}</b></p>")
        elif kind == "item":
            out.append(f"<p style='margin:1px 0 1px 14px'><code><b>{html.escape(head)}</b></code>: {_inline(body)}</p>")
        elif kind == "p":
            out.append(f"<p style='margin:2px 0 2px 0'>{_inline(body)}</p>")
    return "".join(out)


def argument_rows(class_name, config=None) -> list:
    """(name, kind, default, value or None) for each argument the Inspector edits, in its order."""
    from visualkeras_app.document import defaults

    try:
        specs = defaults.param_spec(class_name)
    except Exception:  # noqa: BLE001
        return []
    rows = []
    for s in specs:
        value = None if config is None else format_value(config.get(s.name))
        rows.append((s.name, s.kind, format_value(s.default), value))
    return rows


def node_shapes(doc, node_id):
    """(input shapes, output shape, parameters) of a layer on the canvas, as the inference result has them:
    one input shape text per connection into it, in port order."""
    result = doc.result
    if result is None:
        return [], "?", "?"
    ins = sorted((e.dst_port, result.record(e.src).shape_text) for e in doc.edges if e.dst == node_id)
    record = result.record(node_id)
    return [s for _p, s in ins], record.shape_text, record.param_text


def layer_doc_html(class_name, doc=None, node_id=None) -> str:
    """The help page of ``class_name`` (and of the canvas layer ``node_id`` of ``doc`` when given)."""
    e = html.escape
    node = doc.nodes.get(node_id) if doc is not None and node_id is not None else None
    parts = [f"<h2 style='margin-bottom:2px'>{e(class_name)}"
             + (f" <span style='color:#777;font-weight:normal'>— {e(node.name)}</span>" if node else "") + "</h2>"]
    text = layer_docstring(class_name)
    if node is not None:
        ins, out, params = node_shapes(doc, node_id)
        in_text = "<br>".join(f"<code>{e(s)}</code>" for s in ins) or "<i>none (an input layer)</i>"
        parts.append("<h3>Shapes on the canvas</h3><table cellspacing='4'>"
                     f"<tr><td style='color:#666'>Input shape{'s' if len(ins) > 1 else ''}</td><td>{in_text}</td></tr>"
                     f"<tr><td style='color:#666'>Output shape</td><td><code>{e(out)}</code></td></tr>"
                     f"<tr><td style='color:#666'>Parameters</td><td>{e(params)}</td></tr></table>")
    if text:
        parts.append(docstring_html(text))
    else:
        parts.append("<p><i>No documentation for this layer.</i></p>")
    rows = argument_rows(class_name, node.config if node is not None else None)
    if rows:
        head = "<tr><th align='left'>Argument</th><th align='left'>Kind</th><th align='left'>Default</th>" + (
            "<th align='left'>This layer</th>" if node is not None else "") + "</tr>"
        body = "".join(
            f"<tr><td><code>{e(name)}</code></td><td style='color:#666'>{e(kind)}</td><td><code>{e(default)}</code></td>"
            + (f"<td><code><b>{e(value)}</b></code></td>" if node is not None and value != default else
               f"<td><code>{e(value)}</code></td>" if node is not None else "") + "</tr>"
            for name, kind, default, value in rows)
        parts.append(f"<h3>Arguments</h3><table cellspacing='3' cellpadding='1'>{head}{body}</table>")
    parts.append("<p style='color:#777'>" + ("Values that differ from the default are in bold; edit them in the "
                                             "Inspector. " if node is not None else "")
                 + "The Keras documentation of the same layer applies: the engine keeps Keras 3's arguments and "
                   "defaults.</p>")
    return "".join(parts)
