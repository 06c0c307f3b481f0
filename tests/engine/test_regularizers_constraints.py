import numpy as np
import pytest
import torch

from engine import constraints, regularizers


def test_regularizer_values_and_lookup():
    w = torch.tensor([[1.0, -2.0], [3.0, 0.5]])
    assert float(regularizers.get("l2")(w)) == pytest.approx(0.01 * (1 + 4 + 9 + 0.25))
    assert float(regularizers.L1(0.1)(w)) == pytest.approx(0.1 * 6.5)
    assert float(regularizers.L1L2(l1=0.1, l2=0.2)(w)) == pytest.approx(0.65 + 0.2 * 14.25)
    again = regularizers.get(regularizers.serialize(regularizers.L1L2(l1=0.1, l2=0.2)))
    assert (again.l1, again.l2) == (0.1, 0.2)
    with pytest.raises(ValueError, match="l1_l2"):
        regularizers.get("l3")
    with pytest.raises(ValueError, match="non-negative"):
        regularizers.L2(-1)


def test_constraints_project_weights():
    w = torch.tensor([[3.0, 0.1], [4.0, -0.2]])
    out = constraints.get({"class_name": "MaxNorm", "config": {"max_value": 2}})(w)
    np.testing.assert_allclose(torch.linalg.norm(out, dim=0).numpy(), [2.0, np.hypot(0.1, 0.2)], rtol=1e-5)
    assert float(constraints.get("non_neg")(w).min()) == 0.0
    np.testing.assert_allclose(torch.linalg.norm(constraints.UnitNorm()(w), dim=0).numpy(), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="max_norm"):
        constraints.get("maxnorm")
