"""scripts/keras_compat.py: the README's compatibility section is generated from the code (the guides and
examples these tests run, each namespace's names, the reasons for what is missing)."""
import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _script():
    spec = importlib.util.spec_from_file_location("keras_compat", os.path.join(ROOT, "scripts", "keras_compat.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_section_lists_the_guides_examples_table_and_reasons(keras, capsys):
    assert _script().main(["--section"]) == 0
    out = capsys.readouterr().out
    assert "The Sequential model" in out and "Working with RNNs" in out and "Variational AutoEncoder" in out
    assert "| `ops` | " in out and "| `layers` | " in out
    # Every missing layer refused on purpose gives its reason.
    assert "`layers.TextVectorization`: the engine's tensors are torch tensors" in out
    guides = dict(_script().covered())
    assert len(guides) >= 12 and all(guides.values())
