"""The console progress bar that ``fit``/``evaluate``/``predict`` and downloads print.

The text is byte-for-byte Keras 3's (``keras.utils.Progbar``), ANSI colours included, e.g.::

    469/469 ━━━━━━━━━━━━━━━━━━━━ 5s 10ms/step - accuracy: 0.9012 - loss: 0.3210
"""
from __future__ import annotations

import math
import os
import sys
import time

import numpy as np

from engine.utils import io_utils

_BAR_CHAR = "\u2501"  # "━"
# ANSI escapes as Keras writes them; they do not take up room on screen, so they are left out of
# the width that the next redraw has to blank out.
_BOLD, _RESET, _GREEN, _GREY = "\x1b[1m", "\x1b[0m", "\x1b[32m", "\x1b[37m"


class Progbar:
    """Displays a progress bar.

    If neither ``stateful_metrics`` nor ``stateless_metrics`` is given, every metric is
    stateless: the bar shows its average over the steps seen so far.

    Args:
        target: Total number of steps expected, ``None`` if unknown.
        width: Progress bar width on screen, in characters.
        verbose: Verbosity mode: 0 (silent), 1 (a bar redrawn in place), 2 (one line when
            the bar is finished).
        interval: Minimum time in seconds between two redraws in verbose mode 1. Updates in
            between only accumulate their values, which keeps fast loops fast.
        stateful_metrics: Names of metrics shown as given (not averaged). Give this or
            ``stateless_metrics``, not both.
        stateless_metrics: Names of metrics averaged over time; every other metric is then
            shown as given.
        unit_name: Display name for a step (``"step"``, ``"sample"``).
        file: Stream to write to; ``None`` (default) writes to ``sys.stdout`` as Keras does.
            Downloads pass ``sys.stderr``.
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None,
                 stateless_metrics=None, unit_name="step", file=None):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError(
                "Only one of `stateful_metrics` or `stateless_metrics` can be provided. "
                f"Received: stateful_metrics={stateful_metrics}, stateless_metrics={stateless_metrics}."
            )
        if target is not None and target < 0:
            raise ValueError(f"`target` must be None or a non-negative number. Received: target={target}")
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.file = file
        if stateful_metrics is not None:
            self.stateful_metrics = set(stateful_metrics)
            self.stateless_metrics = None
        elif stateless_metrics is not None:
            self.stateful_metrics = None
            self.stateless_metrics = set(stateless_metrics)
        else:
            self.stateful_metrics = set()
            self.stateless_metrics = None

        # Keras's test, kept so the output is the same: on any POSIX system the bar redraws in
        # place with backspaces and a carriage return, even when stdout is a file.
        self._dynamic_display = (
            (hasattr(sys.stdout, "isatty") and sys.stdout.isatty())
            or "ipykernel" in sys.modules
            or "posix" in sys.modules
            or "PYCHARM_HOSTED" in os.environ
        )
        self._seen_so_far = 0
        self._values = {}  # name -> [weighted sum, weight]
        self._values_order = []
        self._start = time.time()
        self._last_update = 0
        self._time_after_first_step = None
        self._prev_total_width = 0

    def _is_stateless(self, name):
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        return name in self.stateless_metrics

    def update(self, current, values=None, finalize=None):
        """Updates the progress bar.

        Args:
            current: Index of the current step (1-based count of steps done).
            values: List of ``(name, value_for_last_step)`` tuples.
            finalize: Whether this is the last update; ``None`` means ``current >= target``.
        """
        if finalize is None:
            finalize = False if self.target is None else current >= self.target

        for name, value in values or ():
            if name not in self._values_order:
                self._values_order.append(name)
            if self._is_stateless(name) and not finalize:
                # Weight by the steps this value covers, so that skipped updates still average right.
                weight = max(current - self._seen_so_far, 1)
                acc = self._values.get(name)
                if acc is None:
                    self._values[name] = [value * weight, weight]
                else:
                    acc[0] += value * weight
                    acc[1] += weight
            else:
                # Final values are the epoch's own results: shown as they are.
                self._values[name] = [value, 1]
        self._seen_so_far = current

        now = time.time()
        time_per_unit = self._estimate_step_duration(current, now)

        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            self._draw_bar(current, now, time_per_unit, finalize)
        elif self.verbose == 2:
            if finalize and self.target is not None and self.target > 0:
                self._draw_line(current, now, time_per_unit)
        self._last_update = now

    def add(self, n, values=None):
        """Advances the bar by ``n`` steps."""
        self.update(self._seen_so_far + n, values)

    def _draw_bar(self, current, now, time_per_unit, finalize):
        message = ("\b" * self._prev_total_width + "\r") if self._dynamic_display else "\n"
        hidden = 0  # characters of ANSI escapes, which take no room on screen
        if self.target is not None and self.target > 0:
            digits = int(math.log10(self.target)) + 1
            count = "%*d/%d" % (digits, current, self.target)
            bar = f"{_BOLD}{count}{_RESET} "
            hidden += 8
            filled = int(self.width * (float(current) / self.target))
            if filled > 0:
                bar += f"{_GREEN}{_BAR_CHAR * filled}{_RESET}"
                hidden += 9
            bar += f"{_GREY}{_BAR_CHAR * (self.width - filled)}{_RESET}"
            hidden += 9
        else:
            bar = "%7d/Unknown" % current

        if self.target is not None and self.target > 0 and not finalize:
            eta = time_per_unit * (self.target - current)
            if eta > 3600:
                eta_text = "%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60, eta % 60)
            elif eta > 60:
                eta_text = "%d:%02d" % (eta // 60, eta % 60)
            else:
                eta_text = "%ds" % eta
            info = f" {_BOLD}{eta_text}{_RESET}"
        else:
            info = f" {_BOLD}{now - self._start:.0f}s{_RESET}"
        hidden += 8
        info += self._format_time(time_per_unit, self.unit_name)
        for name in self._values_order:
            avg = self._average(name)
            info += f" - {name}: {avg:.4f}" if abs(avg) > 1e-3 else f" - {name}: {avg:.4e}"

        total_width = len(bar) + len(info) - hidden
        message += bar + info
        if self._prev_total_width > total_width:
            message += " " * (self._prev_total_width - total_width)
        if finalize:
            message += "\n"
        io_utils.print_msg(message, line_break=False, file=self.file)
        self._prev_total_width = total_width

    def _draw_line(self, current, now, time_per_unit):
        digits = int(math.log10(self.target)) + 1
        info = "%*d/%d" % (digits, current, self.target) + f" - {now - self._start:.0f}s"
        info += f" -{self._format_time(time_per_unit, self.unit_name)}"
        for name in self._values_order:
            avg = self._average(name)
            # Keras compares without abs() here, so negative values print in e-notation.
            info += f" - {name}: {avg:.4f}" if avg > 1e-3 else f" - {name}: {avg:.4e}"
        io_utils.print_msg(info + "\n", line_break=False, file=self.file)

    def _average(self, name):
        total, count = self._values[name]
        if not isinstance(total, float):
            total = np.mean(total)
        return total / max(1, count)

    @staticmethod
    def _format_time(time_per_unit, unit_name):
        if time_per_unit >= 1 or time_per_unit == 0:
            return f" {time_per_unit:.0f}s/{unit_name}"
        if time_per_unit >= 1e-3:
            return f" {time_per_unit * 1000.0:.0f}ms/{unit_name}"
        return f" {time_per_unit * 1000000.0:.0f}us/{unit_name}"

    def _estimate_step_duration(self, current, now):
        # The first step (graph warm-up, data loading) is left out of the rate once there are more.
        if not current:
            return 0
        if self._time_after_first_step is not None and current > 1:
            time_per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            time_per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return time_per_unit
