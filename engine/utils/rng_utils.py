"""``set_random_seed``: one call that makes a run repeatable."""
from __future__ import annotations

from engine import backend


def set_random_seed(seed):
    """Seeds Python's ``random``, NumPy and torch (``keras.utils.set_random_seed``).

    Args:
        seed: A non-negative integer.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"Expected `seed` to be a non-negative integer. Received: seed={seed!r}")
    backend.set_seed(seed)
