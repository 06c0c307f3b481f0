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
    fake.run = lambda file=None: calls.append(file) or 0
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
    assert [line.split()[0] for line in lines] == ["seed_mlp", "seed_cnn", "mnist_fast_cnn", "text_lstm",
                                                   "residual_block"]
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
