"""Budgets that refuse a file before memory is taken (issue 18): the weights a config asks for are capped
by the memory this computer has free (VISUALKERAS_MAX_PARAMS overrides), and a .keras weights member may
not declare more bytes than its model's weights can take, whatever its compression ratio."""
import json
import zipfile

import numpy as np
import pytest

import engine
from engine.saving import ModelFileError
from engine.saving.serialization import WeightBudget
from engine.utils import memory_utils


def test_this_computer_reports_its_free_memory():
    import os
    import sys

    free = memory_utils.available_memory_bytes()
    if sys.platform.startswith("linux") or hasattr(os, "sysconf"):
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        assert free is not None and 0 < free <= total  # read, not guessed: some, and no more than there is
    else:
        assert free is None or free > 0


def _huge_config(units):
    return {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 100000]}},
        {"class_name": "Dense", "config": {"units": units}}]}}


def test_the_weight_budget_follows_free_memory(tmp_path, monkeypatch):
    monkeypatch.delenv("VISUALKERAS_MAX_PARAMS", raising=False)
    monkeypatch.setattr(memory_utils, "available_memory_bytes", lambda: 1 << 30)  # a computer with 1 GiB free
    budget = WeightBudget()
    assert budget.limit == int((1 << 30) * 0.8) // 4
    path = tmp_path / "big.json"
    path.write_text(json.dumps(_huge_config(2500)))  # 250M weights: 1 GB of float32, more than fits
    with pytest.raises(ModelFileError, match=r"1\.0 GiB of memory free.*VISUALKERAS_MAX_PARAMS"):
        engine.models.load_model(str(path))
    monkeypatch.setenv("VISUALKERAS_MAX_PARAMS", str(10**12))  # the user trusts the file: the cap is theirs
    assert WeightBudget().limit == 10**12
    monkeypatch.setenv("VISUALKERAS_MAX_PARAMS", "lots")
    with pytest.raises(ValueError, match="whole number"):
        WeightBudget()


def test_plenty_of_memory_keeps_the_fixed_cap(monkeypatch):
    monkeypatch.delenv("VISUALKERAS_MAX_PARAMS", raising=False)
    monkeypatch.setattr(memory_utils, "available_memory_bytes", lambda: 1 << 40)
    assert WeightBudget().limit == 2**31
    monkeypatch.setattr(memory_utils, "available_memory_bytes", lambda: None)
    assert WeightBudget().limit == 2**31


def test_a_weights_member_bigger_than_its_model_can_hold_is_refused_before_unpacking(tmp_path):
    model = engine.Sequential([engine.Input((4,)), engine.layers.Dense(2)])
    good = tmp_path / "m.keras"
    model.save(str(good))
    with zipfile.ZipFile(good) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    # Stored, not compressed: its ratio is 1, so only the size says it cannot be this model's weights.
    members["model.weights.h5"] = members["model.weights.h5"] + b"\0" * (70 << 20)
    bad = tmp_path / "padded.keras"
    with zipfile.ZipFile(bad, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(ModelFileError, match="declares .* bytes, but the model has 10 weights"):
        engine.models.load_model(str(bad))
    with pytest.raises(ModelFileError, match="but the model has 10 weights"):
        model.load_weights(str(bad))
    loaded = engine.models.load_model(str(good))
    x = np.ones((1, 4), "float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
