"""Shape inference for a document: every node's output shape, parameter count and problems.

``Document`` calls :func:`infer` after every edit, so it must be cheap: each node's answer is cached on
``(class_name, config, input shapes)``. An edit changes the key of the edited node and of the nodes
whose input shapes it changes; every other node is a dictionary lookup.

A cache miss builds the layer from the registry with ``from_config`` and asks it, as Keras does when a
layer is called on a symbolic tensor: ``build`` then ``compute_output_shape``. The build runs under
the engine's ``shapes_only()`` (torch's ``meta`` device, every weight zeros), so weights have shapes but
no memory and no random numbers are drawn: a 10000x64 Embedding costs what a Dense(1) costs.

Nothing in this module imports torch or engine at import time; the first inference of a non-empty
document does.
"""
from __future__ import annotations

import functools
import json
import weakref
from dataclasses import dataclass, field

from visualkeras_app.document.graph import Document, Edge, accepts_many_inputs

# Kinds of problems, as the problems panel groups them.
PROBLEM_KINDS = ("shape", "merge", "missing_input", "unconnected", "no_output", "no_input", "config", "cycle")

# The name every probe layer gets: a fixed name keeps Keras's automatic-name counters untouched (a
# probe must not turn the user's next ``Dense`` into ``dense_7``) and lets the cache share entries
# between nodes; messages get the node's own name back in ``_message``.
_PROBE_NAME = "vk_probe_layer"

# Layers whose output rank follows their input's: ending a model with one after a 4-D tensor is
# legal Keras but almost always a missing Flatten.
_LAST_AXIS_HEADS = {"Dense", "Softmax"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the graph, pinned to a node and/or an edge.

    ``severity`` is ``"error"`` (the document does not compile to a model) or ``"warning"`` (legal
    Keras that is most likely a mistake, e.g. a Dense head on a 4-D tensor).
    """

    kind: str
    message: str
    node_id: str | None = None
    edge: Edge | None = None
    severity: str = "error"
    # The fix the message names, when it is one layer put into ``edge`` (e.g. "Flatten"): the canvas
    # offers it in the layer's context menu.
    insert: str | None = None


@dataclass
class NodeRecord:
    """What inference knows about one node. ``shape`` includes the batch axis (``None``); a multi-output
    layer's is a list of tuples; None when unknown (after a broken node) and ``shape_text`` then reads "?"."""

    shape: object = None
    shape_text: str = "?"
    trainable: int = 0  # parameter counts (0 while the shape is unknown; param_text says "?")
    non_trainable: int = 0
    weight_shapes: list | None = None  # the shape of each weight (known nodes)
    weights_ok: bool | None = None  # whether node.weights fit the layer now (None: the node has no weights)
    dtype: str | None = None  # the dtype the layer computes in ("float32", "float16" under mixed precision)
    problems: list = field(default_factory=list)  # the problems pinned to this node

    @property
    def known(self):
        return self.shape is not None

    @property
    def params(self):
        return self.trainable + self.non_trainable

    @property
    def param_text(self):
        return f"{self.params:,}" if self.known else "?"


@dataclass
class InferenceResult:
    """What inference found: one ``NodeRecord`` per node (``records``, ``record(node_id)``), the problems,
    the edges' shape texts and the totals. ``shapes``, ``params``... are per-node views of the records."""

    records: dict = field(default_factory=dict)  # node id -> NodeRecord
    trainable_params: int = 0
    non_trainable_params: int = 0
    total_params: int = 0
    trainable_bytes: int = 0
    non_trainable_bytes: int = 0
    problems: list = field(default_factory=list)
    edge_shape_text: dict = field(default_factory=dict)
    edge_problems: dict = field(default_factory=dict)
    order: list = field(default_factory=list)

    def record(self, node_id):
        """The node's record (an unknown one for a node the result does not know)."""
        return self.records.get(node_id) or _UNKNOWN

    @property
    def errors(self):
        return [p for p in self.problems if p.severity == "error"]

    @property
    def ok(self):
        """True when the document compiles to a model (warnings allowed)."""
        return not self.errors

    # Per-node views of the records (made once per result, on first use).
    @functools.cached_property
    def shapes(self):
        return {nid: r.shape for nid, r in self.records.items()}

    @functools.cached_property
    def shape_text(self):
        return {nid: r.shape_text for nid, r in self.records.items()}

    @functools.cached_property
    def params(self):
        return {nid: r.params for nid, r in self.records.items()}

    @functools.cached_property
    def param_text(self):
        return {nid: r.param_text for nid, r in self.records.items()}

    @functools.cached_property
    def trainable(self):
        return {nid: r.trainable for nid, r in self.records.items() if r.known}

    @functools.cached_property
    def non_trainable(self):
        return {nid: r.non_trainable for nid, r in self.records.items() if r.known}

    @functools.cached_property
    def weight_shapes(self):
        return {nid: r.weight_shapes for nid, r in self.records.items() if r.known}

    @functools.cached_property
    def weights_ok(self):
        return {nid: r.weights_ok for nid, r in self.records.items() if r.weights_ok is not None}

    @functools.cached_property
    def node_problems(self):
        return {nid: r.problems for nid, r in self.records.items() if r.problems}

    @functools.cached_property
    def dtypes(self):
        return {nid: r.dtype for nid, r in self.records.items() if r.known}


_UNKNOWN = NodeRecord()


@dataclass(frozen=True)
class _Entry:
    shape: object  # tuple, list of tuples, or None when the layer refused its input
    trainable: int = 0
    non_trainable: int = 0
    trainable_bytes: int = 0
    non_trainable_bytes: int = 0
    weight_shapes: tuple = ()
    error: tuple | None = None  # (kind, message)
    text: str = "?"  # format_shape(shape), computed once
    port_text: tuple = ()  # the text of each output (one for a single tensor)
    dtype: str | None = None  # the dtype the layer computes in

    def __post_init__(self):
        shape = self.shape
        object.__setattr__(self, "text", format_shape(shape))
        if isinstance(shape, list):
            object.__setattr__(self, "port_text", tuple(format_shape(s) for s in shape))
        elif shape is not None:
            object.__setattr__(self, "port_text", (self.text,))


def format_shape(shape) -> str:
    """``(None, 26, 26, 32)`` as Keras's summary writes it; a list for several outputs; ``?`` if unknown."""
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return "[" + ", ".join(format_shape(s) for s in shape) + "]"
    return "(" + ", ".join(str(d) for d in shape) + ")"


def config_key(config) -> str:
    return json.dumps(config, sort_keys=True, default=repr)


def _normalize_shape(shape):
    """A layer's compute_output_shape answer as a tuple, or a list of tuples for several outputs."""
    if isinstance(shape, list) or (isinstance(shape, tuple) and shape and isinstance(shape[0], (tuple, list))):
        return [_normalize_shape(tuple(s)) for s in shape]
    return tuple(None if d is None else int(d) for d in shape)


def _construct(class_name, config):
    """The layer for ``config`` (built nowhere), or raise: unknown class or a refused config."""
    from engine.layers import registry
    from engine.layers.layer import shapes_only

    cls = registry.get_class(class_name)
    cfg = dict(config)
    cfg["name"] = _PROBE_NAME
    with shapes_only():
        return cls.from_config(cfg)


def _probe(class_name, config, in_shape):
    """Build the layer for ``in_shape`` with shapes only (no memory, no random draws); return an ``_Entry``."""
    from engine.layers.layer import shapes_only

    try:
        layer = _construct(class_name, config)
    except Exception as e:  # any refusal of a config is the user's to fix, not a crash
        return _Entry(None, error=("config", _exc_text(e)))
    if class_name == "InputLayer":
        return _Entry(_normalize_shape(layer.batch_shape), dtype=layer.dtype)
    if in_shape is None:
        return _Entry(None)
    try:
        with shapes_only():
            layer.build_from_config({"input_shape": in_shape})
            out = _normalize_shape(layer.compute_output_shape(in_shape))
    except Exception as e:  # a layer refusing a shape is a finding, not a crash
        kind = "merge" if accepts_many_inputs(class_name) else "shape"
        return _Entry(None, error=(kind, _exc_text(e)))
    return _Entry(out, *_counts(layer), dtype=layer.compute_dtype)


def _exc_text(e):
    text = str(e).strip() or type(e).__name__
    if isinstance(e, (TypeError, KeyError, IndexError, AttributeError)):
        text = f"{type(e).__name__}: {text}"
    return text


def _message(node, text):
    text = text.replace(repr(_PROBE_NAME), repr(node.name)).replace(_PROBE_NAME, node.name)
    if node.name in text:
        return text
    return f"{node.name} ({node.class_name}): {text}"


def _rank(shape):
    return len(shape) if isinstance(shape, tuple) else None


class _Cache:
    """Per-document memo of probes; trimmed to what the last run used when it grows.

    ``configs`` remembers each node's config JSON with the config object it was made from: the
    document replaces a node's config on every edit (``Document.set_config``), so the same object
    means the same config, and most nodes skip ``json.dumps`` on a re-inference. ``weights`` does the
    same for the check that a node's trained weights still fit.
    """

    def __init__(self):
        self.entries = {}
        self.configs = {}  # node id -> (config object, class name, JSON)
        self.weights = {}  # node id -> (weights object, entry, ok)

    def trim(self, used, n_nodes):
        if len(self.entries) > max(2000, 8 * n_nodes):
            self.entries = {k: v for k, v in self.entries.items() if k in used}


class ShapeInference:
    """Shape inference of one document: it listens to the document's ``edited`` signal, runs ``infer``
    (incremental: it owns the document's probe cache) and announces the result on ``inferred``. The
    document holds no derived state; ``doc.result`` and ``doc.infer()`` read and run this."""

    def __init__(self, doc):
        self._doc = weakref.ref(doc)  # the document owns its inference, not the other way round
        self.cache = _Cache()
        self.result = None
        doc.edited.connect(self.run)

    def run(self):
        """Infer the document now; returns the new ``InferenceResult``."""
        doc = self._doc()
        self.result = infer(doc)
        doc.inferred.emit(self.result)
        return self.result

    def forget(self):
        """Drop the cache: the next inference probes every layer again (what a first inference costs)."""
        self.cache = _Cache()


def _cache_of(doc):
    inference = getattr(doc, "inference", None)
    return inference.cache if inference is not None else _Cache()  # (not a Document: nothing to keep)


def forget(doc):
    """Drop ``doc``'s memo: its next inference probes every layer again (what a first inference costs)."""
    doc.inference.forget()


def _counts(layer):
    """(trainable, non-trainable, trainable bytes, non-trainable bytes, weight shapes) of a built layer."""
    tr_ids = {id(w) for w in layer.trainable_weights}
    counts = [0, 0, 0, 0]
    shapes = []
    for w in layer.weights:
        n = 1
        for d in w.shape:
            n *= int(d)
        slot = 0 if id(w) in tr_ids else 1
        counts[slot] += n
        counts[slot + 2] += n * w.element_size()
        shapes.append(tuple(int(d) for d in w.shape))
    return counts[0], counts[1], counts[2], counts[3], tuple(shapes)


def remember(doc, node, layer, in_shape, out_shape):
    """Put what a built model already knows about ``node``'s layer into ``doc``'s cache, so that the first
    inference of a document opened from a model probes nothing (``convert.model_to_document``).

    ``in_shape`` is the input shape as inference computes it (a tuple, or a list of tuples for a merge;
    None for an Input); ``out_shape`` the layer's output shape(s).
    """
    cache = _cache_of(doc)
    memo = (node.config, node.class_name, config_key(node.config))
    cache.configs[node.id] = memo
    key = (node.class_name, memo[2], tuple(in_shape) if isinstance(in_shape, list) else in_shape)
    cache.entries[key] = _Entry(_normalize_shape(out_shape), *_counts(layer), dtype=layer.compute_dtype)


def topological_order(doc):
    """Node ids in a topological order (stable: the document's node order breaks ties), and the ids on
    a cycle (never made by the editor, which refuses cycles, but a file may hold one)."""
    indeg = {nid: 0 for nid in doc.nodes}
    succ = {nid: [] for nid in doc.nodes}
    for e in doc.edges:
        if e.src in succ and e.dst in indeg:
            succ[e.src].append(e.dst)
            indeg[e.dst] += 1
    position = {nid: i for i, nid in enumerate(doc.nodes)}
    import heapq

    ready = [(position[n], n) for n, d in indeg.items() if d == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, n = heapq.heappop(ready)
        order.append(n)
        for m in succ[n]:
            indeg[m] -= 1
            if indeg[m] == 0:
                heapq.heappush(ready, (position[m], m))
    cyclic = [n for n in doc.nodes if indeg[n] > 0]
    return order, cyclic


def infer(doc) -> InferenceResult:
    """Shapes, parameter counts and problems of ``doc`` (see the module docstring)."""
    result = InferenceResult()
    nodes = doc.nodes
    if not nodes:
        return result
    cache = _cache_of(doc)
    entries = cache.entries
    configs = cache.configs
    weights_memo = cache.weights
    if len(configs) > 2 * len(nodes) + 64:
        cache.configs = configs = {k: v for k, v in configs.items() if k in nodes}
        cache.weights = weights_memo = {k: v for k, v in weights_memo.items() if k in nodes}
    used = set()
    texts = {}  # node id -> its entry, for nodes with a known shape (the entry holds the texts)

    incoming = {nid: [] for nid in nodes}
    has_out = set()
    for e in doc.edges:
        if e.dst in incoming and e.src in nodes:
            incoming[e.dst].append(e)
            has_out.add(e.src)
    for lst in incoming.values():
        lst.sort(key=lambda e: e.dst_port)

    order, cyclic = topological_order(doc)
    result.order = order
    problems = result.problems
    records = result.records
    edge_problems = result.edge_problems

    def add(problem, edges=()):
        problems.append(problem)
        if problem.node_id is not None:
            records[problem.node_id].problems.append(problem)
        for e in edges:
            edge_problems.setdefault(e, []).append(problem)

    shapes = {}  # node id -> output shape, as the walk finds them
    for nid in order:
        record = records[nid] = NodeRecord()
        node = nodes[nid]
        ins = incoming[nid]
        is_input = node.class_name == "InputLayer"
        in_shape = None
        missing = False  # the layer lacks an input of its own (not just an unknown upstream shape)
        if not is_input:
            if not ins:
                missing = True
            else:
                src_shapes = []
                for e in ins:
                    s = shapes.get(e.src)
                    if isinstance(s, list):
                        s = s[e.src_port] if e.src_port < len(s) else None
                    elif s is not None and e.src_port != 0:
                        s = None
                    src_shapes.append(s)
                few = accepts_many_inputs(node.class_name) and len(ins) < 2
                if all(s is not None for s in src_shapes) and not few:
                    in_shape = src_shapes if accepts_many_inputs(node.class_name) else src_shapes[0]
        memo = configs.get(nid)
        if memo is None or memo[0] is not node.config or memo[1] != node.class_name:
            memo = configs[nid] = (node.config, node.class_name, config_key(node.config))
        key = (node.class_name, memo[2], tuple(in_shape) if isinstance(in_shape, list) else in_shape)
        entry = entries.get(key)
        if entry is None:
            entry = entries[key] = _probe(node.class_name, node.config, in_shape)
        used.add(key)
        shape = entry.shape
        if entry.error is not None and entry.error[0] == "config":
            add(Problem("config", _message(node, entry.error[1]), nid))
        elif accepts_many_inputs(node.class_name) and len(ins) == 1:
            add(Problem("merge", f"{node.name} ({node.class_name}) merges several tensors but has "
                                 f"{len(ins)} input; connect at least two.", nid), ins)
            shape = None
        elif entry.error is not None:
            kind, text = entry.error
            add(Problem(kind, _message(node, text), nid, ins[0] if len(ins) == 1 else None), ins)
        elif missing and (ins or nid in has_out):
            add(Problem("missing_input", f"{node.name} ({node.class_name}) has no input: connect a layer "
                                         "or an Input to it.", nid))
        shapes[nid] = shape
        if shape is not None:
            texts[nid] = entry
            record.shape, record.shape_text, record.dtype = shape, entry.text, entry.dtype
            record.trainable, record.non_trainable = entry.trainable, entry.non_trainable
            record.weight_shapes = list(entry.weight_shapes)
            result.trainable_params += entry.trainable
            result.non_trainable_params += entry.non_trainable
            result.trainable_bytes += entry.trainable_bytes
            result.non_trainable_bytes += entry.non_trainable_bytes
            if node.weights is not None:
                w = weights_memo.get(nid)
                if w is None or w[0] is not node.weights or w[1] is not entry:
                    ok = (len(node.weights) == len(entry.weight_shapes) and all(
                        tuple(a.shape) == s for a, s in zip(node.weights, entry.weight_shapes)))
                    w = weights_memo[nid] = (node.weights, entry, ok)
                record.weights_ok = w[2]

    for nid in cyclic:
        node = nodes[nid]
        records[nid] = NodeRecord()
        add(Problem("cycle", f"{node.name} is on a cycle: a model's graph must flow one way. Remove one of "
                             "its connections.", nid))

    result.total_params = result.trainable_params + result.non_trainable_params
    edge_text = result.edge_shape_text
    for e in doc.edges:
        entry = texts.get(e.src)
        edge_text[e] = entry.port_text[e.src_port] if entry is not None and e.src_port < len(entry.port_text) else "?"

    # Whole-graph problems.
    n_inputs = 0
    sinks = []
    for nid, node in nodes.items():
        if node.class_name == "InputLayer":
            n_inputs += 1
        elif nid not in has_out:
            sinks.append(nid)
        if nid not in has_out and not incoming[nid]:
            add(Problem("unconnected", f"{node.name} ({node.class_name}) is not connected to anything: connect "
                                       "it or delete it.", nid))
    if not n_inputs:
        add(Problem("no_input", "The model has no Input: add an InputLayer (Core) and connect it to the first "
                                "layer."))
    if not sinks:
        add(Problem("no_output", "The model has no output: add a layer after the Input; a layer with no "
                                 "outgoing connection is an output."))
    for nid in sinks:
        node = nodes[nid]
        shape = shapes.get(nid)
        rank = _rank(shape)
        if node.class_name in _LAST_AXIS_HEADS and rank is not None and rank > 2 and not records[nid].problems:
            add(Problem("shape", f"{node.name} ({node.class_name}) outputs {format_shape(shape)}: it acts on the "
                                 f"last axis only, so the model's output is still {rank}-D. Add a Flatten (or a "
                                 f"global pooling layer) before it to get one vector per sample.",
                        nid, incoming[nid][0] if incoming[nid] else None, severity="warning",
                        insert="Flatten" if incoming[nid] else None), incoming[nid])
    cache.trim(used, len(nodes))
    return result


Document.inference_class = ShapeInference
