"""Automatic layout: a layered drawing of the graph (Sugiyama style, kept simple).

1. Layers by longest path: a node sits one row below its deepest input, so every edge points down
   (``"TB"``) or right (``"LR"``).
2. Order within a row by the barycenter of each node's neighbours in the row above, then below,
   a few sweeps, which removes most crossings of typical models (branches and merges).
3. Coordinates on a grid: rows are centred on each other.

Positions are the top-left corners of node boxes of ``NODE_W`` x ``NODE_H`` scene units (``style.py``);
every coordinate is a multiple of ``GRID``, so snapped layouts stay snapped.
"""
from __future__ import annotations

from visualkeras_app.document.style import NODE_HEIGHT, NODE_WIDTH

NODE_W, NODE_H = int(NODE_WIDTH), int(NODE_HEIGHT)
GRID = 20
# Distance between the top-left corners of neighbours; gaps leave room for edge labels.
_STEP = {"TB": (240, 140), "LR": (120, 300)}  # (along a row, between rows)
_SWEEPS = 4


def snap(pos, grid=GRID):
    """``pos`` rounded to the nearest multiple of ``grid``."""
    return (float(round(pos[0] / grid) * grid), float(round(pos[1] / grid) * grid))


def layers_by_longest_path(doc):
    """``{node_id: row}``: Inputs and other sources in row 0, every node below all its inputs."""
    from visualkeras_app.document.inference import topological_order

    order, cyclic = topological_order(doc)
    preds = {nid: [] for nid in doc.nodes}
    for e in doc.edges:
        if e.src in preds and e.dst in preds:
            preds[e.dst].append(e.src)
    row = {}
    for nid in order:
        row[nid] = max((row[p] + 1 for p in preds[nid] if p in row), default=0)
    for nid in cyclic:  # cannot happen from the editor; keep such nodes visible below the rest
        row[nid] = max(row.values(), default=-1) + 1
    return row


def auto_layout(doc, direction="TB") -> dict:
    """Positions ``{node_id: (x, y)}`` for every node of ``doc``; ``direction`` is ``"TB"`` or ``"LR"``."""
    if direction not in _STEP:
        raise ValueError(f"direction must be 'TB' (top to bottom) or 'LR' (left to right). Received: {direction!r}")
    if not doc.nodes:
        return {}
    row = layers_by_longest_path(doc)
    n_rows = max(row.values()) + 1
    rows = [[] for _ in range(n_rows)]
    for nid in doc.nodes:  # document order is the first guess within a row
        rows[row[nid]].append(nid)
    preds = {nid: [] for nid in doc.nodes}
    succs = {nid: [] for nid in doc.nodes}
    for e in doc.edges:
        if e.src in preds and e.dst in preds:
            preds[e.dst].append((e.src, e.dst_port))
            succs[e.src].append((e.dst, e.dst_port))

    # A node's place in its row, centred as drawn, so that rows of different widths compare.
    index = {nid: j - (len(members) - 1) / 2 for members in rows for j, nid in enumerate(members)}

    def reorder(rows_seq, neighbours):
        for r in rows_seq:
            if len(rows[r]) < 2:  # a row of one stays as it is (a long chain is all such rows)
                continue
            keyed = []
            for j, nid in enumerate(rows[r]):
                # Port order breaks ties so that a merge's first input sits on the left.
                ns = [index[m] + 0.01 * port for m, port in neighbours[nid] if row[m] != r]
                keyed.append((sum(ns) / len(ns) if ns else index[nid], j, nid))
            rows[r] = [nid for _, _, nid in sorted(keyed)]
            for j, nid in enumerate(rows[r]):
                index[nid] = j - (len(rows[r]) - 1) / 2

    for _ in range(_SWEEPS):
        reorder(range(1, n_rows), preds)
        reorder(range(n_rows - 2, -1, -1), succs)
    reorder(range(1, n_rows), preds)

    along, across = _STEP[direction]
    widest = max(len(r) for r in rows)
    positions = {}
    for r, members in enumerate(rows):
        offset = (widest - len(members)) * along / 2
        for j, nid in enumerate(members):
            a = offset + j * along
            b = r * across
            positions[nid] = snap((a, b) if direction == "TB" else (b, a))
    return positions


def apply_layout(doc, positions):
    """Move the nodes to ``positions`` (without undo: for new documents)."""
    for nid, pos in positions.items():
        doc.nodes[nid].pos = (float(pos[0]), float(pos[1]))
