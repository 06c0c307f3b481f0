"""``engine.ops``: the Keras 3 ``keras.ops`` namespace on PyTorch.

The same names, arguments, broadcasting and result dtypes as Keras's torch backend. Every op works on
torch tensors (and arrays, scalars, lists, which it converts as Keras does) and on symbolic
``KerasTensor``s from ``engine.Input``: there it infers the output shape and dtype without running
on data and adds a node to the functional graph, so ``Model(inputs, outputs)`` runs it.

Modules as in Keras: ``core``, ``numpy``, ``nn``, ``math``, ``linalg``, ``image``; the functions of
the first five are also here at the top level, ``image`` and ``linalg`` are reached as submodules.
"""
from engine.ops import image, linalg, nn, numpy  # noqa: F401
from engine.ops.core import *  # noqa: F401,F403
from engine.ops.numpy import *  # noqa: F401,F403
from engine.ops.nn import *  # noqa: F401,F403
from engine.ops.math import *  # noqa: F401,F403
from engine.ops.linalg import *  # noqa: F401,F403
from engine.ops.einops import *  # noqa: F401,F403
from engine.ops._dispatch import result_type  # noqa: F401
import sys as _sys  # noqa: E402

from engine import keras_tensor as _keras_tensor  # noqa: E402

_keras_tensor.use_ops(_sys.modules[__name__])  # a KerasTensor's operators (x + 1, x[0]) are these ops
