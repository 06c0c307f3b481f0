"""The PyTorch-script exporter's dispatch table: one emitter per supported layer class, every other
class of the engine's registry refused with the layer and its class named."""
import pytest

from engine.layers import registry
from visualkeras_app.export import torchscript
from visualkeras_app.export.torchscript import EMITTERS, _emit, _Unsupported


def test_every_supported_class_is_a_registered_layer_class():
    assert EMITTERS, "the exporter supports no layer class"
    unknown = sorted(name for name in EMITTERS if not registry.is_registered(name))
    assert not unknown, f"emitters for classes the engine does not register: {unknown}"
    for name, emitter in EMITTERS.items():
        assert callable(emitter) and emitter.__module__ == torchscript.__name__, name
        assert registry.get_class(name).__name__ == name


def test_the_module_docstring_promise_holds_for_the_wrappers():
    # Bidirectional and TimeDistributed reuse the emitters of the layers they wrap (module docstring).
    assert {"Bidirectional", "TimeDistributed", "LSTM", "GRU", "SimpleRNN", "Dense"} <= set(EMITTERS)


def test_every_other_registry_class_is_refused_naming_the_layer():
    refused = [name for name in registry.names() if name not in EMITTERS]
    assert refused, "every registry class has an emitter: this test then checks nothing"
    for name in refused:
        with pytest.raises(_Unsupported) as info:
            _emit(name, {"name": f"my_{name.lower()}"}, [], "attr", ["x"], "y", [(None, 4)], (None, 4))
        message = str(info.value)
        assert f"'my_{name.lower()}' ({name})" in message and f"no PyTorch translation for {name}" in message


def test_a_supported_class_dispatches_to_its_emitter():
    layer, lines = _emit("Flatten", {"name": "flat"}, [], "flat", ["x"], "flat", [(None, 2, 3)], (None, 6))
    assert lines == ["flat = x.reshape(x.shape[0], -1)"] and layer.init == [] and layer.state == {}
    layer, lines = _emit("Add", {"name": "add"}, [], "add", ["a", "b", "c"], "add", [(None, 2)] * 3, (None, 2))
    assert lines == ["add = a + b + c"]


def test_a_wrapped_class_without_emitter_is_refused_naming_both():
    config = {"name": "td", "layer": {"class_name": "STFTSpectrogram", "config": {"name": "inner"}}}
    with pytest.raises(_Unsupported, match=r"'td' \(TimeDistributed\) wraps layer 'inner' \(STFTSpectrogram\)"):
        _emit("TimeDistributed", config, [], "td", ["x"], "td", [(None, 3, 8, 1)], (None, 3, 8, 1))
