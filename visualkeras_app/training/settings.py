"""Training settings: what the Training panel edits and a project saves in ``doc.training``."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from visualkeras_app.training.precision import check_precision
from visualkeras_app.validation import check_positive_int

SCHEDULES = ("one_cycle", "constant")
# Epochs, batch sizes and sample counts above this are typing mistakes (or a hostile file), not plans.
_MAX_COUNT = 2**31 - 1
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "nadam", "adamax", "adagrad", "adadelta")


@dataclass
class TrainSettings:
    """How to train a model; every field has a default a beginner can keep.

    Args:
        dataset: "mnist", "fashion_mnist", or the path of a user's .npz or .csv file.
        loss: A Keras loss name, or "auto" to pick one from the model's output and the labels.
        optimizer: A Keras optimizer name ("adam", "sgd", ...).
        learning_rate: The peak rate with the one-cycle schedule, the rate itself with "constant".
        epochs: Number of passes over the training data.
        batch_size: Samples per gradient step.
        validation_split: Fraction of the training data held out to validate after each epoch.
        seed: Seeds weights, shuffling and the validation split, so runs repeat.
        device: "cpu", "cuda" or "mps".
        schedule: "one_cycle" (warm up, then anneal: reaches high accuracy in one epoch) or "constant".
        max_train_samples: Train on only the first N samples (quick tries and tests); None for all.
        precision: "float32", "mixed_bfloat16", "mixed_float16" (Keras's mixed policies, for the run only), or
            "auto": mixed bfloat16 where the device has bfloat16 matrix units, float32 elsewhere
            (``visualkeras_app.training.precision``).
    """

    dataset: str = "mnist"
    loss: str = "auto"
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    epochs: int = 1
    batch_size: int = 64
    validation_split: float = 0.1
    seed: int = 0
    device: str = "cpu"
    schedule: str = "one_cycle"
    max_train_samples: int | None = None
    precision: str = "float32"

    def __post_init__(self):
        self.validate()

    def validate(self):
        """Raise ValueError saying which value is wrong and what is allowed."""
        for key in ("dataset", "loss", "optimizer", "device", "schedule", "precision"):
            value = getattr(self, key)
            if not isinstance(value, str) or not value or "\x00" in value:
                raise ValueError(f"{key} must be a non-empty text. Received: {key}={value!r:.80}")
        for key in ("learning_rate", "validation_split"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{key} must be a finite number. Received: {key}={value!r:.80}")
        for key in ("epochs", "batch_size", "max_train_samples"):
            value = getattr(self, key)
            if isinstance(value, int) and value > _MAX_COUNT:
                raise ValueError(f"{key} must be at most {_MAX_COUNT}. Received: {key}={value!r:.80}")
        check_positive_int("epochs", self.epochs)
        check_positive_int("batch_size", self.batch_size)
        if not isinstance(self.learning_rate, (int, float)) or not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be a number > 0 (e.g. 0.001). "
                             f"Received: learning_rate={self.learning_rate!r}")
        if not isinstance(self.validation_split, (int, float)) or not 0 <= self.validation_split < 1:
            raise ValueError(f"validation_split must be in [0, 1) (e.g. 0.1 holds out 10%). "
                             f"Received: validation_split={self.validation_split!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {list(SCHEDULES)}. Received: schedule={self.schedule!r}")
        check_precision(self.precision)
        if self.max_train_samples is not None and (not isinstance(self.max_train_samples, int)
                                                   or isinstance(self.max_train_samples, bool)
                                                   or self.max_train_samples < 1):
            raise ValueError(f"max_train_samples must be None or an integer >= 1. "
                             f"Received: max_train_samples={self.max_train_samples!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed < 2**63:
            raise ValueError(f"seed must be an integer from 0 to 2**63 - 1. Received: seed={self.seed!r:.80}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "TrainSettings":
        """Settings from a saved dict; unknown keys (e.g. a template's "metrics") are ignored, so files
        written by other versions still open."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    def replace(self, **changes) -> "TrainSettings":
        return dataclasses.replace(self, **changes)

