"""The functional ``Model(inputs, outputs)``: a graph of layer calls, run in topological order."""
from __future__ import annotations

import collections

from engine.layers.input_layer import InputLayer
from engine.layers.layer import make_outputs
from engine.layers.node import KerasTensor, flatten, pack_like
from engine.models.model import Model
from engine.saving.serialization import register_model_class, serialize_layer


def map_graph(inputs, outputs):
    """Order the graph as Keras does (``ops/function.py``): returns ``(nodes_by_depth, layers)``.

    ``layers`` is sorted by depth (distance to an output), deepest first; ties in the order a
    depth-first walk back from the outputs first reaches each layer. Keras's file formats pair
    weights with layers by this position, so it must match exactly.
    """
    finished, in_progress = set(), set()
    ordered_nodes, layer_indices = [], {}
    input_ids = {id(t) for t in inputs}

    def enter(tensor):
        """Start visiting the node that made ``tensor``: (node, its input tensors to visit), or None."""
        h = tensor.keras_history
        if h is None:
            raise ValueError(f"Tensor {tensor} was not produced by a layer: build the model from Input().")
        layer = h.operation
        node = layer.inbound_nodes[h.node_index]
        if node in finished:
            return None
        if node in in_progress:
            raise ValueError(f"Tensor {tensor} from layer {layer.name!r} is part of a cycle.")
        layer_indices.setdefault(layer, len(layer_indices))
        in_progress.add(node)
        inputs_to_visit = node.input_tensors if not node.is_input and id(tensor) not in input_ids else ()
        return node, iter(inputs_to_visit)

    # Keras's recursive depth-first walk, with an explicit stack: a chain of thousands of layers must
    # not hit Python's recursion limit. The visiting order (and so the layer order) is the same.
    done = object()
    for out in outputs:
        frame = enter(out)
        stack = [frame] if frame is not None else []
        while stack:
            node, pending = stack[-1]
            t = next(pending, done)
            if t is done:
                stack.pop()
                finished.add(node)
                in_progress.discard(node)
                ordered_nodes.append(node)
                continue
            frame = enter(t)
            if frame is not None:
                stack.append(frame)

    node_depth, layer_depth = {}, {}
    for node in reversed(ordered_nodes):
        depth = node_depth.setdefault(node, 0)
        depth = max(depth, layer_depth.get(node.operation, 0))
        layer_depth[node.operation] = depth
        node_depth[node] = depth
        for parent in node.parent_nodes:
            node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
    for t in inputs:
        layer = t.keras_history.operation
        if layer not in layer_depth:
            layer_depth[layer] = 0
            layer_indices[layer] = -1
            node_depth[layer.inbound_nodes[0]] = 0

    nodes_by_depth = collections.defaultdict(list)
    for node, d in node_depth.items():
        nodes_by_depth[d].append(node)
    layers_by_depth = collections.defaultdict(list)
    for layer, d in layer_depth.items():
        layers_by_depth[d].append(layer)
    layers = []
    for d in sorted(layers_by_depth, reverse=True):
        layers.extend(sorted(layers_by_depth[d], key=lambda l: layer_indices[l]))

    computable = set(id(t) for t in inputs)
    for d in sorted(nodes_by_depth, reverse=True):
        for node in nodes_by_depth[d]:
            if node.is_input and id(node.outputs[0]) not in computable:
                raise ValueError(
                    f"Graph disconnected: the output depends on Input {node.operation.name!r}, which is not "
                    "among the model's inputs. Add it to Model(inputs=[...]).")
            for t in node.input_tensors:
                if id(t) not in computable:
                    raise ValueError(
                        f"Graph disconnected: cannot reach tensor {t} needed by layer {node.operation.name!r} "
                        "from the model's inputs.")
            computable.update(id(t) for t in node.outputs)

    names = [l.name for l in layers]
    counts = collections.Counter(names)
    dupes = sorted(n for n, c in counts.items() if c > 1)
    if dupes:
        raise ValueError(f"Layer names must be unique in a model; these are used more than once: {dupes}. "
                         "Pass name=... to tell them apart.")
    return nodes_by_depth, layers


class Functional(Model):
    """A model defined by ``Model(inputs, outputs)`` over tensors from ``Input``."""

    # How a file names the class.
    keras_module = "keras.src.models.functional"
    keras_class_name = "Functional"
    keras_registered_name = "Functional"

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        for t in flatten(inputs) + flatten(outputs):
            if not isinstance(t, KerasTensor):
                raise TypeError(
                    f"Model(inputs, outputs) takes symbolic tensors from Input() and layer calls. Received: {t!r}")
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        self.inputs = flatten(inputs)
        self.outputs = flatten(outputs)
        for t in self.inputs:
            if not isinstance(t.keras_history.operation, InputLayer):
                raise ValueError(f"Model inputs must come from Input(); {t} comes from layer "
                                 f"{t.keras_history.operation.name!r}.")
        nodes_by_depth, layers = map_graph(self.inputs, self.outputs)
        self._graph_layers = layers
        self._node_ids = {id(n) for nodes in nodes_by_depth.values() for n in nodes}
        self._layer_modules = __import__("torch").nn.ModuleList(layers)
        self._compile_plan(nodes_by_depth)
        self.built = True

    def _compile_plan(self, nodes_by_depth):
        # Each tensor gets a slot; each non-input node becomes a step reading and writing slots.
        slot_of = {}
        for t in self.inputs:
            slot_of[id(t)] = len(slot_of)
        steps = []
        for d in sorted(nodes_by_depth, reverse=True):
            for node in nodes_by_depth[d]:
                if node.is_input:
                    continue
                in_slots = [slot_of[id(t)] for t in node.input_tensors]
                out_slots = []
                for t in node.outputs:
                    slot_of[id(t)] = len(slot_of)
                    out_slots.append(slot_of[id(t)])
                layer = node.operation
                if getattr(node, "several_arguments", False):
                    layer = _SeveralArguments(layer)
                single_in = isinstance(node.arguments, KerasTensor)
                single_out = isinstance(node.output_structure, KerasTensor)
                steps.append((layer, tuple(in_slots), single_in, tuple(out_slots), single_out,
                              node.call_kwargs, layer._takes_training(), node.arguments))
        self._steps = steps
        self._n_slots = len(slot_of)
        self._output_slots = [slot_of[id(t)] for t in self.outputs]

    @property
    def layers(self):
        return list(self._graph_layers)

    @property
    def operations(self):
        """Keras's ``Functional.operations``: every node of the graph in order, the ops called on
        symbolic tensors (``keras.ops.add(a, b)``, ``x + y``) included. (Keras's ``layers`` leaves those
        ops out; the engine's ``layers`` lists them too, as ``OpLayer`` nodes.)"""
        return list(self._graph_layers)

    @property
    def input_names(self):
        return [t.keras_history.operation.name for t in self.inputs]

    @property
    def output_names(self):
        return [t.keras_history.operation.name for t in self.outputs]

    def _flatten_inputs(self, inputs):
        if isinstance(inputs, dict):
            try:
                return [inputs[n] for n in self.input_names]
            except KeyError as e:
                raise ValueError(f"Missing input {e.args[0]!r}: the model's inputs are {self.input_names}.") from None
        flat = flatten(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(flat) != len(self.inputs):
            raise ValueError(f"Model {self.name!r} expects {len(self.inputs)} input(s) {self.input_names}, "
                             f"but received {len(flat)}.")
        return flat

    def call(self, inputs, training=False):
        if self._needs_slow_path():
            return self._call_slow(inputs, training)
        slots = [None] * self._n_slots
        for i, x in enumerate(self._flatten_inputs(inputs)):
            slots[i] = x
        for layer, in_slots, single_in, out_slots, single_out, kwargs, takes_training, args in self._steps:
            if single_in:
                x = slots[in_slots[0]]
            else:
                x = pack_like(args, [slots[s] for s in in_slots])
            y = layer.call(x, training=training, **kwargs) if takes_training else layer.call(x, **kwargs)
            if single_out:
                slots[out_slots[0]] = y
            else:
                for s, t in zip(out_slots, flatten(y)):
                    slots[s] = t
        outs = [slots[s] for s in self._output_slots]
        if isinstance(self._outputs_struct, KerasTensor):
            return outs[0]
        return pack_like(self._outputs_struct, outs)

    def _call_slow(self, inputs, training):
        # Masks (from Embedding(mask_zero=True)) and activity regularizers need more than `call`.
        penalties = self._activity_penalties = []
        slots = [None] * self._n_slots
        masks = [None] * self._n_slots
        for i, x in enumerate(self._flatten_inputs(inputs)):
            slots[i] = x
        for layer, in_slots, single_in, out_slots, single_out, kwargs, takes_training, args in self._steps:
            if single_in:
                x, m = slots[in_slots[0]], masks[in_slots[0]]
            else:
                x = pack_like(args, [slots[s] for s in in_slots])
                m = [masks[s] for s in in_slots]
                m = None if all(v is None for v in m) else pack_like(args, m)
            if kwargs:
                y = layer.call(x, training=training, **kwargs) if takes_training else layer.call(x, **kwargs)
                out_mask = layer.compute_mask(x, m)
            else:
                y, out_mask = layer._run(x, training, m, penalties)
            if single_out:
                slots[out_slots[0]], masks[out_slots[0]] = y, out_mask
            else:
                out_masks = out_mask if isinstance(out_mask, (list, tuple)) else [out_mask] * len(out_slots)
                for s, t, om in zip(out_slots, flatten(y), out_masks):
                    slots[s], masks[s] = t, om
        outs = []
        for s in self._output_slots:
            if masks[s] is not None and hasattr(slots[s], "shape"):
                slots[s]._keras_mask = masks[s]
            outs.append(slots[s])
        if isinstance(self._outputs_struct, KerasTensor):
            return outs[0]
        return pack_like(self._outputs_struct, outs)

    def compute_output_shape(self, input_shape):
        shapes = input_shape if isinstance(input_shape, list) and len(self.inputs) > 1 else [input_shape]
        slots = [None] * self._n_slots
        for i, s in enumerate(shapes):
            slots[i] = tuple(s)
        for layer, in_slots, single_in, out_slots, single_out, kwargs, _, args in self._steps:
            s = slots[in_slots[0]] if single_in else pack_like(args, [slots[i] for i in in_slots])
            out = layer.compute_output_shape(s)
            if single_out:
                slots[out_slots[0]] = out
            else:
                for o, v in zip(out_slots, out):
                    slots[o] = tuple(v)
        outs = [slots[s] for s in self._output_slots]
        return outs[0] if isinstance(self._outputs_struct, KerasTensor) else outs

    # ------------------------------------------------------------------ saving
    def get_config(self):
        """Keras 3's functional config: each layer's config with its calls (``inbound_nodes``, counting only
        the calls that belong to this model), and the input and output tensors' references."""
        layers_cfg = []
        for layer in self.layers:
            cfg = serialize_layer(layer)
            cfg["name"] = layer.name
            nodes = []
            for node in self.inbound_nodes_of(layer):
                if node.is_input:
                    continue
                if layer.positional_inputs and isinstance(node.arguments, (list, tuple)):
                    # Keras's call(query, value, key=...): the tensors are separate arguments.
                    args = [_node_args(a) for a in node.arguments[:2]]
                    kwargs = dict(node.call_kwargs)
                    if len(node.arguments) > 2:
                        kwargs["key"] = _node_args(node.arguments[2])
                    nodes.append({"args": args, "kwargs": kwargs})
                    continue
                if getattr(node, "several_arguments", False):  # layer(a, b, key=c): Keras writes each argument
                    tensor_kwargs = {k: _node_args(v) for k, v in node.arguments["kwargs"].items()}
                    nodes.append({"args": [_node_args(a) for a in node.arguments["args"]],
                                  "kwargs": {**tensor_kwargs, **node.call_kwargs}})
                    continue
                nodes.append({"args": [_node_args(node.arguments)], "kwargs": dict(node.call_kwargs)})
            cfg["inbound_nodes"] = nodes
            layers_cfg.append(cfg)

        def refs(struct, tensors):
            r = [_tensor_ref(t) for t in tensors]
            return r[0] if isinstance(struct, KerasTensor) else r

        return {"name": self.name, "trainable": self.trainable, "layers": layers_cfg,
                "input_layers": refs(self._inputs_struct, self.inputs),
                "output_layers": refs(self._outputs_struct, self.outputs)}

    def saveable_children(self):
        """The weights tree holds the layers, under ``layers/``."""
        return [("layers", self.layers)]

    def inbound_nodes_of(self, layer):
        """The calls of ``layer`` that belong to this model, in order (a layer used in two models has calls
        in each; only this model's are in its config and its graph)."""
        return [n for n in layer.inbound_nodes if id(n) in self._node_ids]

    @property
    def inputs_structure(self):
        """The ``inputs`` as given to ``Model(inputs, outputs)`` (a tensor, a list or a dict)."""
        return self._inputs_struct

    @property
    def outputs_structure(self):
        """The ``outputs`` as given to ``Model(inputs, outputs)``."""
        return self._outputs_struct

    @property
    def input_shape(self):
        s = [t.shape for t in self.inputs]
        return s[0] if len(s) == 1 else s

    @property
    def output_shape(self):
        s = [t.shape for t in self.outputs]
        return s[0] if len(s) == 1 else s


def _tensor_ref(t):
    h = t.keras_history
    return [h.operation.name, h.node_index, h.tensor_index]


def _node_args(arguments):
    """A call's arguments as Keras 3 writes them: each tensor a ``__keras_tensor__`` reference."""
    if isinstance(arguments, KerasTensor):
        return {"class_name": "__keras_tensor__",
                "config": {"shape": list(arguments.shape), "dtype": arguments.dtype,
                           "keras_history": _tensor_ref(arguments)}}
    if isinstance(arguments, (list, tuple)):
        return [_node_args(a) for a in arguments]
    return arguments


class _SeveralArguments:
    """A step of the plan for a layer called on several tensors (``layer(a, b)``, ``layer(x, mask=m)``):
    the step packs its inputs as ``{"args": (...), "kwargs": {...}}`` and this unpacks them into the call."""

    def __init__(self, layer):
        self.layer = layer

    def _takes_training(self):
        return self.layer._takes_training()

    def call(self, packed, **kwargs):
        return self.layer.call(*packed["args"], **packed["kwargs"], **kwargs)

    def _run(self, packed, training, mask, penalties):
        kwargs = {"training": training} if self.layer._takes_training() else {}
        return self.call(packed, **kwargs), None

    def compute_mask(self, packed, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        args = make_outputs(list(input_shape["args"]), "float32")
        kwargs = {k: make_outputs(v, "float32") for k, v in input_shape["kwargs"].items()}
        spec = self.layer.compute_output_spec(*args, **kwargs)
        shapes = [tuple(t.shape) for t in flatten(spec)]
        return shapes[0] if len(shapes) == 1 else shapes


register_model_class("Functional", Functional)
