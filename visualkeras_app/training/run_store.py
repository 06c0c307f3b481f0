"""Training runs saved with a project: `RunRecord` <-> plain JSON data, checked on the way back in.

A project's ``"runs"`` entry is a list of run objects::

    {"name": "run 1", "model": "mnist.vkproj", "architecture": "<12 hex>", "settings": {TrainSettings},
     "epochs": [{"epoch": 1, "loss": 0.3, "val_loss": 0.2, ...}], "test_loss": 0.1, "test_accuracy": 0.97,
     "duration_s": 12.5, "stopped_reason": "finished", "started_at": <unix time>,
     "batches": <BatchCurve.to_state()>}

Older projects have no ``"runs"`` and open with none. A file is data from anywhere: every value read back is
checked (types, finite numbers, bounded lengths and counts) and anything else refuses the whole file with a
``ValueError`` naming the run and the value, so the project reader reports it as it reports any bad entry.
"""
from __future__ import annotations

import math

from visualkeras_app.training.runs import BatchCurve, RunRecord, new_run_id
from visualkeras_app.training.settings import TrainSettings

MAX_RUNS = 100  # runs kept in one project (the newest); a file with more is refused
SAVED_POINTS = 512  # per-batch buckets saved per run (merged pairwise from the live curve's up to 4096)
MAX_EPOCHS = 10_000  # epoch rows per run
MAX_LOG_KEYS = 64
MAX_TEXT = 1_000
_MAX_SECONDS = 10 * 365 * 86400.0
_TIME_RANGE = (0.0, 2.0**40)  # unix times


def run_to_data(record) -> dict:
    """A run as plain JSON data (NaN and infinities as None)."""
    settings = record.settings.to_dict() if isinstance(record.settings, TrainSettings) else dict(record.settings)
    return {
        "name": str(record.name),
        "model": str(getattr(record, "model", "") or ""),
        "architecture": str(getattr(record, "architecture", "") or ""),
        "settings": settings,
        "epochs": [{str(k): _num(v) for k, v in e.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
                   for e in record.epochs[-MAX_EPOCHS:]],
        "test_loss": _num(record.test_loss),
        "test_accuracy": _num(record.test_accuracy),
        "duration_s": _num(record.duration_s) or 0.0,
        "stopped_reason": str(record.stopped_reason or "")[:MAX_TEXT],
        "started_at": _num(record.started_at),
        "batches": record.batches.to_state(max_points=SAVED_POINTS),
    }


def runs_to_data(records) -> list:
    """The newest `MAX_RUNS` runs as a list for a project's ``"runs"``."""
    return [run_to_data(r) for r in list(records)[-MAX_RUNS:]]


def run_from_data(data, index=0) -> RunRecord:
    """A `RunRecord` (a new id) from `run_to_data`'s dict; ``ValueError`` naming the run and the bad value."""
    where = f"run {index + 1}"
    if not isinstance(data, dict):
        raise ValueError(f"{where} is not an object")
    name = _text(data.get("name", ""), f"{where}'s name", 200) or where
    where = f"run {name!r}"
    settings = data.get("settings")
    if not isinstance(settings, dict):
        raise ValueError(f"{where} has no settings object")
    try:
        settings = TrainSettings.from_dict(settings)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{where} has bad settings: {e}") from None
    epochs = data.get("epochs", [])
    if not isinstance(epochs, list) or len(epochs) > MAX_EPOCHS:
        raise ValueError(f"{where}'s epochs are not a list of at most {MAX_EPOCHS} entries")
    rows = []
    for e in epochs:
        if not isinstance(e, dict) or len(e) > MAX_LOG_KEYS:
            raise ValueError(f"{where} has a malformed epoch entry: {e!r:.80}")
        row = {}
        for k, v in e.items():
            if not isinstance(k, str) or not 0 < len(k) <= 64:
                raise ValueError(f"{where} has a malformed log name: {k!r:.80}")
            if v is not None:
                row[k] = _finite(v, f"{where}'s {k}")
        rows.append(row)
    try:
        batches = BatchCurve.from_state(data.get("batches"))
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None
    record = RunRecord(new_run_id(), name, settings, epochs=rows, batches=batches)
    record.model = _text(data.get("model", ""), f"{where}'s model", MAX_TEXT)
    record.architecture = _text(data.get("architecture", ""), f"{where}'s architecture", 64)
    record.test_loss = _optional(data.get("test_loss"), f"{where}'s test_loss")
    acc = _optional(data.get("test_accuracy"), f"{where}'s test_accuracy")
    if acc is not None and not 0.0 <= acc <= 1.0:
        raise ValueError(f"{where}'s test_accuracy is {acc!r}, not in [0, 1]")
    record.test_accuracy = acc
    duration = _finite(data.get("duration_s", 0.0), f"{where}'s duration_s")
    if not 0.0 <= duration <= _MAX_SECONDS:
        raise ValueError(f"{where}'s duration_s is {duration!r}, not a duration in seconds")
    record.duration_s = duration
    record.stopped_reason = _text(data.get("stopped_reason", ""), f"{where}'s stopped_reason", MAX_TEXT)
    started = data.get("started_at")
    if started is not None:
        started = _finite(started, f"{where}'s started_at")
        if not _TIME_RANGE[0] <= started <= _TIME_RANGE[1]:
            raise ValueError(f"{where}'s started_at is {started!r}, not a time")
        record.started_at = started
    return record


def runs_from_data(data) -> list:
    """The `RunRecord`s of a project's ``"runs"`` (None or absent: none)."""
    if data is None:
        return []
    if not isinstance(data, list):
        raise ValueError("its 'runs' entry is not a list")
    if len(data) > MAX_RUNS:
        raise ValueError(f"it holds {len(data)} training runs, over the limit of {MAX_RUNS}")
    return [run_from_data(d, i) for i, d in enumerate(data)]


def _num(v):
    if v is None or isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def _finite(v, what):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or abs(v) > 1e300:
        raise ValueError(f"{what} is {v!r:.40}, not a finite number")
    return float(v)


def _optional(v, what):
    return None if v is None else _finite(v, what)


def _text(v, what, limit):
    if not isinstance(v, str) or len(v) > limit or "\x00" in v:
        raise ValueError(f"{what} is not a text of at most {limit} characters: {v!r:.60}")
    return v
