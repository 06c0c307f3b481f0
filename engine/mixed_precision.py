"""Mixed precision as Keras 3 has it: dtype policies, a global policy, per-layer policies.

``set_global_policy("mixed_float16")`` (or ``"mixed_bfloat16"``) makes every layer created afterwards
keep its weights in float32 and compute in the lower precision; a layer's own ``dtype=`` (a name or a
``DTypePolicy``) overrides it, e.g. ``Dense(10, activation="softmax", dtype="float32")`` for the
output, as Keras's guide recommends. The engine runs a model with mixed layers under
``torch.autocast`` (matrix products and convolutions in the compute dtype, reductions and softmax in
float32), and ``compile`` wraps the optimizer in a ``LossScaleOptimizer`` for ``mixed_float16``, as
Keras does. Files keep Keras's configs: ``{"class_name": "DTypePolicy", "config": {"name":
"mixed_float16"}}`` on each layer.

Beyond Keras (for the app's training precision and its exported scripts): ``fast_policy(device)`` names
the mixed policy a device multiplies in hardware, and ``policy_scope(model, policy)`` lets a built model's
float32 layers compute in a mixed policy for one block (a run), restoring their policies after.
"""
from __future__ import annotations

import contextlib

import torch

from engine import backend

POLICY_NAMES = ("float16", "bfloat16", "float32", "float64", "mixed_float16", "mixed_bfloat16")
_GLOBAL = None  # None: backend.floatx()


class DTypePolicy:
    """A dtype policy: ``name`` is a dtype (``"float32"``) or ``"mixed_float16"``/``"mixed_bfloat16"``.

    Attributes:
        name: the policy's name.
        compute_dtype: the dtype a layer computes in (``"float16"`` for ``"mixed_float16"``).
        variable_dtype: the dtype of a layer's weights (``"float32"`` for the mixed policies).
    """

    def __init__(self, name=None):
        if isinstance(name, DTypePolicy):
            name = name.name
        name = backend.floatx() if name is None else str(name)
        if name not in POLICY_NAMES:
            raise ValueError(f"Cannot convert {name!r} to a mixed precision DTypePolicy. Valid policies are "
                             f"{list(POLICY_NAMES)}.")
        self._name = name

    @property
    def name(self):
        return self._name

    @property
    def compute_dtype(self):
        return self._name[len("mixed_"):] if self._name.startswith("mixed_") else self._name

    @property
    def variable_dtype(self):
        return "float32" if self._name.startswith("mixed_") else self._name

    @property
    def is_mixed(self):
        return self._name.startswith("mixed_")

    def get_config(self):
        return {"name": self._name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __eq__(self, other):
        return isinstance(other, DTypePolicy) and other.name == self.name

    def __hash__(self):
        return hash(self._name)

    def __repr__(self):
        return f'<DTypePolicy "{self._name}">'


Policy = DTypePolicy  # Keras 2's name


def set_global_policy(policy):
    """Set the policy of layers created from now on (``None`` resets it to ``backend.floatx()``)."""
    global _GLOBAL
    _GLOBAL = None if policy is None else DTypePolicy(policy)


def global_policy():
    """The policy new layers get: the one set with ``set_global_policy``, else ``backend.floatx()``'s."""
    return _GLOBAL if _GLOBAL is not None else DTypePolicy()


def dtype_policy():
    return global_policy()


def set_dtype_policy(policy):
    set_global_policy(policy)


def policy_name(dtype):
    """A layer's ``dtype`` argument (None, a name, a policy, a serialized policy) as a policy name."""
    if dtype is None:
        return global_policy().name if _GLOBAL is not None else None
    if isinstance(dtype, DTypePolicy):
        return dtype.name
    if isinstance(dtype, dict):
        return dtype.get("config", {}).get("name", "float32")
    if isinstance(dtype, torch.dtype):
        return str(dtype).replace("torch.", "")
    return str(dtype)


def autocast_dtype(model):
    """The dtype to autocast a model's forward pass to (None when no layer has a mixed policy)."""
    found = None
    for module in model.modules():
        # A layer (it has a dtype policy; engine.layers.layer imports this module) keeps its policy's name.
        if hasattr(type(module), "dtype_policy"):
            name = module.__dict__.get("_dtype")
            if isinstance(name, str) and name.startswith("mixed_"):
                found = torch.float16 if name == "mixed_float16" else torch.bfloat16
                if found is torch.float16:
                    return found
    return found


def has_fast_bfloat16(device="cpu") -> bool:
    """Whether ``device`` ("cpu", "cuda", "cuda:1", "mps" or a torch.device) multiplies bfloat16 matrices in
    hardware: a CPU with AMX (Intel Xeon from the 4th generation on), an NVIDIA GPU from Ampere on."""
    kind = torch.device(device).type
    if kind == "cpu":
        probe = getattr(torch.cpu, "_is_amx_tile_supported", None)  # torch's cpuinfo probe (private in torch 2)
        return bool(probe()) if probe is not None else False
    if kind == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported(including_emulation=False))
    return False


def fast_policy(device="cpu") -> str:
    """``"mixed_bfloat16"`` where ``device`` multiplies bfloat16 in hardware, ``"float32"`` elsewhere."""
    return "mixed_bfloat16" if has_fast_bfloat16(device) else "float32"


@contextlib.contextmanager
def policy_scope(model, policy):
    """Within the block, the float32 layers of ``model`` (a built one) compute in ``policy``, a mixed policy
    (their weights stay float32); each gets its float32 policy back when the block ends, however it ends.
    Layers with another policy (float64, a mixed one) and InputLayers (their dtype is the input's, not a
    computation's) are left alone; a layer made with ``dtype="float32"`` on purpose cannot be told from one
    that took the default, and joins. ``"float32"`` changes nothing."""
    policy = DTypePolicy(policy).name
    if policy == "float32":
        yield model
        return
    if DTypePolicy(policy).variable_dtype != "float32":
        raise ValueError(f"policy_scope takes a mixed policy (the weights stay float32). Received: {policy!r}; "
                         f"use 'mixed_bfloat16' or 'mixed_float16'.")
    changed = []
    try:
        for module in model.modules():
            current = getattr(module, "dtype_policy", None)  # engine layers have one
            if isinstance(current, DTypePolicy) and current.name == "float32" and not hasattr(module, "batch_shape"):
                module.dtype_policy = policy
                changed.append(module)
        yield model
    finally:
        for module in changed:
            module.dtype_policy = "float32"
