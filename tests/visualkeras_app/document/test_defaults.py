"""Palette defaults, inspector specs and parameter validation."""
import pytest

from visualkeras_app.document.defaults import (ParamSpec, clean_config, default_config, normalize_config,
                                               param_spec, validate_param)

KINDS = {"int", "optional_int", "float", "optional_float", "bool", "choice", "tuple", "shape", "activation",
         "initializer", "regularizer", "constraint", "str", "layer", "json"}


def all_classes():
    import engine  # noqa: F401

    from engine.layers import registry

    return registry.names()


def test_every_registered_layer_has_a_buildable_canonical_default_and_a_spec():
    from engine.layers import registry

    for name in all_classes():
        config = default_config(name)
        assert "name" not in config
        layer = registry.get_class(name).from_config(dict(config, name="probe"))
        assert clean_config(layer.get_config()) == config, name  # canonical: survives a model round trip
        specs = param_spec(name)
        assert all(isinstance(s, ParamSpec) and s.kind in KINDS for s in specs), name
        assert {s.name for s in specs} <= set(config), name
        for s in specs:
            if s.kind == "choice":
                assert config[s.name] in s.choices, (name, s.name)


def test_required_arguments_get_beginner_friendly_values():
    assert default_config("Dense")["units"] == 64
    conv = default_config("Conv2D")
    assert conv["filters"] == 32 and conv["kernel_size"] == [3, 3] and conv["activation"] == "linear"
    assert default_config("LSTM")["units"] == 64
    emb = default_config("Embedding")
    assert (emb["input_dim"], emb["output_dim"]) == (10000, 64)
    assert default_config("Dropout")["rate"] == 0.5
    assert default_config("InputLayer")["batch_shape"] == [None, 28, 28, 1]
    assert default_config("Bidirectional")["layer"]["class_name"] == "LSTM"


def test_defaults_are_fresh_copies():
    a = default_config("Dense")
    a["units"] = 1
    a["kernel_initializer"]["class_name"] = "Zeros"
    b = default_config("Dense")
    assert b["units"] == 64 and b["kernel_initializer"]["class_name"] == "GlorotUniform"


def test_defaults_match_keras_own_defaults(keras):
    cases = {"Dense": {"units": 64}, "Conv2D": {"filters": 32, "kernel_size": (3, 3)}, "LSTM": {"units": 64},
             "Embedding": {"input_dim": 10000, "output_dim": 64}, "Dropout": {"rate": 0.5},
             "BatchNormalization": {}, "MaxPooling2D": {}, "InputLayer": {"batch_shape": (None, 28, 28, 1)}}
    for name, kwargs in cases.items():
        theirs = clean_config(getattr(keras.layers, name)(**kwargs).get_config())
        ours = default_config(name)
        assert set(ours) == set(theirs), name
        for key in ours:
            if not key.endswith("_initializer"):  # Keras 3.15 adds unused initializer keys
                assert ours[key] == theirs[key], (name, key)


def test_spec_kinds_for_typical_keys():
    dense = {s.name: s for s in param_spec("Dense")}
    assert dense["units"].kind == "int" and dense["units"].minimum == 1
    assert dense["activation"].kind == "activation" and "relu" in dense["activation"].choices
    assert dense["kernel_initializer"].kind == "initializer" and dense["kernel_initializer"].advanced
    assert dense["use_bias"].kind == "bool"
    assert "dtype" not in dense and "name" not in dense
    conv = {s.name: s for s in param_spec("Conv2D")}
    assert conv["kernel_size"].kind == "tuple" and conv["kernel_size"].length == 2
    assert conv["padding"].choices == ["valid", "same"]
    drop = {s.name: s for s in param_spec("Dropout")}["rate"]
    assert (drop.kind, drop.minimum, drop.maximum, drop.exclusive_maximum) == ("float", 0.0, 1.0, True)
    inp = {s.name: s for s in param_spec("InputLayer")}
    assert inp["batch_shape"].kind == "shape" and inp["batch_shape"].batch and "int32" in inp["dtype"].choices
    names = [s.name for s in param_spec("Dense")]
    assert names[0] == "units" and names.index("trainable") < names.index("kernel_initializer")


@pytest.mark.parametrize("class_name, key, value, fragment", [
    ("Dense", "units", -1, "Received: units=-1"),
    ("Dense", "units", 2.5, "integer"),
    ("Dense", "units", True, "integer"),
    ("Dropout", "rate", 1.0, "[0, 1)"),
    ("Dropout", "rate", -0.1, "at least 0"),
    ("Dense", "activation", "relux", "Unknown activation"),
    ("Conv2D", "kernel_size", [3, 3, 3], "2 values"),
    ("Conv2D", "kernel_size", [0, 3], "at least 1"),
    ("Conv2D", "padding", "middle", "one of"),
    ("Conv2D", "groups", 5, "divisible"),  # only the engine's constructor knows this one
    ("Reshape", "target_shape", [-1, -1], "-1"),
    ("InputLayer", "batch_shape", [None, 0, 3], "positive"),
    ("Dense", "no_such_key", 1, "no parameter"),
    ("NoSuchLayer", "units", 1, "Unknown layer class"),
])
def test_invalid_values_are_refused_with_the_reason(class_name, key, value, fragment):
    ok, reason = validate_param(class_name, key, value)
    assert not ok and fragment in reason


@pytest.mark.parametrize("class_name, key, value", [
    ("Dense", "units", 10), ("Dropout", "rate", 0.0), ("Dropout", "rate", 0.3), ("Dense", "activation", "relu"),
    ("Conv2D", "kernel_size", [5, 5]), ("Conv2D", "kernel_size", 5), ("Dense", "kernel_initializer", "he_normal"),
    ("InputLayer", "batch_shape", [None, 100]), ("Reshape", "target_shape", [7, -1]), ("Dropout", "seed", None),
    ("ReLU", "max_value", 6.0), ("Bidirectional", "merge_mode", None),
])
def test_valid_values_pass(class_name, key, value):
    assert validate_param(class_name, key, value) == (True, "")


def test_validation_sees_the_rest_of_the_config():
    config = default_config("Conv2D")
    config["filters"] = 30
    assert validate_param("Conv2D", "groups", 3, config=config) == (True, "")
    assert not validate_param("Conv2D", "groups", 3)[0]  # 32 filters by default


def test_normalize_config_gives_the_canonical_form():
    cfg = default_config("Conv2D")
    cfg.update(kernel_size=(5, 5), kernel_initializer="he_normal")
    out = normalize_config("Conv2D", cfg)
    assert out["kernel_size"] == [5, 5]
    assert out["kernel_initializer"]["class_name"] == "HeNormal"
    bad = dict(cfg, filters=-2)
    assert normalize_config("Conv2D", bad) == bad  # left as typed; inference reports it
