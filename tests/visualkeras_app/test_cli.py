"""The ``visualkeras-app`` command line: window, file, summary, templates, version."""
import os
import subprocess
import sys
import types

import pytest

import visualkeras_app
from visualkeras_app import __version__
from visualkeras_app.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def fake_app(monkeypatch):
    calls = []
    fake = types.ModuleType("visualkeras_app.app")
    fake.run = lambda file=None, template=None: calls.append(file if template is None else ("template", template)) or 0
    monkeypatch.setitem(sys.modules, "visualkeras_app.app", fake)
    monkeypatch.setattr(visualkeras_app, "app", fake, raising=False)
    return calls


def test_version_answers_without_torch_or_qt():
    code = ("import sys\nfrom visualkeras_app.cli import main\ntry:\n    main(['--version'])\n"
            "except SystemExit as e:\n    assert e.code == 0\n"
            "print('torch' in sys.modules, 'PySide6' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [f"visualkeras-app {__version__}", "False False"]


def test_no_argument_opens_the_window(fake_app):
    assert main([]) == 0
    assert fake_app == [None]


def test_a_file_argument_opens_it_in_the_window(fake_app, tmp_path):
    path = tmp_path / "m.vkproj"
    path.write_text("{}")
    assert main([str(path)]) == 0
    assert fake_app == [str(path)]
    assert main([str(tmp_path / "missing.vkproj")]) == 2
    assert fake_app == [str(path)]


def test_templates_lists_keys_and_titles(capsys):
    assert main(["templates"]) == 0
    lines = capsys.readouterr().out.splitlines()
    keys = [line.split()[0] for line in lines]
    assert keys[:5] == ["seed_mlp", "seed_cnn", "mnist_fast_cnn", "text_lstm", "residual_block"]
    # Then the transfer-learning classifiers and every keras.applications architecture.
    assert "classifier_from_MobileNetV2" in keys and "DenseNet201" in keys and len(keys) == 5 + 3 + 40
    assert "Fast MNIST CNN" in lines[2]


def test_summary_of_a_template_and_of_a_file(capsys, tmp_path):
    assert main(["summary", "seed_cnn", "--line-length", "90"]) == 0
    out = capsys.readouterr().out
    assert 'Model: "seed_cnn"' in out and "conv2d (Conv2D)" in out and "(None, 26, 26, 32)" in out
    assert "Total params: 693,962" in out
    from visualkeras_app.document.project import save_project
    from visualkeras_app.document.templates import load_template

    path = tmp_path / "res.vkproj"
    save_project(load_template("residual_block"), path)
    assert main(["summary", str(path)]) == 0
    out = capsys.readouterr().out
    assert 'Model: "res"' in out and "Connected to" in out and "conv_b[0][0]" in out


def test_summary_of_a_broken_file_lists_problems_and_exits_1(capsys, tmp_path):
    from visualkeras_app.document.graph import Edge
    from visualkeras_app.document.project import save_project
    from visualkeras_app.document.templates import load_template

    doc = load_template("seed_mlp")
    first, second = list(doc.nodes)[:2]
    doc.remove_edge(Edge(first, second))
    path = tmp_path / "broken.vkproj"
    save_project(doc, path)
    assert main(["summary", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "[missing_input]" in captured.err and "[unconnected]" in captured.err


def test_summary_of_something_unknown_exits_2(capsys, tmp_path):
    assert main(["summary", "no_such_template"]) == 2
    assert "seed_mlp" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    assert main(["summary", str(bad)]) == 2
    assert "bad.json" in capsys.readouterr().err


def test_top_level_help_lists_every_command(capsys):
    from visualkeras_app.cli import _COMMANDS

    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    listed = [line.split()[0] for line in out.split("commands:\n")[1].splitlines() if line.startswith("  ")
              and line.split()[0] in _COMMANDS]
    assert sorted(listed) == sorted(_COMMANDS) == sorted(("summary", "templates", "train", "export", "predict"))
    assert "FILE|TEMPLATE" in out


def test_train_help_prints_percent_signs_once(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps lines at the terminal's width
    assert "99% on MNIST" in out and "%%" not in out
    assert "--progress" in out


def test_a_template_key_opens_the_window_on_the_template(fake_app, capsys):
    assert main(["seed_mlp"]) == 0
    assert fake_app == [("template", "seed_mlp")]


def test_the_window_starts_on_a_template(qtbot, monkeypatch, tmp_path):
    from PySide6.QtCore import QSettings

    from visualkeras_app.app import open_window

    monkeypatch.setenv("VISUALKERAS_RECOVERY_DIR", str(tmp_path / "recovery"))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # open_window installs the error dialog
    win = open_window(settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat), template="seed_mlp")
    qtbot.addWidget(win)
    win.start()
    assert win.windowTitle().startswith("MLP (seed tutorial)")
    assert any(n.class_name == "Dense" for n in win.controller.document.nodes.values())
    assert win.path is None  # a new document: Save asks where


def test_misspelt_names_get_a_did_you_mean(fake_app, capsys, tmp_path):
    assert main(["trian", "mnist_fast_cnn"]) == 2
    err = capsys.readouterr().err
    assert "Did you mean 'train'?" in err and "unrecognized" not in err
    assert main(["seed_mpl"]) == 2
    assert "Did you mean 'seed_mlp'" in capsys.readouterr().err
    assert main(["summary", "residual_blok"]) == 2
    assert "Did you mean 'residual_block'?" in capsys.readouterr().err
    assert main(["train", "mnist_fast_ccn"]) == 2
    assert "Did you mean 'mnist_fast_cnn'?" in capsys.readouterr().err
    (tmp_path / "my_model.vkproj").write_text("{}")
    assert main([str(tmp_path / "my_modle.vkproj")]) == 2
    assert f"Did you mean '{tmp_path / 'my_model.vkproj'}'?" in capsys.readouterr().err
    assert main(["export", "residual_blok", str(tmp_path / "out.png")]) == 2
    assert "Did you mean 'residual_block'?" in capsys.readouterr().err
    assert main(["zzzz"]) == 2
    assert "Did you mean" not in capsys.readouterr().err  # nothing close: no guess
    assert fake_app == []


def test_plain_progress_line():
    from visualkeras_app.cli import plain_progress_line
    from visualkeras_app.training.session import Progress

    line = plain_progress_line(Progress(epoch=1, epochs=3, batch=300, batches=938, samples_per_s=2345.6, eta_s=72.4))
    assert line == "epoch 1/3 - batch 300/938 - 2,346 samples/s - ETA 1:12"
    assert plain_progress_line(Progress(1, 3, 1, 938, float("nan"), float("nan"))) == "epoch 1/3 - batch 1/938"
