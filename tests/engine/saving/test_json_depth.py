"""The nesting depth that guards a parsed config (``loads_config``) is the depth a recursive walk finds."""
import json
import random

import pytest

from engine.saving import ConfigError
from engine.saving.serialization import MAX_JSON_DEPTH, json_depth, loads_config


def _depth(value):
    if isinstance(value, dict):
        value = list(value.values())
    elif not isinstance(value, list):
        return 0
    return 1 + max((_depth(v) for v in value), default=0)


def test_json_depth_is_the_recursive_depth():
    rng = random.Random(0)

    def make(d):
        if d == 0 or rng.random() < 0.3:
            return rng.choice([1, "a", None, 2.5, True])
        if rng.random() < 0.5:
            return [make(d - 1) for _ in range(rng.randint(0, 3))]
        return {str(i): make(d - 1) for i in range(rng.randint(0, 3))}

    for _ in range(500):
        value = make(rng.randint(0, 9))
        assert json_depth(value) == _depth(value), value
    assert json_depth(3) == 0 and json_depth([]) == 1 and json_depth({"a": [{}]}) == 3


def test_a_config_one_level_too_deep_is_refused_and_one_at_the_limit_is_read():
    at_limit = "[" * (MAX_JSON_DEPTH - 1) + "{}" + "]" * (MAX_JSON_DEPTH - 1)
    assert json_depth(loads_config(at_limit)) == MAX_JSON_DEPTH
    with pytest.raises(ConfigError, match=f"nests {MAX_JSON_DEPTH + 1} levels deep"):
        loads_config(json.dumps({"a": json.loads(at_limit)}))
