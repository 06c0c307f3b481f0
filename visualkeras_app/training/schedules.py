"""The one-cycle learning-rate schedule (Smith & Topin, 2018) as an engine ``LearningRateSchedule``."""
from __future__ import annotations

import math

from engine.optimizers.schedules import LearningRateSchedule
from visualkeras_app.validation import check_positive_int


class OneCycle(LearningRateSchedule):
    """Warm up from ``max_lr / div_factor`` to ``max_lr``, then anneal to a tiny rate, both on cosines.

    The same curve as ``torch.optim.lr_scheduler.OneCycleLR`` with its defaults (cosine annealing,
    two phases): the rise ends at step ``pct_start * total_steps - 1``, the fall at ``total_steps - 1``
    at ``max_lr / (div_factor * final_div_factor)``; later steps keep that last rate.

    Args:
        max_lr: Float > 0, the peak learning rate.
        total_steps: Int > 0, the number of optimizer steps of the whole run (epochs x batches).
        pct_start: Float in (0, 1), the fraction of the steps spent rising.
        div_factor: Float > 0, the initial rate is ``max_lr / div_factor``.
        final_div_factor: Float > 0, the final rate is the initial rate / ``final_div_factor``.
        name: String, defaults to "OneCycle".
    """

    def __init__(self, max_lr, total_steps, pct_start=0.25, div_factor=25.0, final_div_factor=1e4,
                 name="OneCycle"):
        if not isinstance(max_lr, (int, float)) or not max_lr > 0:
            raise ValueError(f"max_lr must be a number > 0. Received: max_lr={max_lr!r}")
        check_positive_int("total_steps", total_steps, " (epochs x batches per epoch)")
        if not 0 < pct_start < 1:
            raise ValueError(f"pct_start must be in (0, 1). Received: pct_start={pct_start!r}")
        if not div_factor > 0 or not final_div_factor > 0:
            raise ValueError(f"div_factor and final_div_factor must be > 0. Received: div_factor={div_factor!r}, "
                             f"final_div_factor={final_div_factor!r}")
        self.max_lr = float(max_lr)
        self.total_steps = int(total_steps)
        self.pct_start = float(pct_start)
        self.div_factor = float(div_factor)
        self.final_div_factor = float(final_div_factor)
        self.name = name
        self.initial_lr = self.max_lr / self.div_factor
        self.min_lr = self.initial_lr / self.final_div_factor
        self._rise_end = float(self.pct_start * self.total_steps) - 1
        self._fall_end = float(self.total_steps - 1)

    @staticmethod
    def _cos(start, end, pct):
        return end + (start - end) / 2.0 * (1.0 + math.cos(math.pi * pct))

    def __call__(self, step):
        step = float(step)
        if step <= self._rise_end:
            pct = step / self._rise_end if self._rise_end > 0 else 1.0
            return self._cos(self.initial_lr, self.max_lr, pct)
        span = self._fall_end - self._rise_end
        pct = min((step - self._rise_end) / span, 1.0) if span > 0 else 1.0
        return self._cos(self.max_lr, self.min_lr, pct)

    def get_config(self):
        return {"max_lr": self.max_lr, "total_steps": self.total_steps, "pct_start": self.pct_start,
                "div_factor": self.div_factor, "final_div_factor": self.final_div_factor, "name": self.name}
