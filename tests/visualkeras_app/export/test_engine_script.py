"""The ``.py`` export: Keras-style code with ``engine``; weights from a file beside it."""
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.visualkeras_app.export.conftest import MODELS, REPO, build, predict, run_scripts
from visualkeras_app.export import export_model


@pytest.mark.slow
def test_scripts_predict_like_the_app(tmp_path):
    jobs, expected = [], []
    for key in MODELS:
        model, xs = build(key)
        out = tmp_path / "out"
        report = export_model(model, out / f"{key}.py")
        assert report.format == "py"
        weights = out / f"{key}.weights.h5"
        assert weights.is_file() and str(weights) in report.extra_files
        jobs.append((out / f"{key}.py", xs, "model.predict(xs[0] if len(xs) == 1 else xs, verbose=0)"))
        expected.append(predict(model, xs))
    # Each script in its own fresh process (run side by side: each start imports torch).
    for key, got, want in zip(MODELS, run_scripts(jobs, tmp_path), expected):
        np.testing.assert_allclose(got, want, atol=1e-5, err_msg=key)


@pytest.mark.slow
def test_script_run_as_program_prints_summary_and_moves_with_its_weights(tmp_path):
    model, _ = build("seed_mlp")
    export_model(model, tmp_path / "a" / "net.py")
    # The pair moved together elsewhere still works: the weights are found beside the script.
    (tmp_path / "b").mkdir()
    for name in ("net.py", "net.weights.h5"):
        os.replace(tmp_path / "a" / name, tmp_path / "b" / name)
    env = dict(os.environ, PYTHONPATH=REPO)
    proc = subprocess.run([sys.executable, str(tmp_path / "b" / "net.py")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Total params" in proc.stdout and "dense" in proc.stdout
    text = (tmp_path / "b" / "net.py").read_text()
    assert "import engine" in text and "model.load_weights(" in text and 'if __name__ == "__main__":' in text
