"""The shared argument checks (visualkeras_app/validation.py): one wording for each refusal."""
import argparse

import pytest

from visualkeras_app.validation import check_positive_int, positive_int_arg


@pytest.mark.parametrize("bad", [0, -3, 2.0, True, "4", None])
def test_check_positive_int_names_the_argument_and_the_value(bad):
    with pytest.raises(ValueError) as e:
        check_positive_int("epochs", bad)
    assert str(e.value) == f"epochs must be an integer >= 1. Received: epochs={bad!r}"
    assert check_positive_int("epochs", 3) == 3
    with pytest.raises(ValueError, match=r"total_steps must be an integer >= 1 \(epochs x batches\)\. Received"):
        check_positive_int("total_steps", 0, " (epochs x batches)")


def test_positive_int_arg_is_an_argparse_type():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=positive_int_arg)
    assert parser.parse_args(["--epochs", "5"]).epochs == 5
    for bad in ("0", "-1", "five"):
        with pytest.raises(argparse.ArgumentTypeError, match="must be an integer >= 1"):
            positive_int_arg(bad)
