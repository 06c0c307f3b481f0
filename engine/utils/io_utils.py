"""Console output shared by the progress bar and the callbacks (``keras.utils.io_utils``)."""
from __future__ import annotations

import logging
import sys

from engine import distribute

_INTERACTIVE_LOGGING = True
_logger = logging.getLogger("engine")


def enable_interactive_logging() -> None:
    """Send progress bars and callback messages to stdout (the default)."""
    global _INTERACTIVE_LOGGING
    _INTERACTIVE_LOGGING = True


def disable_interactive_logging() -> None:
    """Send progress bars and callback messages to the ``engine`` logger instead of stdout."""
    global _INTERACTIVE_LOGGING
    _INTERACTIVE_LOGGING = False


def is_interactive_logging_enabled() -> bool:
    """Whether messages go to stdout (True) or to the ``engine`` logger (False)."""
    return _INTERACTIVE_LOGGING


def print_msg(message, line_break: bool = True, file=None) -> None:
    """Write ``message`` to ``file`` (default: the current ``sys.stdout``) and flush it.

    Args:
        message: Anything; written as ``str(message)``.
        line_break: Whether to end the message with a newline.
        file: A text stream. ``None`` looks ``sys.stdout`` up at call time, so that
            redirections (pytest's capsys, a GUI's log pane) see the output.

    Under torchrun only rank 0 prints (see ``engine.distribute``).
    """
    if not distribute.is_chief():
        return
    message = str(message)
    if not _INTERACTIVE_LOGGING:
        _logger.info(message)
        return
    stream = sys.stdout if file is None else file
    if line_break:
        message += "\n"
    try:
        stream.write(message)
    except UnicodeEncodeError:
        # A console that cannot encode the bar character gets Keras 2's "=" bar instead.
        encoding = getattr(stream, "encoding", None) or "utf-8"
        message = message.replace("\u2501", "=").encode(encoding, errors="ignore").decode(encoding)
        stream.write(message)
    stream.flush()
