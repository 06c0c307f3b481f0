"""Progress of long loads, for whoever shows it: ``with reporting(callback): load_model(path)`` calls
``callback(stage, done, total)`` as layers are rebuilt. The callback may raise ``LoadCancelled`` to stop
the load (a Cancel button): it passes every ``except Exception`` on its way out, so nothing half-made is
returned as if it were whole.

Reports are thinned to about one per 1% of the work, so a caller pays nothing measurable.
"""
from __future__ import annotations

import contextlib
import contextvars

_CALLBACK = contextvars.ContextVar("visualkeras_load_progress", default=None)


class LoadCancelled(BaseException):
    """The user stopped a load; raised by a progress callback, caught by whoever started the load."""


@contextlib.contextmanager
def reporting(callback):
    """Send ``callback(stage, done, total)`` the progress of loads run inside the block (this thread)."""
    token = _CALLBACK.set(callback)
    try:
        yield
    finally:
        _CALLBACK.reset(token)


def report(stage, done, total):
    """Tell the current callback (if any) that ``done`` of ``total`` steps of ``stage`` are finished."""
    callback = _CALLBACK.get()
    if callback is None:
        return
    step = max(1, total // 100)
    if done == total or done % step == 0:
        callback(stage, done, total)
