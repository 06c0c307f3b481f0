"""``OpLayer``: an op of ``engine.ops`` called on symbolic tensors, as one node of a functional model.

The ops live below the layers (Keras's ops never import its layers): ``engine.ops`` records an op call
on KerasTensors through the class this module registers with it when ``engine.layers`` loads.
"""
from __future__ import annotations

from engine import backend
from engine.keras_tensor import KerasTensor
from engine.layers.layer import Layer
from engine.layers.node import Node
from engine.ops._dispatch import collect_leaves, compute_output_spec, map_leaves, register_op_layer


class OpLayer(Layer):
    """An op called on symbolic tensors inside a functional model: one node of the graph.

    It holds the op and its non-tensor arguments; ``call`` receives the tensors that stood where the
    KerasTensors were and runs the op on them.
    """

    def __init__(self, fn, args, kwargs, name=None):
        super().__init__(name=name or backend.unique_name(fn.__name__))
        self.fn, self.op_args, self.op_kwargs = fn, args, kwargs
        self.built = True

    def _fill(self, tensors):
        it = iter(tensors)

        def sub(leaf):
            return next(it) if isinstance(leaf, KerasTensor) else leaf

        return map_leaves(self.op_args, sub), map_leaves(self.op_kwargs, sub)

    def call(self, inputs):
        args, kwargs = self._fill(inputs)
        return self.fn(*args, **kwargs)

    def compute_output_shape(self, input_shape):
        spec = compute_output_spec(self.fn, self.op_args, self.op_kwargs, shapes=input_shape)
        shapes = [t.shape for t in collect_leaves(spec, []) if isinstance(t, KerasTensor)]
        return shapes[0] if len(shapes) == 1 else shapes

    @classmethod
    def record(cls, fn, args, kwargs, inputs, outputs):
        """Add the call ``fn(*args, **kwargs)`` on the KerasTensors ``inputs`` to the graph, as the node
        that made ``outputs``."""
        Node(_op_class(fn)(fn, args, kwargs), arguments=inputs, outputs=outputs)

    def get_config(self):
        raise NotImplementedError(
            f"{self.name!r} is the op engine.ops.{self.fn.__name__} called on a symbolic tensor; ops in a "
            "functional model cannot be saved to a config. Wrap the computation in a Layer subclass.")


_OP_CLASSES: dict = {}


def _op_class(fn):
    """One OpLayer subclass per op, named as Keras names its operation classes (``relu`` -> ``Relu``),
    so that a model summary shows the same types as Keras's."""
    name = "".join(part.capitalize() for part in fn.__name__.strip("_").split("_")) or "Op"
    cls = _OP_CLASSES.get(name)
    if cls is None:
        cls = _OP_CLASSES[name] = type(name, (OpLayer,), {"__module__": __name__})
    return cls


register_op_layer(OpLayer)
