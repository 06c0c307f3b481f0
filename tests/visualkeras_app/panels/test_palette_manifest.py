"""The palette manifest (resources/palette.json): in step with the engine's layer registry, and clear errors when
it is missing or broken."""
import json

import pytest

from visualkeras_app.panels import palette_manifest as pm


def test_the_shipped_manifest_matches_the_registry():
    diffs = pm.drift(pm.load_manifest(), pm.registry_listing())
    assert not diffs, (f"{pm.manifest_path()} is out of date with the engine's layer registry:\n  "
                       + "\n  ".join(diffs) + f"\nRegenerate it with `{pm.REGENERATE}` and commit it.")


def test_the_manifest_is_where_an_installed_app_finds_its_resources():
    import os

    from visualkeras_app import resources_path

    assert pm.manifest_path() == os.path.join(resources_path(), "palette.json")
    with open(pm.manifest_path(), encoding="utf-8") as f:
        data = json.load(f)
    assert data["format"] == pm.FORMAT and data["generated_by"] == pm.REGENERATE


def test_drift_names_what_changed():
    registry = {"Core": [("Dense", "Dense layer."), ("Flatten", "Flattens.")], "Merge": [("Add", "Adds.")]}
    assert pm.drift(registry, registry) == []
    stale = {"Core": [("Dense", "Old text."), ("Gone", "Removed layer.")], "Merge": [("Add", "Adds.")]}
    diffs = pm.drift(stale, registry)
    assert "Core: not in the manifest: Flatten" in diffs
    assert "Core: in the manifest but not in the registry: Gone" in diffs
    assert "Core: tooltips changed: Dense" in diffs
    reordered = {"Merge": [("Add", "Adds.")], "Core": [("Flatten", "Flattens."), ("Dense", "Dense layer.")]}
    diffs = pm.drift(reordered, registry)
    assert any(d.startswith("sections ['Merge', 'Core']") for d in diffs)
    assert "Core: the layers are in another order" in diffs


def test_written_manifest_reads_back(tmp_path):
    path = tmp_path / "palette.json"
    assert pm.write_manifest(str(path)) == str(path)
    assert pm.load_manifest(str(path)) == pm.registry_listing()
    listing = {"Core": [("Dense", "Just your regular densely-connected NN layer.")], "Empty": []}
    assert pm.from_manifest(json.loads(pm.dumps(listing))) == {"Core": listing["Core"]}  # empty sections dropped


@pytest.mark.parametrize("content, says", [
    (None, "is missing"),
    ("{not json", "could not be read"),
    ('{"format": "something-else"}', "is not a palette manifest"),
    ('{"format": "visualkeras-palette", "version": 99, "sections": []}', "has version 99"),
    ('{"format": "visualkeras-palette", "version": 1}', 'no "sections" list'),
    ('{"format": "visualkeras-palette", "version": 1, "sections": [{"name": "Core"}]}', "section 0 is malformed"),
    ('{"format": "visualkeras-palette", "version": 1, "sections": [{"name": 3, "layers": []}]}', "not text"),
])
def test_a_broken_manifest_names_the_file_and_the_fix(tmp_path, content, says):
    path = tmp_path / "palette.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(pm.PaletteManifestError) as err:
        pm.load_manifest(str(path))
    assert says in str(err.value) and str(path) in str(err.value) and pm.REGENERATE in str(err.value)


def test_the_script_checks_and_writes(tmp_path, capsys):
    import importlib.util
    import os

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    spec = importlib.util.spec_from_file_location("make_palette_manifest",
                                                  os.path.join(root, "scripts", "make_palette_manifest.py"))
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = tmp_path / "palette.json"
    out.write_text(pm.dumps({"Core": [("Dense", "stale")]}), encoding="utf-8")
    assert script.main(["--check", "--out", str(out)]) == 1
    assert "out of date" in capsys.readouterr().out
    assert script.main(["--out", str(out)]) == 0
    assert script.main(["--check", "--out", str(out)]) == 0
    assert "up to date" in capsys.readouterr().out
