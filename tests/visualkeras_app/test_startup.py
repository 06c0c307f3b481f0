"""Start-up: the window appears before torch is imported (issue 4), in a fresh process each."""
import importlib.util
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_window_modules_do_not_import_torch():
    code = ("import sys; import visualkeras_app.mainwindow, visualkeras_app.app; "
            "bad = [m for m in ('torch', 'engine') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def _bench():
    spec = importlib.util.spec_from_file_location("bench_startup", os.path.join(ROOT, "bench", "bench_startup.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_window_paints_before_torch_is_imported(monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    rep = _bench().one_run("app")  # a fresh process: launch, first paint, engine loaded, quit
    assert rep["torch_at_paint"] is False
    assert rep["torch_at_ready"] is True and rep["ready_s"] >= rep["paint_s"]
