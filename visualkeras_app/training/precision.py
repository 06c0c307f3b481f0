"""The precision a run trains in (``TrainSettings.precision``): float32, or one of Keras's mixed policies
for the run's duration. This module only names the choices (the panel reads them before torch loads);
the engine decides what a device does fast and applies a policy to a model
(``engine.mixed_precision.fast_policy`` and ``policy_scope``).

"auto" picks ``mixed_bfloat16`` where the device has bfloat16 matrix units (a CPU with AMX, as Intel Xeon
from the 4th generation on; an NVIDIA GPU from Ampere on) and float32 elsewhere.

A mixed policy is a setting of the run, not of the model: the model's layers that have the float32
policy compute in the lower precision while it trains and validates (their weights stay float32), and
get their float32 policy back afterwards, so the model saved or exported after the run is the model
that was drawn, and the run's test accuracy is that model's (evaluated as it computes).
"""
from __future__ import annotations

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
TITLES = {"auto": "Auto", "float32": "float32", "mixed_bfloat16": "Mixed bfloat16",
          "mixed_float16": "Mixed float16"}


def check_precision(value) -> str:
    if value not in PRECISIONS:
        raise ValueError(f"precision must be one of {list(PRECISIONS)}. Received: precision={value!r:.80}")
    return value


def resolve(precision: str, device: str) -> str:
    """The dtype policy a run with ``precision`` trains in on ``device``: "auto" becomes one."""
    check_precision(precision)
    if precision != "auto":
        return precision
    from engine.mixed_precision import fast_policy  # here: the panel imports this module before torch loads

    return fast_policy(device)
