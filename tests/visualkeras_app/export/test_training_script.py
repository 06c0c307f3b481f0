"""The exported training script: trains as the app does, runs alone and under torchrun with the same
result, only rank 0 writes, the app opens what it saves; the CLI and window actions that write it."""
import json
import os
import runpy
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from visualkeras_app.cli import main

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
RUN_TIMEOUT_S = 240


def small_cnn(input_shape=(28, 28, 1), classes=10, activation="softmax"):
    import engine
    from engine import layers

    return engine.Sequential([engine.Input(shape=input_shape), layers.Conv2D(4, (3, 3), activation="relu"),
                              layers.MaxPooling2D(), layers.Flatten(), layers.Dense(classes, activation=activation)])


def document_of(model):
    from visualkeras_app.document.convert import model_to_document

    doc = model_to_document(model, with_weights=False)
    doc.infer()
    return doc


def export_script(doc, path, **settings):
    from visualkeras_app.export import export_model
    from visualkeras_app.training.settings import TrainSettings

    return export_model(doc, path, format="train", settings=TrainSettings(**settings))


def load_script(path):
    """The script's functions, without running its main."""
    return runpy.run_path(os.fspath(path), run_name="exported_training_script")


# ------------------------------------------------------------------------------------------ the same as the app
def _image_npz(path, n_train=150, n_test=40, classes=3, one_hot=False):
    rng = np.random.default_rng(5)
    y_train, y_test = rng.integers(0, classes, n_train), rng.integers(0, classes, n_test)

    def images(y):  # class-dependent brightness so that training learns something
        x = rng.integers(0, 120, (len(y), 8, 8)) + (y[:, None, None] * 60)
        return np.clip(x, 0, 255).astype(np.uint8)

    x_train, x_test = images(y_train), images(y_test)
    if one_hot:
        y_train, y_test = np.eye(classes)[y_train], np.eye(classes)[y_test]
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return os.fspath(path)


def _table_csv(path, n=120):
    rng = np.random.default_rng(9)
    names = np.array(["bird", "cat", "dog"])
    y = rng.integers(0, 3, n)
    x = rng.normal(0, 1, (n, 5)) + y[:, None]
    with open(path, "w") as f:
        f.write("f1,f2,class,f3,f4,f5\n")
        for row, label in zip(x, y):
            cells = [f"{v:.4f}" for v in row]
            f.write(",".join(cells[:2] + [names[label]] + cells[2:]) + "\n")
    return os.fspath(path)


def _train_in_app(doc, settings):
    """What the app does for "Train with Panel Settings": a fresh model from the seed, the data prepared
    for it, a TrainingSession."""
    from engine import backend

    from visualkeras_app.document.convert import document_to_model
    from visualkeras_app.training.data import load_dataset, prepare_for_model
    from visualkeras_app.training.session import TrainingSession

    backend.set_seed(settings.seed)
    model = document_to_model(doc)
    prepared = prepare_for_model(load_dataset(settings.dataset), model, settings.loss,
                                 max_train_samples=settings.max_train_samples)
    session = TrainingSession(model, prepared, settings)
    record = session.run()
    assert session.error is None, session.error
    return model, record


CASES = {
    # images, softmax output, "auto" loss (sparse), Adam with the one-cycle schedule, a validation split
    "images_one_cycle": lambda tmp: (small_cnn((8, 8, 1), 3), dict(
        dataset=_image_npz(tmp / "shapes.npz"), epochs=2, batch_size=16, validation_split=0.2, seed=7,
        learning_rate=0.01, optimizer="adam", schedule="one_cycle")),
    # logits (linear output): "auto" picks the loss from logits; SGD at a constant rate; one-hot labels on disk
    "logits_constant_sgd": lambda tmp: (small_cnn((8, 8, 1), 3, activation=None), dict(
        dataset=_image_npz(tmp / "onehot.npz", one_hot=True), epochs=2, batch_size=32, validation_split=0.0,
        seed=3, learning_rate=0.05, optimizer="sgd", schedule="constant", max_train_samples=100)),
    # the run computes in mixed bfloat16 (a Keras policy for the run only: both save float32 policies)
    "images_mixed_bfloat16": lambda tmp: (small_cnn((8, 8, 1), 3), dict(
        dataset=_image_npz(tmp / "shapes16.npz"), epochs=1, batch_size=16, validation_split=0.2, seed=5,
        learning_rate=0.01, optimizer="adam", schedule="one_cycle", precision="mixed_bfloat16")),
    # a CSV with text labels in a named column; categorical crossentropy wants one-hot labels
    "csv_categorical": lambda tmp: (_mlp(5, 3), dict(
        dataset=_table_csv(tmp / "animals.csv"), epochs=3, batch_size=8, validation_split=0.25, seed=1,
        learning_rate=0.003, optimizer="rmsprop", loss="categorical_crossentropy", schedule="one_cycle")),
}


def _mlp(features, classes):
    import engine
    from engine import layers

    return engine.Sequential([engine.Input(shape=(features,)), layers.Dense(8, activation="tanh"),
                              layers.Dense(classes, activation="softmax")])


@pytest.mark.parametrize("case", sorted(CASES))
def test_script_trains_as_the_app(case, tmp_path):
    import engine
    from visualkeras_app.training.settings import TrainSettings

    model, settings = CASES[case](tmp_path)
    doc = document_of(model)
    settings = TrainSettings(**settings)
    app_model, record = _train_in_app(doc, settings)

    script = tmp_path / "train.py"
    export_script(doc, script, **settings.to_dict())
    out, hist = tmp_path / "out" / "trained.keras", tmp_path / "out" / "history.json"
    ns = load_script(script)
    assert ns["main"](["--output", str(out), "--history", str(hist), "--quiet"]) == 0

    trained = engine.models.load_model(str(out))
    assert {layer.dtype_policy.name for layer in trained.layers} == {"float32"}
    for a, b in zip(app_model.get_weights(), trained.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    saved = json.loads(hist.read_text())
    assert len(record.epochs) == settings.epochs
    for epoch, entry in enumerate(record.epochs):
        for key, values in saved["history"].items():
            assert values[epoch] == pytest.approx(entry[key], rel=1e-5, abs=1e-7), key
        assert set(saved["history"]) == {k for k in entry if k != "epoch"}
    assert saved["test_loss"] == pytest.approx(record.test_loss, rel=1e-5)
    assert saved["test_accuracy"] == pytest.approx(record.test_accuracy, abs=1e-7)


def test_script_prepares_mnist_as_the_app(tmp_path):
    from visualkeras_app.training.data import load_dataset, prepare_for_model

    for model, loss in ((small_cnn(), "auto"), (_mlp(784, 10), "categorical_crossentropy")):
        script = tmp_path / "train.py"
        export_script(document_of(model), script, dataset="mnist", loss=loss)
        ns = load_script(script)
        got = ns["prepare"](ns["load_dataset"]("mnist"), model, loss, 300)
        want = prepare_for_model(load_dataset("mnist"), model, loss, max_train_samples=300)
        for a, b in zip(got[:4], (want.x_train, want.y_train, want.x_test, want.y_test), strict=True):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)
        assert got[4:7] == (want.loss, want.from_logits, want.steps)


# ------------------------------------------------------------------------------------------ one process vs torchrun
# Put on PYTHONPATH of the script's runs: records, per process, every file opened for writing, renamed,
# removed or made; dumps the list to $VK_AUDIT_DIR/audit-<RANK>-<pid>.json at exit. It also makes
# visualkeras_app unimportable: the script must run with only numpy and engine.
SITECUSTOMIZE = textwrap.dedent('''
    import atexit, json, os, sys

    _DIR = os.environ.get("VK_AUDIT_DIR")
    if _DIR:
        _events, _on = [], [True]
        _WRITES = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

        def _path(p):
            return os.path.abspath(os.fsdecode(p)) if isinstance(p, (str, bytes, os.PathLike)) else None

        def _hook(event, args):
            if not _on[0]:
                return
            if event == "open":
                path, mode, flags = args
                writes = any(c in mode for c in "wax+") if isinstance(mode, str) else bool((flags or 0) & _WRITES)
                if writes and _path(path):
                    _events.append((event, _path(path)))
            elif event in ("os.rename", "os.replace"):
                _events.append((event, _path(args[1])))
            elif event in ("os.remove", "os.mkdir", "os.rmdir"):
                _events.append((event, _path(args[0])))

        sys.addaudithook(_hook)

        class _NoApp:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "visualkeras_app":
                    raise ImportError("the training script must not import visualkeras_app: " + name)

        sys.meta_path.insert(0, _NoApp())

        def _dump():
            _on[0] = False
            rank = os.environ.get("RANK", "launcher")
            with open(os.path.join(_DIR, f"audit-{rank}-{os.getpid()}.json"), "w") as f:
                json.dump({"rank": rank, "argv": sys.argv, "events": _events}, f)

        atexit.register(_dump)
''')


def _start(cmd, cwd, env):
    return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def _finish(proc, what):
    try:
        out, _ = proc.communicate(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # this run's own process group: the launcher and its workers
        out, _ = proc.communicate()
        pytest.fail(f"{what} did not finish in {RUN_TIMEOUT_S} s:\n{out[-4000:]}")
    assert proc.returncode == 0, f"{what} failed (exit {proc.returncode}):\n{out[-4000:]}"
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The exported script for a small CNN on MNIST, run as 'python train.py' and as 'torchrun
    --nproc_per_node=2 train.py' (gloo on CPU), both at once: {"single": folder, "torchrun": folder}."""
    from engine import backend

    tmp = tmp_path_factory.mktemp("training_script")
    backend.clear_session()
    script = tmp / "train.py"
    export_script(document_of(small_cnn()), script, dataset="mnist", epochs=1, batch_size=64, validation_split=0.1,
                  seed=11, learning_rate=0.01, optimizer="adam", schedule="one_cycle")
    hook = tmp / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE)
    args = ["train.py", "--max-train-samples", "512", "--output", "out/model.keras", "--history",
            "out/history.json"]
    runs, procs = {}, {}
    for kind, cmd in (("single", [sys.executable] + args),
                      ("torchrun", [sys.executable, "-m", "torch.distributed.run", "--standalone",
                                    "--nproc_per_node=2"] + args)):
        folder = tmp / kind
        (folder / "audit").mkdir(parents=True)
        (folder / "train.py").write_text(script.read_text())
        env = dict(os.environ, VISUALKERAS_OFFLINE="1", KERAS_BACKEND="torch",
                   OMP_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1", VK_AUDIT_DIR=str(folder / "audit"),
                   PYTHONPATH=os.pathsep.join([str(hook), REPO]))
        for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
            env.pop(key, None)
        procs[kind] = _start(cmd, folder, env)
        runs[kind] = folder
    for kind, proc in procs.items():
        (runs[kind] / "output.txt").write_text(_finish(proc, f"the {kind} run"))
    return runs


def _weights(path):
    import engine

    return engine.models.load_model(str(path)).get_weights()


@pytest.mark.slow
def test_torchrun_trains_the_same_weights_as_one_process(runs):
    single, dist = _weights(runs["single"] / "out" / "model.keras"), _weights(runs["torchrun"] / "out" / "model.keras")
    assert len(single) == len(dist) == 4
    for a, b in zip(single, dist, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)


@pytest.mark.slow
def test_torchrun_history_matches_one_process(runs):
    single = json.loads((runs["single"] / "out" / "history.json").read_text())
    dist = json.loads((runs["torchrun"] / "out" / "history.json").read_text())
    assert (single["processes"], dist["processes"]) == (1, 2)
    assert set(single["history"]) == set(dist["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    for key, values in single["history"].items():
        np.testing.assert_allclose(dist["history"][key], values, rtol=1e-4, atol=1e-6, err_msg=key)
    assert dist["test_loss"] == pytest.approx(single["test_loss"], rel=1e-4)
    assert dist["test_accuracy"] == pytest.approx(single["test_accuracy"], abs=1e-4)


@pytest.mark.slow
def test_only_rank_0_writes_files_and_prints(runs):
    folder = runs["torchrun"]
    audits = [json.loads((folder / "audit" / name).read_text()) for name in os.listdir(folder / "audit")]
    by_rank = {}
    for audit in audits:
        by_rank.setdefault(audit["rank"], []).extend(path for _, path in audit["events"])
    assert {"0", "1"} <= set(by_rank), sorted(by_rank)
    inside = {rank: [p for p in paths if p.startswith(str(folder) + os.sep)] for rank, paths in by_rank.items()}
    assert str(folder / "out" / "model.keras") in inside["0"]
    assert str(folder / "out" / "history.json") in inside["0"]
    assert inside["1"] == [], inside["1"]
    assert sorted(os.listdir(folder / "out")) == ["history.json", "model.keras"]
    out = (folder / "output.txt").read_text()
    assert out.count("Training sequential on mnist: 460 samples") == 1 and "(2 processes)" in out
    assert out.count("test_accuracy: ") == 1 and out.count("Saved out/model.keras") == 1


@pytest.mark.slow
def test_the_app_opens_the_trained_file(runs):
    from visualkeras_app.document.project import open_any

    path = runs["torchrun"] / "out" / "model.keras"
    doc = open_any(str(path))
    trained = [w for n in doc.nodes.values() if n.weights for w in n.weights]
    for a, b in zip(trained, _weights(path), strict=True):
        np.testing.assert_array_equal(a, b)
    assert len(trained) == 4


# ------------------------------------------------------------------------------------------ CLI and window
def test_cli_writes_a_training_script_with_the_settings(tmp_path, capsys):
    out = tmp_path / "train.py"
    code = main(["export", "seed_cnn", str(out), "--training-script", "--dataset", "fashion_mnist", "--epochs", "3",
                 "--batch-size", "32", "--lr", "0.005", "--seed", "4", "--max-train-samples", "1000",
                 "--precision", "mixed_bfloat16"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "torchrun --nproc_per_node=N train.py" in printed.out
    text = out.read_text()
    compile(text, str(out), "exec")
    for line in ('DATASET = "fashion_mnist"', "EPOCHS = 3", "BATCH_SIZE = 32", "LEARNING_RATE = 0.005", "SEED = 4",
                 "MAX_TRAIN_SAMPLES = 1000", 'OPTIMIZER = "adadelta"',  # the template's saved optimizer stays
                 'PRECISION = "mixed_bfloat16"'):
        assert f"\n{line} " in text or f"\n{line}\n" in text, line
    assert "visualkeras_app" not in text.split('"""', 2)[2]  # only in the docstring's name of the app
    assert "layers.Conv2D(32, (3, 3), activation=\"relu\")" in text


def test_cli_training_script_takes_a_projects_saved_settings(tmp_path, capsys):
    from visualkeras_app.document.project import save_project
    from visualkeras_app.document.templates import load_template

    doc = load_template("mnist_fast_cnn")
    doc.training = {"dataset": "mnist", "optimizer": "nadam", "epochs": 4, "batch_size": 256, "learning_rate": 0.002,
                    "validation_split": 0.05, "seed": 9, "schedule": "constant"}
    project = tmp_path / "fast.vkproj"
    save_project(doc, str(project))
    out = tmp_path / "fast_train.py"
    assert main(["export", str(project), str(out), "--training-script", "--epochs", "2"]) == 0, capsys.readouterr().err
    ns = load_script(out)
    assert (ns["OPTIMIZER"], ns["EPOCHS"], ns["BATCH_SIZE"], ns["LEARNING_RATE"], ns["VALIDATION_SPLIT"], ns["SEED"],
            ns["SCHEDULE"]) == ("nadam", 2, 256, 0.002, 0.05, 9, "constant")
    model = ns["build_model"]()
    assert [type(layer).__name__ for layer in model.layers][:3] == ["Conv2D", "BatchNormalization", "ReLU"]


@pytest.mark.parametrize("argv, status, words", [
    (["seed_cnn", "train.txt", "--training-script"], 1, "name OUT e.g. train.py"),
    (["no_such_model", "train.py", "--training-script"], 2, "neither a file nor a template"),
    (["seed_cnn", "train.py", "--training-script", "--validation-split", "1.5"], 1, "validation_split must be"),
    (["seed_cnn", "train.py", "--training-script", "--optimizer", "adamm"], 1, "Unknown optimizer: 'adamm'"),
    (["seed_cnn", "train.py", "--training-script", "--schedule", "cosine"], 1, "schedule must be one of"),
    (["seed_cnn", "train.py", "--training-script", "--precision", "float8"], 1, "precision must be one of"),
    (["seed_cnn", "model.keras", "--epochs", "3"], 1, "--epochs only applies to a training script"),
])
def test_cli_training_script_errors_are_one_line(tmp_path, capsys, argv, status, words):
    argv = [a if not a.endswith((".py", ".txt", ".keras")) else str(tmp_path / a) for a in argv]
    assert main(["export"] + argv) == status
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert not os.listdir(tmp_path)


def test_export_notes_a_model_that_does_not_fit_the_data(tmp_path):
    from visualkeras_app.document.templates import load_template
    from visualkeras_app.export import export_model

    report = export_model(load_template("seed_mlp"), tmp_path / "train.py", format="train")
    assert "does not fit MNIST" in report.message() and "(784,)" in report.message()
    report = export_model(load_template("seed_cnn"), tmp_path / "train.py", format="train",
                          settings={"dataset": str(tmp_path / "elsewhere.npz")})
    assert "does not exist here" in report.message()
    assert f'DATASET = "{tmp_path / "elsewhere.npz"}"' in (tmp_path / "train.py").read_text()


def test_two_input_model_has_no_training_script(tmp_path):
    from tests.visualkeras_app.export.conftest import two_input_model
    from visualkeras_app.export import ExportError, export_model

    with pytest.raises(ExportError, match="2 inputs and 1 outputs"):
        export_model(two_input_model(), tmp_path / "train.py", format="train")
    assert not (tmp_path / "train.py").exists()


@pytest.mark.slow
def test_script_help_runs_without_the_app(tmp_path):
    from visualkeras_app.document.templates import load_template
    from visualkeras_app.export import export_model

    export_model(load_template("mnist_fast_cnn"), tmp_path / "train.py", format="train")
    (tmp_path / "hook").mkdir()
    (tmp_path / "hook" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = dict(os.environ, VK_AUDIT_DIR=str(tmp_path), PYTHONPATH=os.pathsep.join([str(tmp_path / "hook"), REPO]))
    proc = subprocess.run([sys.executable, "train.py", "--help"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "torchrun --nproc_per_node=N train.py" in proc.stdout and "--max-train-samples" in proc.stdout
    proc = subprocess.run([sys.executable, "train.py", "--dataset", "nowhere.npz"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "No data set 'nowhere.npz'" in proc.stderr and "Traceback" not in proc.stderr


class TestWindow:
    @pytest.fixture
    def window(self, qtbot, tmp_path, monkeypatch):
        pytest.importorskip("pytestqt")
        from PySide6.QtCore import QSettings
        from PySide6.QtWidgets import QMessageBox

        from visualkeras_app.mainwindow import MainWindow

        monkeypatch.setenv("VISUALKERAS_RECOVERY_DIR", str(tmp_path / "recovery"))
        monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Discard)
        errors = []
        monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: errors.append((title, text)))
        monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a, **k: errors.append((title, text)))
        win = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat), offer_recovery=False)
        win.errors = errors
        qtbot.addWidget(win)
        win.show()
        qtbot.waitUntil(lambda: win.is_started, timeout=10000)
        assert win.new_from_template("mnist_fast_cnn")
        yield win
        win.close()

    def test_export_menu_has_the_training_script_action(self, window):
        file_menu = window.menuBar().actions()[0].menu()
        export = next(a.menu() for a in file_menu.actions() if a.menu() is not None and "Export" in a.text())
        texts = [a.text() for a in export.actions()]
        assert texts.index("&Training Script…") == texts.index("&Export…") + 1
        act = window.act_export_training
        assert "torchrun" in act.toolTip() and "torchrun" in act.statusTip() and export.toolTipsVisible()

    def test_training_script_action_writes_the_panels_settings(self, window, tmp_path, monkeypatch):
        from PySide6.QtWidgets import QFileDialog

        panel = window.training.panel
        assert panel is not None
        panel.epochs_spin.setValue(3)
        panel.batch_spin.setValue(128)
        asked = []

        def save_name(parent, title, start, filters):
            asked.append((title, os.path.basename(start), filters))
            return str(tmp_path / "server_train"), filters

        monkeypatch.setattr(QFileDialog, "getSaveFileName", save_name)
        window.act_export_training.trigger()
        assert asked == [("Export Training Script", "train.py", "Python training script (*.py)")]
        ns = load_script(tmp_path / "server_train.py")
        assert (ns["EPOCHS"], ns["BATCH_SIZE"]) == (3, 128)
        message = window.statusBar().currentMessage()
        assert "server_train.py" in message and "torchrun --nproc_per_node=N" in message
        assert "random" not in message and not window.errors

    def test_cancelled_dialog_writes_nothing(self, window, tmp_path, monkeypatch):
        from PySide6.QtWidgets import QFileDialog

        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
        window.act_export_training.trigger()
        assert not [p for p in os.listdir(tmp_path) if p.endswith(".py")]


def test_script_reads_an_image_folder_as_the_app(tmp_path):
    """A folder of gray PNGs and colour JPEGs (so RGB), one of another size, a corrupt file: the script's
    load_dataset gives the app's arrays, split and class names."""
    from PIL import Image

    from visualkeras_app.training.data import load_dataset

    rng = np.random.default_rng(2)
    folder = tmp_path / "pictures"
    for k, (name, n) in enumerate({"ant": 7, "bee": 5, "cat": 3}.items()):
        os.makedirs(folder / name)
        for i in range(n):
            arr = rng.integers(0, 256, (9, 7, 3), dtype=np.uint8)
            Image.fromarray(arr).save(folder / name / f"{i}.{'jpg' if k == 1 else 'png'}")
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(folder / "cat" / "big.png")
    (folder / "ant" / "bad.png").write_bytes(b"nope")
    script = tmp_path / "train.py"
    export_script(document_of(small_cnn((9, 7, 3), 3)), script, dataset=str(folder))
    assert f"DATASET = {str(folder)!r}".replace("'", '"') in script.read_text() or repr(str(folder)) in \
        script.read_text()
    ns = load_script(script)
    got = ns["load_dataset"](str(folder))
    want = load_dataset(str(folder))
    for a, b in zip(got[:4], (want.x_train, want.y_train, want.x_test, want.y_test), strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    assert got[4] == want.class_names == ["ant", "bee", "cat"] and want.x_train.shape[1:] == (9, 7, 3)
