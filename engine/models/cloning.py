"""``clone_model``: the same architecture with new layers (and new, freshly initialized weights)."""
from __future__ import annotations

from engine.layers.input_layer import Input, InputLayer
from engine.layers.node import KerasTensor, flatten
from engine.models.functional import Functional, map_graph
from engine.models.sequential import Sequential


def _default_clone(layer):
    return type(layer).from_config(layer.get_config())


def clone_model(model, input_tensors=None, clone_function=None, call_function=None, recursive=False,
                **kwargs):
    """A new Sequential or functional model with the structure of ``model``, as Keras's ``clone_model``.

    Every layer is replaced by ``clone_function(layer)`` (by default a new layer from its config), so the
    weights are new and initialized afresh; copy them with ``set_weights(model.get_weights())``.

    Args:
        model: a Sequential or functional model.
        input_tensors: optional ``Input`` tensors to build the clone on (functional models).
        clone_function: ``fn(layer) -> layer`` making each new layer.
        call_function: ``fn(layer, *args, **kwargs) -> outputs`` calling each new layer in the graph
            (functional models); by default ``layer(*args, **kwargs)``.
        recursive: also clone the layers of nested Sequential/functional models.
    """
    if kwargs:
        raise TypeError(f"clone_model() got unexpected keyword argument(s) {sorted(kwargs)}.")
    clone_function = clone_function or _default_clone

    def clone_layer(layer):
        if recursive and isinstance(layer, (Sequential, Functional)):
            return clone_model(layer, clone_function=clone_function, call_function=call_function,
                               recursive=True)
        new = clone_function(layer)
        if not hasattr(new, "__call__"):
            raise TypeError(f"clone_function must return a layer. Received: {new!r} for {layer.name!r}")
        return new

    if isinstance(model, Sequential):
        if call_function is not None:
            raise ValueError("call_function is only supported for functional models.")
        layers = [clone_layer(l) for l in model.layers]
        if input_tensors is not None:
            first = flatten(input_tensors)[0]
            return Sequential([first] + layers, name=model.name)
        if model._input_layer is not None:
            il = model._input_layer
            return Sequential([InputLayer(batch_shape=il.batch_shape, dtype=il.dtype, name=il.name)] + layers,
                              name=model.name)
        return Sequential(layers, name=model.name)
    if not isinstance(model, Functional):
        raise ValueError(f"clone_model takes a Sequential or functional model; {model.name!r} is a subclassed "
                         "Model (its architecture is Python code): make a new instance instead.")

    nodes_by_depth, _ = map_graph(model.inputs, model.outputs)
    new_tensor = {}  # id(old KerasTensor) -> new KerasTensor
    if input_tensors is not None:
        given = flatten(input_tensors)
        if len(given) != len(model.inputs):
            raise ValueError(f"input_tensors has {len(given)} tensor(s); the model has {len(model.inputs)} inputs.")
        for old, new in zip(model.inputs, given):
            new_tensor[id(old)] = new
    else:
        for old in model.inputs:
            il = old.keras_history.operation
            new_tensor[id(old)] = Input(batch_shape=il.batch_shape, dtype=il.dtype, name=il.name)
    clones = {}

    def sub(structure):
        if isinstance(structure, KerasTensor):
            return new_tensor[id(structure)]
        if isinstance(structure, (list, tuple)) and not hasattr(structure, "_fields"):
            out = [sub(s) for s in structure]
            return out if isinstance(structure, list) else tuple(out)
        if isinstance(structure, dict):
            return {k: sub(v) for k, v in structure.items()}
        return structure

    for depth in sorted(nodes_by_depth, reverse=True):
        for node in nodes_by_depth[depth]:
            if node.is_input:
                continue
            layer = node.operation
            if hasattr(layer, "fn") and hasattr(layer, "op_args"):  # an engine.ops call: call the op again
                out = layer.fn(*sub(layer.op_args), **sub(layer.op_kwargs))
            else:
                if id(layer) not in clones:  # a shared layer is cloned once and shared again
                    clones[id(layer)] = clone_layer(layer)
                new_layer = clones[id(layer)]
                if getattr(node, "several_arguments", False):
                    args, kwargs = sub(node.arguments["args"]), sub(node.arguments["kwargs"])
                else:
                    args, kwargs = (sub(node.arguments),), {}
                kwargs = {**kwargs, **node.call_kwargs}
                out = call_function(new_layer, *args, **kwargs) if call_function is not None \
                    else new_layer(*args, **kwargs)
            for old, new in zip(node.outputs, flatten(out)):
                new_tensor[id(old)] = new
    inputs = sub(model._inputs_struct)
    outputs = sub(model._outputs_struct)
    return Functional(inputs, outputs, name=model.name)
