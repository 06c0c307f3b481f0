"""Backend settings: data format, epsilon, float type, random seeds and the compute device.

The engine always runs on PyTorch. Tensors keep Keras's ``channels_last`` layout (NHWC) at every
layer boundary, whatever torch does inside a layer.
"""
from __future__ import annotations

import collections
import contextlib
import os
import random
import re
import sys

import numpy as np
import torch

from engine import distribute
from engine.keras_tensor import KerasTensor

_EPSILON = 1e-7
_FLOATX = "float32"
_IMAGE_DATA_FORMAT = "channels_last"
_DEVICE: torch.device | None = None
_NAME_UIDS: collections.Counter = collections.Counter()


def backend() -> str:
    """The name of the backend: always ``"torch"``."""
    return "torch"


def epsilon() -> float:
    """The fuzz factor used in numeric expressions (Keras default 1e-7)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    global _EPSILON
    _EPSILON = float(value)


def floatx() -> str:
    """The default float type, as a string (``"float32"``)."""
    return _FLOATX


def set_floatx(value: str) -> None:
    global _FLOATX
    if value not in ("float16", "bfloat16", "float32", "float64"):
        raise ValueError(f"Unknown floatx type: {value!r}. Expected one of float16, bfloat16, float32, float64.")
    _FLOATX = value


def image_data_format() -> str:
    """The image data format convention: always ``"channels_last"`` (NHWC), as Keras's default."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format: str) -> None:
    if data_format != "channels_last":
        raise ValueError(
            f"The engine supports only data_format='channels_last' (Keras's default). Received: {data_format!r}. "
            "Keep images as (batch, height, width, channels)."
        )


def standardize_data_format(data_format):
    """Resolve a layer's ``data_format`` argument; only channels_last is supported."""
    if data_format is None:
        return _IMAGE_DATA_FORMAT
    data_format = str(data_format).lower()
    if data_format != "channels_last":
        raise ValueError(
            f"Only data_format='channels_last' is supported. Received: data_format={data_format!r}. "
            "Transpose your data to (batch, ..., channels) instead."
        )
    return data_format


# The dtype names the engine maps to torch dtypes (Keras's names).
DTYPES = frozenset({"float16", "float32", "float64", "bfloat16", "int8", "int16", "int32", "int64", "uint8", "uint16",
                    "uint32", "uint64", "bool", "complex64", "complex128", "float8_e4m3fn", "float8_e5m2"})


def torch_dtype(dtype=None) -> torch.dtype:
    """Map a Keras dtype name (or None for floatx) to a torch dtype."""
    if dtype is None:
        dtype = _FLOATX
    if isinstance(dtype, torch.dtype):
        return dtype
    if isinstance(dtype, dict):  # a serialized DTypePolicy
        dtype = dtype.get("config", {}).get("name", _FLOATX)
    dtype = str(dtype)
    if dtype.startswith("mixed_"):
        dtype = "float32"
    # Names from a file pick from this list only: ``getattr(torch, name)`` would reach any attribute
    # (``_dynamo`` imports hundreds of modules).
    if dtype not in DTYPES:
        raise ValueError(f"Unknown dtype: {dtype!r:.80}. Known dtypes: {', '.join(sorted(DTYPES))}.")
    return getattr(torch, dtype)


def set_seed(seed: int) -> None:
    """Seed Python's, NumPy's and torch's random generators (``keras.utils.set_random_seed``)."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    _seed_torch(seed)
    # As Keras: the global SeedGenerator of engine.random is made again from the newly seeded `random`
    # (engine.random makes it on first use, so there is nothing to reset before it is imported).
    engine_random = sys.modules.get("engine.random")
    if engine_random is not None:
        engine_random.reset_global_seed_generator()


def _has_accelerator() -> bool:
    """Whether torch sees a device beside the CPU that ``torch.manual_seed`` also seeds."""
    for name in ("cuda", "xpu", "mtia"):
        module = getattr(torch, name, None)
        if module is not None and module.is_available():
            return True
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return True
    return torch._C._get_privateuse1_backend_name() != "privateuseone"  # a registered out-of-tree device


def _seed_torch(seed: int) -> None:
    """``torch.manual_seed``; on a machine with only the CPU, the CPU generator alone. (torch.manual_seed also
    queues a lazy seeding of CUDA, XPU and MTIA for when they start, each with a formatted stack trace: 1-2 ms
    a call that seeds nothing on such a machine; the tests seed before every test.)"""
    if _has_accelerator():
        torch.manual_seed(seed)
    else:
        torch.random.default_generator.manual_seed(int(seed))


def _default_device() -> torch.device:
    env = os.environ.get("VISUALKERAS_DEVICE")
    if env:
        return torch.device(env)
    if torch.cuda.is_available():
        return distribute.default_cuda_device() or torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def get_device() -> torch.device:
    """The device new weights and training use: CUDA, then MPS, then CPU unless ``set_device`` chose."""
    global _DEVICE
    if _DEVICE is None:
        _DEVICE = _default_device()
    return _DEVICE


def set_device(device) -> None:
    """Choose the compute device ("cpu", "cuda", "cuda:1", "mps"); None returns to automatic choice."""
    global _DEVICE
    if device is None:
        _DEVICE = None
        return
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"Device {device!r} requested but CUDA is not available on this machine. Use 'cpu'.")
    if dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(f"Device {device!r} requested but MPS is not available on this machine. Use 'cpu'.")
    _DEVICE = dev


def available_devices() -> list[str]:
    """Devices a user can pick: always "cpu", plus "cuda"/"mps" when present."""
    out = ["cpu"]
    if torch.cuda.is_available():
        out.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        out.append("mps")
    return out


def to_snake_case(name: str) -> str:
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub(r"([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


def unique_name(prefix: str) -> str:
    """Keras's automatic names: ``dense``, ``dense_1``, ``dense_2``... per prefix until ``clear_session``."""
    n = _NAME_UIDS[prefix]
    _NAME_UIDS[prefix] += 1
    return prefix if n == 0 else f"{prefix}_{n}"


def get_uid(prefix: str = "") -> int:
    """The next number of ``prefix`` (1, 2...), sharing the counter of the automatic layer names, as
    Keras's ``get_uid``."""
    _NAME_UIDS[prefix] += 1
    return _NAME_UIDS[prefix]


@contextlib.contextmanager
def fresh_names():
    """Inside the block, automatic layer names start over as in a fresh session (``zero_padding2d``, not
    ``zero_padding2d_3`` after other models were built); the counters from before come back afterwards."""
    saved = dict(_NAME_UIDS)
    _NAME_UIDS.clear()
    try:
        yield
    finally:
        _NAME_UIDS.clear()
        _NAME_UIDS.update(saved)


def is_keras_tensor(x) -> bool:
    """Whether ``x`` is a symbolic tensor (from ``Input`` or a layer called on one)."""
    return isinstance(x, KerasTensor)


def is_float_dtype(dtype) -> bool:
    dtype = standardize_dtype(dtype)
    return dtype.startswith("float") or dtype.startswith("bfloat")


def is_int_dtype(dtype) -> bool:
    dtype = standardize_dtype(dtype)
    return dtype.startswith("int") or dtype.startswith("uint")


def clear_session() -> None:
    """Reset the automatic layer names, as ``keras.backend.clear_session`` does."""
    _NAME_UIDS.clear()


# ---------------------------------------------------------------------------------------- dtypes
# Keras's dtype rules (its backend/common/dtypes.py), here in the backend, below the ops that use them.
# Keras's promotion lattice (JAX's): each type points to the types just above it. "int"/"float" are
# the weak types of Python scalars.
_LATTICE = {
    "bool": ["int"], "int": ["uint8", "int8", "complex64"], "uint8": ["int16", "uint16"],
    "uint16": ["int32", "uint32"], "uint32": ["int64", "uint64"], "uint64": ["float"],
    "int8": ["int16"], "int16": ["int32"], "int32": ["int64"], "int64": ["float"],
    "float": ["bfloat16", "float16"], "bfloat16": ["float32"], "float16": ["float32"],
    "float32": ["float64", "complex64"], "float64": ["complex128"], "complex64": ["complex128"],
    "complex128": [],
}


def _upper_bounds():
    out = {}
    for node in _LATTICE:
        seen, stack = set(), [node]
        while stack:
            n = stack.pop()
            if n not in seen:
                seen.add(n)
                stack.extend(_LATTICE[n])
        out[node] = seen
    return out


_UB = _upper_bounds()
_TO_32 = {"int64": "int32", "uint64": "uint32", "float64": "float32", "complex128": "complex64"}


def standardize_dtype(dtype) -> str:
    """A dtype's Keras name (``torch.float32``, ``np.int32``, ``int`` -> ``"float32"``, ``"int32"``...)."""
    if dtype is None:
        return floatx()
    if dtype is int:
        return "int32"
    if dtype is float:
        return "float32"
    if dtype is bool:
        return "bool"
    if dtype is complex:
        return "complex64"
    if isinstance(dtype, torch.dtype):
        return str(dtype).replace("torch.", "")
    if hasattr(dtype, "name") and not isinstance(dtype, str) and isinstance(getattr(dtype, "name"), str):
        dtype = dtype.name  # numpy dtypes and dtype policies
    dtype = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    return {"float": "float32", "int": "int32", "double": "float64", "half": "float16"}.get(dtype, dtype)


def _lub(nodes):
    nodes = set(nodes)
    common = set.intersection(*[_UB[n] for n in nodes])
    least = (common & nodes) or {c for c in common if common <= _UB[c]}
    if len(least) != 1:
        raise ValueError(f"Input dtypes {sorted(nodes)} have no implicit promotion path. Cast explicitly.")
    return least.pop()


def _weak(dtype):
    if dtype == "bool":
        return dtype
    for kind in ("float", "int", "complex"):
        if kind in dtype:
            return "float" if kind == "float" else kind if kind != "complex" else "complex64"
    return dtype


def result_type(*dtypes) -> str:
    """Keras's ``backend.result_type``: Python ``int``/``float`` are weak; 64-bit results become 32-bit."""
    if not dtypes:
        return floatx()
    weak = [d is int or d is float for d in dtypes]
    names = [standardize_dtype(d) for d in dtypes]
    if len(names) == 1:
        out, out_weak = names[0], weak[0]
    elif len(set(names)) == 1 and not all(weak):
        out, out_weak = names[0], False
    elif all(weak):
        out, out_weak = _lub(names), True
    else:
        out = _lub([_weak(n) if w else n for n, w in zip(names, weak)])
        out_weak = out in ("int", "float")
    out_weak = out_weak and out != "bool"
    if out_weak or out in ("int", "float"):
        precision = floatx()[-2:]
        out = "bool" if out == "bool" else (f"int{precision}" if out.startswith("i")
                                            else f"uint{precision}" if out.startswith("u") else f"float{precision}")
    return _TO_32.get(out, out)
