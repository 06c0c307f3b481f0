"""Exports and projects write through the engine's atomic writer (issue 18, "Why" 4): a planted
``<out>.tmp`` symlink is never followed, nothing is left behind, permissions follow the usual rules."""
import os
import stat

import pytest

from visualkeras_app.document.project import save_project
from visualkeras_app.document.templates import load_template
from visualkeras_app.export import export_model

FORMATS = [("m.json", {}), ("m.py", {}), ("m_torch.py", {}), ("m.dot", {}), ("m.svg", {"renderer": "qt"}),
           ("m.png", {"renderer": "qt"}), ("train.py", {"format": "train"})]


@pytest.mark.parametrize("name,options", FORMATS)
def test_a_planted_tmp_symlink_is_never_written_through(tmp_path, name, options):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    for suffix in (".tmp", ".tmp.svg", ".tmp.png"):  # the fixed names the exporters used
        os.symlink(victim, out / (name + suffix))
    doc = load_template("seed_mlp")
    export_model(doc, out / name, **options)
    assert victim.read_text() == "precious"
    assert (out / name).stat().st_size > 0 and not os.path.islink(out / name)
    planted = {name + s for s in (".tmp", ".tmp.svg", ".tmp.png")}
    assert [p for p in os.listdir(out) if p.endswith(".tmp") and p not in planted] == []


def test_a_failed_export_leaves_no_temporary(tmp_path, monkeypatch):
    from PySide6.QtGui import QImage

    monkeypatch.setattr(QImage, "save", lambda self, *a: False)  # as on a full disk
    with pytest.raises(OSError, match="could not write"):
        export_model(load_template("seed_mlp"), tmp_path / "m.png", renderer="qt")
    assert os.listdir(tmp_path) == []


def test_a_new_project_gets_the_umask_permissions_and_an_existing_one_keeps_its_own(tmp_path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "p.vkproj"
        save_project(load_template("seed_mlp"), path)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o644  # was 0600
        os.chmod(path, 0o664)
        save_project(load_template("seed_cnn"), path)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o664
    finally:
        os.umask(old)


def test_a_read_only_export_target_is_refused_with_a_message(tmp_path):
    path = tmp_path / "m.json"
    path.write_text("{}")
    os.chmod(path, 0o444)
    with pytest.raises(OSError, match="read-only"):
        export_model(load_template("seed_mlp"), path)
    assert path.read_text() == "{}"
