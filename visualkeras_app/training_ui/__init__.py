"""The Qt side of training: the worker thread, the Training panel, its plots and the run list.

Nothing here imports ``engine`` (torch) at module level: the window builds these after its first paint.
"""
from __future__ import annotations

from visualkeras_app.qt_refs import pin_singletons

pin_singletons()
