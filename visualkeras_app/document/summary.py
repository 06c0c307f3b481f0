"""Keras's summary table for a document, from shape inference alone (no model is built).

The rows come in the order ``model.summary()`` of the compiled model lists its layers (a Sequential
model's stack; a functional model's layers by depth, as Keras's ``map_graph`` orders them), so the
text is the one ``document_to_model(doc).summary()`` prints.
"""
from __future__ import annotations

import shutil

from visualkeras_app.document.inference import format_shape


def keras_layer_order(doc, result=None):
    """Node ids in the order a functional model built from ``doc`` lists its layers."""
    from visualkeras_app.document.convert import output_nodes

    result = result or doc.result or _infer(doc)
    incoming = {nid: [] for nid in doc.nodes}
    for e in doc.edges:
        incoming[e.dst].append(e)
    for lst in incoming.values():
        lst.sort(key=lambda e: e.dst_port)
    finished, index, ordered = set(), {}, []

    def visit(nid):
        # Iterative depth-first walk back from the outputs (deep graphs would overflow recursion).
        if nid in finished:
            return
        index.setdefault(nid, len(index))
        stack, on_stack = [(nid, iter(incoming[nid]))], {nid}
        while stack:
            cur, it = stack[-1]
            for e in it:
                if e.src not in finished and e.src not in on_stack:
                    index.setdefault(e.src, len(index))
                    stack.append((e.src, iter(incoming[e.src])))
                    on_stack.add(e.src)
                    break
            else:
                stack.pop()
                on_stack.discard(cur)
                finished.add(cur)
                ordered.append(cur)

    for nid in output_nodes(doc):
        shape = result.shapes.get(nid)
        for _ in (shape if isinstance(shape, list) else [shape]):
            visit(nid)
    depth = {}
    for nid in reversed(ordered):
        d = depth.setdefault(nid, 0)
        for e in incoming[nid]:
            depth[e.src] = max(d + 1, depth.get(e.src, 0))
    for nid, node in doc.nodes.items():
        if node.is_input and nid not in depth:
            depth[nid], index[nid] = 0, -1
    return sorted(depth, key=lambda n: (-depth[n], index[n]))


def _infer(doc):
    from visualkeras_app.document.inference import infer

    return infer(doc)


def summary_rows(doc, result=None):
    """``(sequential_like, rows)``: one dict per layer (name, class_name, output_shape, params,
    connected_to, is_input), in the order of the compiled model's ``summary()``."""
    from visualkeras_app.document.convert import chain_order

    result = result or _infer(doc)
    chain = chain_order(doc, result)
    order = chain if chain is not None else keras_layer_order(doc, result)
    incoming = {}
    for e in doc.edges:
        incoming.setdefault(e.dst, []).append(e)
    rows, nodes, records, none = [], doc.nodes, result.records, ()
    for nid in order:
        node = nodes[nid]
        ins = incoming.get(nid, none)
        if len(ins) > 1:
            ins = sorted(ins, key=lambda e: e.dst_port)
        record = records.get(nid)
        # The record's shape text is format_shape of its shape, made once per distinct layer.
        rows.append({"id": nid, "name": node.name, "class_name": node.class_name,
                     "output_shape": record.shape_text if record is not None else format_shape(None),
                     "params": result.param_text[nid],
                     "connected_to": [f"{nodes[e.src].name}[0][{e.src_port}]" for e in ins],
                     "is_input": node.is_input})
    return chain is not None, rows


def summary_text(doc, result=None, name=None, line_length=None):
    """The summary table as ``model.summary()`` prints it for the model ``doc`` compiles to."""
    from engine.utils.summary_utils import render_table, readable_memory_size

    result = result or _infer(doc)
    sequential_like, rows = summary_rows(doc, result)
    if sequential_like:
        default, positions = 88, [0.45, 0.80, 1.0]
        header, align = ["Layer (type)", "Output Shape", "Param #"], ["left", "left", "right"]
    else:
        default, positions = 108, [0.3, 0.56, 0.74, 1.0]
        header, align = ["Layer (type)", "Output Shape", "Param #", "Connected to"], ["left", "left", "right", "left"]
    line_length = line_length or min(default, shutil.get_terminal_size().columns - 4)
    usable = line_length - (len(header) + 1)
    widths, current = [], 0
    for pos in positions:
        w = int(pos * usable) - current
        widths.append(max(4, w))
        current += w
    cells = []
    for r in rows:
        if sequential_like and r["is_input"]:
            continue
        row = [f"{r['name']} ({r['class_name']})", r["output_shape"], r["params"]]
        if not sequential_like:
            row.append(",\n".join(r["connected_to"]) if r["connected_to"] else "-")
        cells.append(row)
    name = name or ("sequential" if sequential_like else "functional")
    lines = [f'Model: "{name}"'] + render_table(header, cells, widths, align)
    total_bytes = result.trainable_bytes + result.non_trainable_bytes
    lines.append(f" Total params: {result.total_params:,} ({readable_memory_size(total_bytes)})")
    lines.append(f" Trainable params: {result.trainable_params:,} ({readable_memory_size(result.trainable_bytes)})")
    lines.append(f" Non-trainable params: {result.non_trainable_params:,} "
                 f"({readable_memory_size(result.non_trainable_bytes)})")
    return "\n".join(lines)
