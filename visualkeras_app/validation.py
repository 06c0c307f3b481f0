"""Argument checks shared by the training settings, the schedules and the command lines: one wording for
each refusal. Free of Qt and of the engine, so that parsing a command line stays instant."""
from __future__ import annotations

import argparse


def check_positive_int(name, value, detail=""):
    """``value`` when it is an int >= 1 (not a bool); else ValueError naming ``name`` and the value.

    ``detail`` goes after the rule, e.g. ``" (epochs x batches per epoch)"``.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1{detail}. Received: {name}={value!r}")
    return value


def positive_int_arg(text):
    """An argparse ``type``: the integer >= 1 that ``text`` spells, or the usage error saying so."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, received {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, received {text}")
    return value
