"""Documents to engine models and back.

``document_to_model`` compiles the graph: a ``Sequential`` model for a plain chain from one Input, a
functional ``Model`` otherwise. Layer names are the node names; trained weights kept on nodes are set.
The model's inputs are the document's Input nodes in document order; its outputs are the nodes
without outgoing connections, in document order.

``model_to_document`` opens a Sequential or functional model: one node per layer (Inputs included),
one edge per tensor a layer reads, in argument order, weights copied, positions from ``layout``.

A layer called more than once in a model (a *shared* layer, e.g. a siamese encoder) is refused with a
message: a node is one layer call with its own weights, and duplicating the node would silently untie
the weights and change what the model computes. Nested models and calls with several tensors into a
single-input layer (an RNN's ``initial_state``) are refused the same way.
"""
from __future__ import annotations

from engine.utils.progress_utils import report
from visualkeras_app.document.graph import Document, Edge, LayerNode, accepts_many_inputs


class ConversionError(ValueError):
    """A document that cannot become a model, or a model the editor cannot represent; the message says why."""


def _result(doc):
    from visualkeras_app.document.inference import infer

    return infer(doc)


def chain_order(doc, result=None):
    """The node ids from the Input to the last layer when ``doc`` is a plain chain (one Input, one
    connection in and out of each node, single tensors only), else None. Such a document compiles to
    a Sequential model."""
    result = result or _result(doc)
    inputs = [nid for nid, n in doc.nodes.items() if n.is_input]
    if len(inputs) != 1:
        return None
    nxt = {}
    indeg = {}
    for e in doc.edges:
        if e.src_port or e.dst_port or e.src in nxt:
            return None
        nxt[e.src] = e.dst
        indeg[e.dst] = indeg.get(e.dst, 0) + 1
    if any(v > 1 for v in indeg.values()):
        return None
    order = [inputs[0]]
    while order[-1] in nxt:
        order.append(nxt[order[-1]])
        if len(order) > len(doc.nodes):
            return None
    if len(order) != len(doc.nodes) or len(order) < 2:
        return None
    for nid in order:
        if accepts_many_inputs(doc.nodes[nid].class_name) or isinstance(result.shapes.get(nid), list):
            return None
    return order


def output_nodes(doc):
    """Non-Input nodes without outgoing connections, in document order: the model's outputs."""
    has_out = {e.src for e in doc.edges}
    return [nid for nid, n in doc.nodes.items() if not n.is_input and nid not in has_out]


def problems_message(problems):
    return "The graph cannot be compiled into a model:\n" + "\n".join(f"  - {p.message}" for p in problems)


def document_to_model(doc, name=None, config_only=False):
    """An engine model for ``doc``; ``ConversionError`` (a ValueError) listing the problems otherwise.

    ``config_only=True`` builds the model with the engine's ``shapes_only()`` (zero-cost weights): for saving its
    config (a project file) without allocating or initializing anything; it cannot run.
    """
    if config_only:
        from engine.layers.layer import shapes_only

        with shapes_only():
            return _document_to_model(doc, name, config_only=True)
    from engine.layers.layer import WEIGHT_BUDGET
    from engine.saving.serialization import ConfigError, WeightBudget

    # A document from a file may ask for billions of weights: capped as the model loader caps a
    # config (VISUALKERAS_MAX_PARAMS), and refused before any memory is taken.
    token = WEIGHT_BUDGET.set(WeightBudget()) if WEIGHT_BUDGET.get() is None else None
    try:
        return _document_to_model(doc, name)
    except ConfigError as e:
        raise ConversionError(str(e)) from None
    finally:
        if token is not None:
            WEIGHT_BUDGET.reset(token)


def _document_to_model(doc, name, config_only=False):
    from visualkeras_app.document.defaults import build_layer

    result = _result(doc)
    if not doc.nodes:
        raise ConversionError("The document is empty: add an Input and some layers first.")
    if result.errors:
        raise ConversionError(problems_message(result.errors))
    import engine
    from engine.layers.node import KerasTensor

    layers = {nid: build_layer(n.class_name, n.config, name=n.name) for nid, n in doc.nodes.items()}
    chain = chain_order(doc, result)
    try:
        if chain is not None:
            model = engine.Sequential(name=name)
            for nid in chain:
                model.add(layers[nid])
        else:
            incoming = {nid: [] for nid in doc.nodes}
            for e in doc.edges:
                incoming[e.dst].append(e)
            tensors = {}
            for nid in result.order:
                layer = layers[nid]
                if doc.nodes[nid].is_input:
                    tensors[nid] = layer.output_tensor
                    continue
                args = [_port(tensors[e.src], e.src_port) for e in sorted(incoming[nid], key=lambda e: e.dst_port)]
                tensors[nid] = layer(args if accepts_many_inputs(doc.nodes[nid].class_name) else args[0])
            ins = [tensors[nid] for nid, n in doc.nodes.items() if n.is_input]
            outs = []
            for nid in output_nodes(doc):
                t = tensors[nid]
                outs.extend([t] if isinstance(t, KerasTensor) else list(t))
            model = engine.Model(inputs=ins[0] if len(ins) == 1 else ins,
                                 outputs=outs[0] if len(outs) == 1 else outs, name=name)
    except ValueError as e:
        raise ConversionError(f"The graph cannot be compiled into a model: {e}") from None
    if config_only:
        return model
    for nid, node in doc.nodes.items():
        if node.weights is not None and result.weights_ok.get(nid):
            layers[nid].set_weights(node.weights)
    return model


def _port(tensor, port):
    return tensor[port] if isinstance(tensor, (list, tuple)) else tensor


# --------------------------------------------------------------------------------------------- back
def _node_for(doc, layer, with_weights=True):
    from visualkeras_app.document.defaults import clean_config

    if with_weights == "share":
        weights = [_view(w) for w in layer.weights]
    else:
        weights = layer.get_weights() if with_weights else None
    return LayerNode(doc.new_id(), type(layer).__name__, layer.name, clean_config(layer.get_config()),
                     weights=weights or None)


def _view(weight):
    """A CPU weight's values as a NumPy array over its memory (a copy for other devices and dtypes)."""
    value = weight.detach()
    if value.device.type == "cpu":
        try:
            return value.numpy()
        except (TypeError, RuntimeError):  # bfloat16 and the like: NumPy has no such dtype
            pass
    return value.cpu().numpy().copy()


def model_to_document(model, layout_direction="TB", with_weights=True) -> Document:
    """A document for an engine ``Sequential`` or functional model (weights kept, laid out).

    ``with_weights=False`` leaves the nodes without weights (a model just built from a config has
    only random initial ones). ``with_weights="share"``: the nodes' arrays are views of the model's weights,
    not copies, for a model read from a file that is then dropped or only run (NASNetLarge: 356 MB and
    0.25 s not copied); the document replaces its nodes' arrays, never writes into them, and such a model
    must not be trained or assigned to while the document holds them.
    """
    from engine.models import Functional, Model, Sequential

    from visualkeras_app.document.layout import apply_layout, auto_layout

    doc = Document()
    with doc.batch():
        if isinstance(model, Sequential):
            _sequential_nodes(doc, model, Model, with_weights)
        elif isinstance(model, Functional):
            _functional_nodes(doc, model, Model, with_weights)
        else:
            raise ConversionError(f"Model {model.name!r} is a subclassed Model: its graph is Python code, which "
                                  "the editor cannot show. Build it as Sequential or functional to open it.")
        apply_layout(doc, auto_layout(doc, layout_direction))
    return doc


def release_model(model):
    """Unlink a model that was only read (its document made): each layer forgets the graph nodes of its
    calls, which point back at it. The model is then freed at once by reference counting; left as it
    was, its layers and tensors were cyclic garbage that Python's collector walked while holding the
    interpreter lock (for a 20,000-layer file a second at a time, with the window frozen)."""
    layers = list(getattr(model, "layers", []))
    first = getattr(model, "input_layer", None)  # a Sequential's Input is not among its layers
    if first is not None:
        layers.append(first)
    for layer in layers:
        layer.forget_calls()


def _remember(doc, nid, layer, call):
    """Seed the document's inference cache with the shapes and counts the built model already has."""
    from engine.layers.node import KerasTensor

    from visualkeras_app.document.inference import remember

    if call.is_input:
        in_shape = None
    elif isinstance(call.arguments, KerasTensor):
        in_shape = tuple(call.arguments.shape)
    else:
        in_shape = [tuple(t.shape) for t in call.input_tensors]
    outs = [tuple(t.shape) for t in call.outputs]
    single = isinstance(call.output_structure, KerasTensor)
    remember(doc, doc.nodes[nid], layer, in_shape, outs[0] if single else outs)


def _sequential_nodes(doc, model, Model, with_weights):
    if model.input_layer is None:
        raise ConversionError(f"Sequential model {model.name!r} has no input shape, so its shapes are unknown. "
                              "Give it an Input (or input_shape=... on its first layer), or build() it first.")
    prev = doc.add_node(_node_for(doc, model.input_layer, with_weights)).id
    _remember(doc, prev, model.input_layer, model.input_layer.inbound_nodes[0])
    layers = model.layers
    for i, layer in enumerate(layers):
        report("Reading the layers", i + 1, len(layers))
        if isinstance(layer, Model):
            raise ConversionError(_nested_message(model, layer))
        nid = doc.add_node(_node_for(doc, layer, with_weights)).id
        doc.add_edge(Edge(prev, nid))
        calls = layer.inbound_nodes
        if len(calls) == 1:  # else the layer also lives in another model: let inference probe
            _remember(doc, nid, layer, calls[0])
        prev = nid


def _nested_message(model, layer):
    return (f"Model {model.name!r} contains the model {layer.name!r} as a layer. The editor shows one "
            "level of layers; rebuild the outer model from the inner model's layers to open it.")


def _functional_nodes(doc, model, Model, with_weights):
    from engine.layers.input_layer import InputLayer
    from engine.layers.node import flatten

    calls = {}
    for layer in model.layers:
        if isinstance(layer, Model):
            raise ConversionError(_nested_message(model, layer))
        nodes = model.inbound_nodes_of(layer)
        if len(nodes) > 1:
            raise ConversionError(
                f"Layer {layer.name!r} ({type(layer).__name__}) is shared: model {model.name!r} calls it "
                f"{len(nodes)} times with the same weights. A node on the canvas is one call with its own "
                "weights, so shared layers cannot be opened; build the model with separate layers to edit it.")
        calls[layer] = nodes[0]
    # Inputs in the model's input order and outputs last in its output order: document_to_model reads
    # both orders back from the document.
    output_layers = []
    for t in model.outputs:
        layer = t.keras_history.operation
        if layer not in output_layers:
            output_layers.append(layer)
    input_layers = [t.keras_history.operation for t in model.inputs]
    middle = [l for l in model.layers if l not in output_layers and l not in input_layers]
    ids = {}
    order = input_layers + middle + output_layers
    for i, layer in enumerate(order):
        report("Reading the layers", i + 1, len(order))
        if layer in ids:
            continue
        ids[layer] = doc.add_node(_node_for(doc, layer, with_weights)).id
        _remember(doc, ids[layer], layer, calls[layer])
    used = set()
    for layer in middle + output_layers:
        node = calls[layer]
        if isinstance(layer, InputLayer):
            continue
        extra = {k: v for k, v in node.call_kwargs.items() if k not in ("training", "mask") or v not in (None, False)}
        if extra:
            raise ConversionError(f"Layer {layer.name!r} is called with {sorted(extra)} in model {model.name!r}; "
                                  "call arguments cannot be shown on the canvas, so the model cannot be opened.")
        args = flatten(node.arguments)
        if len(args) > 1 and not accepts_many_inputs(type(layer).__name__):
            raise ConversionError(
                f"Layer {layer.name!r} ({type(layer).__name__}) takes {len(args)} tensors (for example an RNN's "
                "initial_state); the editor connects one tensor to a single-input layer, so the model cannot "
                "be opened.")
        for port, t in enumerate(args):
            h = t.keras_history
            used.add(h.operation)
            doc.add_edge(Edge(ids[h.operation], ids[layer], port, h.tensor_index))
    # The document's outputs are the layers nothing reads; the model must agree, or saving it back
    # would change what it returns.
    sinks = [l for l in ids if l not in used and not isinstance(l, InputLayer)]
    for layer in sinks:
        mine = [t for t in model.outputs if t.keras_history.operation is layer]
        if len(mine) != len(calls[layer].outputs):
            raise ConversionError(
                f"Layer {layer.name!r} of model {model.name!r} makes {len(calls[layer].outputs)} tensors but the "
                f"model outputs {len(mine)} of them; the editor outputs all tensors of a final layer, so this "
                "model cannot be opened as it is.")
    for layer in output_layers:
        if layer in used:
            raise ConversionError(
                f"Model {model.name!r} outputs the tensor of {layer.name!r}, which other layers also read. The "
                "editor's outputs are the layers nothing reads, so this model cannot be opened as it is.")
