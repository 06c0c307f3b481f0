"""A tiny Qt-free signal: the document announces changes; the canvas and panels listen."""
from __future__ import annotations


class Signal:
    """``sig.connect(fn)``; ``sig.emit(*args)`` calls every connected function in order."""

    def __init__(self):
        self._slots = []

    def connect(self, fn):
        self._slots.append(fn)
        return fn

    def disconnect(self, fn):
        self._slots = [s for s in self._slots if s is not fn]

    def emit(self, *args):
        for fn in list(self._slots):
            fn(*args)
