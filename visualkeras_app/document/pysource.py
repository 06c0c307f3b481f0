"""Pieces of Python source made from values that came from a file: the only way generated code quotes.

Every code generator (the code dock, the ``.py``, ``_torch.py`` and training-script exports) writes a
value from a project or model file through one of these, so that no text in a file can become code:

- ``literal(value)``: a plain Python value (None, bool, int, float, str, and lists, tuples and dicts
  of them) as a literal; anything else is refused with ``UnsafeSource``.
- ``identifier(text)``: an ASCII identifier that is not a keyword, or ``UnsafeSource``.
- ``as_identifier(text)``: the nearest such identifier (a variable name made from a layer name).
- ``doc_text(text)``: text that can sit inside a ``\"\"\"`` docstring or a ``#`` comment and stay there.
"""
from __future__ import annotations

import json
import keyword
import math
import re

_ASCII_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# Nested lists and dicts deeper than this are refused (a config never nests more than a few levels).
MAX_DEPTH = 64


class UnsafeSource(TypeError):
    """A value that cannot be written into Python source as a plain literal or identifier."""


def literal(value, tuples=True, _depth=0):
    """``value`` as Python source: ``repr`` of a plain value; strings in double quotes (JSON's escapes are
    Python's); lists as tuples when ``tuples`` (as Keras code writes shapes); ``float("inf")``/``float("nan")``
    for non-finite floats. Raises ``UnsafeSource`` for anything that is not a plain value."""
    if _depth > MAX_DEPTH:
        raise UnsafeSource("a value nests too deeply to be written as a literal")
    if value is None or value is True or value is False:
        return repr(value)
    if type(value) is int:
        return repr(value)
    if type(value) is float:
        if math.isfinite(value):
            return repr(value)
        return 'float("nan")' if math.isnan(value) else ('float("inf")' if value > 0 else '-float("inf")')
    if type(value) is str:
        return json.dumps(value)  # ASCII-only, double quotes; a valid Python string literal
    if type(value) in (list, tuple):
        items = [literal(v, tuples, _depth + 1) for v in value]
        if type(value) is list and not tuples:
            return "[" + ", ".join(items) + "]"
        return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    if type(value) is dict:
        if not all(type(k) is str for k in value):
            raise UnsafeSource("a dict with keys that are not strings cannot be written as a literal")
        return "{" + ", ".join(f"{literal(k)}: {literal(v, tuples, _depth + 1)}" for k, v in value.items()) + "}"
    raise UnsafeSource(f"a {type(value).__name__} cannot be written as a Python literal")


def is_identifier(text) -> bool:
    return type(text) is str and bool(_ASCII_IDENTIFIER.match(text)) and not keyword.iskeyword(text)


def identifier(text) -> str:
    """``text`` when it is an ASCII identifier and not a keyword; ``UnsafeSource`` otherwise."""
    if not is_identifier(text):
        raise UnsafeSource(f"{text!r:.80} is not a Python identifier")
    return text


def as_identifier(text, reserved=(), prefix="_") -> str:
    """An ASCII identifier made from ``text`` (other characters become ``_``), not a keyword nor in
    ``reserved`` (then ``_`` is appended), starting with ``prefix`` when it would start with a digit."""
    base = re.sub(r"[^0-9A-Za-z_]", "_", str(text)) or "layer"
    if base[0].isdigit():
        base = prefix + base
    if keyword.iskeyword(base) or base in reserved:
        base += "_"
    return base


def doc_text(text, quotes=True) -> str:
    """``text`` safe inside a triple-quoted docstring (or, with ``quotes=False``, after ``#``): line
    breaks and other unprintable characters written as escapes; with ``quotes``, backslashes and double
    quotes escaped too."""
    out = []
    for ch in str(text):
        if quotes and ch == "\\":
            out.append("\\\\")
        elif quotes and ch == '"':
            out.append('\\"')
        elif ch.isprintable() and ch not in "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029":
            out.append(ch)
        else:
            out.append(repr(ch)[1:-1] if ch != "'" else ch)
    return "".join(out)
