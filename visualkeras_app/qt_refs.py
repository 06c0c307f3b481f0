"""PySide6 6.12 on Python 3.11 leaks references to None/True: pin them before any Qt call.

Imported first by the app, the canvas and the training UI (each can run without the others: tests, tools).
"""
from __future__ import annotations

import sys


def pin_singletons():
    """Make None, True and False (and the other singletons) immortal, as Python 3.12+ does.

    PySide6 6.12 (the cp310-abi3 wheel) returns these from C without taking a reference: every call of a
    void Qt method drops a reference to None, every ``Signal.emit`` one to True. From Python 3.12 on that is
    harmless (they are immortal); on 3.11 the count runs down and the process aborts with "Fatal Python
    error: none_dealloc" after some thousands of calls, i.e. a minute into a training run with live plots.
    Adding 2**40 references makes the count unreachable. It is a no-op where it is not needed.
    """
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    import ctypes

    for obj in (None, True, False, Ellipsis, NotImplemented):
        ref = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt is the first field of every object
        if ref.value < 1 << 39:
            ref.value += 1 << 40
    return True

