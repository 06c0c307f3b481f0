"""``visualkeras-app train``: a template or a file, Keras's progress bar, result lines, --save, errors."""
import os
import subprocess
import sys

import pytest

from visualkeras_app.cli import main


@pytest.mark.slow
def test_train_a_template_prints_progress_and_results_and_saves_keras(capsys, tmp_path):
    out_path = str(tmp_path / "fast.keras")
    code = main(["train", "mnist_fast_cnn", "--dataset", "mnist", "--epochs", "1", "--batch-size", "64",
                 "--lr", "0.003", "--max-train-samples", "256", "--save", out_path])
    out = capsys.readouterr().out
    assert code == 0, out
    lines = out.strip().splitlines()
    assert lines[-2].startswith("test_loss: ") and lines[-1].startswith("test_accuracy: ")
    acc = float(lines[-1].split(": ")[1])
    assert 0.0 <= acc <= 1.0 and len(lines[-1].split(": ")[1]) == 6  # four decimals, as 0.9914
    assert "4/4" in out and "loss:" in out  # Keras's progress bar: 256 samples in batches of 64
    assert "preprocessing: scaled pixels 0-255 to 0-1" in out
    import engine

    model = engine.saving.load_model(out_path)
    assert model.output_shape == (None, 10)


@pytest.mark.slow
def test_train_saves_a_project_with_weights_and_settings(capsys, tmp_path):
    path = str(tmp_path / "p.vkproj")
    assert main(["train", "seed_cnn", "--epochs", "1", "--max-train-samples", "128", "--quiet", "--save", path]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2 and out[0].startswith("test_loss: ")  # --quiet: only the result lines
    from visualkeras_app.document.project import load_project

    doc = load_project(path)
    assert doc.training["max_train_samples"] == 128 and doc.training["epochs"] == 1
    assert all(n.weights is not None for n in doc.nodes.values() if not n.is_input)


def test_a_model_that_does_not_fit_the_data_says_how_to_fix_it(capsys, tmp_path):
    import engine
    from engine import layers

    model = engine.Sequential([layers.Input((28, 28, 1)), layers.Flatten(), layers.Dense(5, activation="softmax")])
    path = str(tmp_path / "five.keras")
    engine.saving.save_model(model, path)
    assert main(["train", path, "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "The last Dense has 5 units but the data set has 10 classes." in err and "Fix: set units=10." in err
    assert main(["train", "seed_mlp"]) == 2  # its Input takes 100 values
    err = capsys.readouterr().err
    assert "expects samples of shape (100,) but MNIST has 28x28 grayscale images" in err
    assert "Fix: set the Input's shape to (784,) (the images flattened) or to (28, 28, 1)." in err


def test_unknown_model_and_bad_arguments(capsys):
    assert main(["train", "no_such_template"]) == 2
    assert "neither a file nor a template" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "mnist_fast_cnn", "--epochs", "0"])
    assert main(["train", "mnist_fast_cnn", "--save", "out.txt"]) == 2
    assert ".keras, .h5 or .vkproj" in capsys.readouterr().err


@pytest.mark.slow
def test_train_works_offline_on_a_fresh_machine(tmp_path):
    """As a new user runs it: no VISUALKERAS_DATA, an empty HOME, downloads off: MNIST comes from the package."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("VISUALKERAS_DATA", "VISUALKERAS_CACHE", "KERAS_HOME", "XDG_CACHE_HOME")}
    env.update(HOME=str(home), VISUALKERAS_OFFLINE="1", PYTHONDONTWRITEBYTECODE="1")
    script = os.path.join(os.path.dirname(sys.executable), "visualkeras-app")
    cmd = [script] if os.path.isfile(script) else [sys.executable, "-m", "visualkeras_app"]
    proc = subprocess.run(cmd + ["train", "mnist_fast_cnn", "--epochs", "1"],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("test_accuracy: ")
    assert float(last.split(": ")[1]) >= 0.98, proc.stdout[-2000:]    # the one-click recipe: 99% in one epoch
    assert not (home / ".cache" / "visualkeras-app" / "datasets").exists()  # nothing was downloaded or cached


@pytest.mark.slow
def test_progress_is_plain_lines_when_stdout_is_not_a_terminal(tmp_path):
    """A log file gets lines: no carriage returns or colour codes, one line per epoch and one every
    --progress-every seconds (the bar on a pipe once wrote 164 KB for one epoch)."""
    env = dict(os.environ, VISUALKERAS_OFFLINE="1")
    out = subprocess.run([sys.executable, "-m", "visualkeras_app.cli", "train", "mnist_fast_cnn", "--epochs", "2",
                          "--batch-size", "32", "--max-train-samples", "256", "--progress-every", "0.05"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "\r" not in text and "\x1b" not in text and "\b" not in text
    lines = text.splitlines()
    epoch_lines = [line for line in lines if line.startswith("8/8 - ")]  # Keras's verbose=2 line per epoch
    assert len(epoch_lines) == 2 and all("loss: " in line for line in epoch_lines)
    timed = [line for line in lines if line.startswith("epoch ")]
    assert timed and all(" - batch " in line for line in timed)
    assert lines[-1].startswith("test_accuracy: ")
    assert len(text) < 4000


@pytest.mark.slow
def test_progress_bar_when_asked(capsys):
    assert main(["train", "mnist_fast_cnn", "--max-train-samples", "256", "--progress", "bar"]) == 0
    out = capsys.readouterr().out
    assert "\x1b[1m2/2\x1b[0m" in out  # Keras's bar, colour codes and all


@pytest.mark.slow  # the whole MNIST test set is evaluated: several seconds
def test_precision_option_sets_the_runs_precision(capsys):
    assert main(["train", "seed_cnn", "--max-train-samples", "64", "--batch-size", "32", "--quiet",
                 "--precision", "mixed_bfloat16"]) == 0
    captured = capsys.readouterr()
    assert "Training in mixed bfloat16; the weights stay float32." in captured.err
    assert captured.out.strip().splitlines()[-1].startswith("test_accuracy: ")
    with pytest.raises(SystemExit):
        main(["train", "seed_cnn", "--precision", "float8"])
    assert "invalid choice: 'float8'" in capsys.readouterr().err
