"""Training-script export: a standalone ``train.py`` for a model, a data set and training settings.

The script trains as the app does (same preprocessing, loss pick, optimizer, one-cycle schedule and
seed use) and saves a ``.keras`` file the app opens. It needs only numpy and ``engine``, so it can be
copied to a server, and it runs both as ``python train.py`` and as ``torchrun --nproc_per_node=N
train.py``: under torchrun, ``engine``'s ``fit`` splits every global batch across the processes and
only rank 0 prints and writes files.

The script is ``train_template.py`` with three parts replaced: its docstring, the settings constants
and the body of ``build_model`` (the code dock's code, ``codegen.generate_code``).
"""
from __future__ import annotations

import os

from visualkeras_app.document.pysource import doc_text, literal
from visualkeras_app.export.core import ExportError, atomic_write_text
from visualkeras_app.training.precision import check_precision

TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "train_template.py")
_BUILTIN_DATASETS = ("mnist", "fashion_mnist")


def _as_settings(settings, doc):
    """Valid ``TrainSettings``; ValueError naming a bad value (an unknown optimizer or loss too, which
    the script would otherwise only find when it runs)."""
    from engine import losses, optimizers

    from visualkeras_app.training.recipe import settings_for
    from visualkeras_app.training.settings import TrainSettings

    if settings is None:
        settings = settings_for(doc)
    elif isinstance(settings, dict):
        settings = TrainSettings.from_dict(settings)
    settings.validate()
    optimizers.get(settings.optimizer)
    if settings.loss not in (None, "auto"):
        losses.get(settings.loss)
    return settings


def _dataset_constant(dataset, notes):
    """The DATASET value to write: a built-in key, or the data file's absolute path."""
    key = str(dataset)
    norm = key.lower().replace("-", "_").replace(" ", "_")
    if norm in _BUILTIN_DATASETS:
        return norm
    path = os.path.abspath(os.path.expanduser(key))
    if not (os.path.isfile(path) or os.path.isdir(path)):
        notes.append(f"The data file {path} does not exist here: set DATASET in the script (or pass --dataset) "
                     "to where it is on the machine that trains.")
    else:
        notes.append(f"The script reads the data from {path}: edit DATASET (or pass --dataset) where it lives "
                     "elsewhere.")
    return path


def _model_code(doc):
    """(a config-only model, the lines that build it: the code dock's code without its summary call)."""
    from visualkeras_app.document.convert import ConversionError, document_to_model

    try:
        # On torch's meta device: checks that the graph converts and reads its inputs and outputs, free.
        model = document_to_model(doc, config_only=True)
    except ConversionError as e:
        raise ExportError(f"Cannot write a training script: {e}") from None
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ExportError(f"Cannot write a training script: the model has {len(model.inputs)} inputs and "
                          f"{len(model.outputs)} outputs; the script trains a classifier with one input and one "
                          "output on an image or table data set.")
    return model, _code_lines(doc)


def _code_lines(doc):
    """The code dock's code for doc, without its closing summary call."""
    from visualkeras_app.document.codegen import generate_code

    lines = generate_code(doc).rstrip("\n").splitlines()
    if lines and lines[-1].strip() == "model.summary()":
        lines.pop()
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _literal(value):
    """A Python literal of a plain value, strings in double quotes as the model code writes them."""
    return literal(value, tuples=False)


def _check_builtin_fit(model, settings, dataset, notes):
    """A note when the model cannot take MNIST or Fashion-MNIST (28x28 grayscale, 10 classes): the
    script would stop with the same message, after loading the data."""
    if dataset not in _BUILTIN_DATASETS:
        return
    import numpy as np

    from visualkeras_app.training.data import BUILTIN, Dataset, DatasetMismatch, model_io, prepare

    one = np.zeros((1, 28, 28), np.uint8)
    labels = np.zeros(1, np.int64)
    probe = Dataset(dataset, one, labels, one, labels, [str(i) for i in range(10)])
    try:
        in_shape, out_shape, act = model_io(model)
        prepare(probe, in_shape, out_shape, settings.loss, output_activation=act)
    except DatasetMismatch as e:
        notes.append(f"Warning: the model does not fit {BUILTIN[dataset]}, so the script will stop: {e}")


def _settings_block(settings, dataset):
    s = settings
    rows = [
        ("DATASET", _literal(dataset), '"mnist", "fashion_mnist", a .npz or .csv file, or a folder of images'),
        ("LOSS", _literal(s.loss), 'a Keras loss name, or "auto": picked from the output layer, as the app does'),
        ("OPTIMIZER", _literal(s.optimizer), '"adam", "sgd", "rmsprop", ...'),
        ("LEARNING_RATE", _literal(float(s.learning_rate)), "the peak rate with the one-cycle schedule"),
        ("SCHEDULE", _literal(s.schedule), '"one_cycle" (warm up, then anneal) or "constant"'),
        ("EPOCHS", _literal(int(s.epochs)), ""),
        ("BATCH_SIZE", _literal(int(s.batch_size)), "the global batch: under torchrun it is split across the processes"),
        ("VALIDATION_SPLIT", _literal(float(s.validation_split)),
         "the last fraction of the training samples, held out to validate each epoch"),
        ("SEED", _literal(int(s.seed)), "seeds the weights, the shuffling and the validation split"),
        ("MAX_TRAIN_SAMPLES", _literal(s.max_train_samples), "None: all; N: only the first N (a quick try)"),
        ("DEVICE", "None", 'None: a GPU when there is one, else the CPU; or "cpu", "cuda", "mps"'),
        ("PRECISION", _literal(check_precision(s.precision)),
         '"float32", "mixed_bfloat16", "mixed_float16", or "auto": bfloat16 where the device is fast at it'),
        ("OUTPUT", _literal("model.keras"), "written by rank 0; opens in visualkeras-app and Keras 3"),
    ]
    width = max(len(f"{k} = {v}") for k, v, _ in rows)
    out = ["# ---- settings, from the app's Training panel when exported; the command-line options override them"]
    for k, v, comment in rows:
        line = f"{k} = {v}"
        out.append(f"{line.ljust(width)}  # {comment}" if comment else line)
    out.append("# ---- end of settings")
    return out


def _docstring(name, dataset, settings):
    shown = dataset if dataset in _BUILTIN_DATASETS else os.path.basename(dataset)
    from visualkeras_app import __version__

    return [
        f'"""Train the model \'{doc_text(name)}\' on {doc_text(shown)}: a training script exported by '
        f'visualkeras-app {doc_text(__version__)}.',
        "",
        "Run it with one process (on a GPU when there is one, else on the CPU):",
        "",
        "    python train.py",
        "",
        "or with N processes, e.g. one per GPU of a server:",
        "",
        "    torchrun --nproc_per_node=N train.py",
        "",
        f"Both train the same model: the global batch ({int(settings.batch_size)} samples) is split across the "
        "processes, each",
        "computing the gradients of its share, and only the first process (rank 0) prints and writes files.",
        "The trained model goes to model.keras (--output): open it in visualkeras-app or Keras 3.",
        "",
        "Options override the settings below, e.g. python train.py --epochs 5 --batch-size 128",
        "--output run1.keras --history run1.json (python train.py --help lists them). The data is prepared",
        "as the app prepares it (pixels scaled to 0-1, a channel axis added or the images flattened,",
        "labels as the loss wants them). Needs numpy and engine (pip install visualkeras-app), nothing else.",
        '"""',
    ]


def training_script_text(doc, settings=None, name=None, notes=None) -> str:
    """The source of a training script for ``doc`` (an editor ``Document``).

    Args:
        doc: The model.
        settings: A ``TrainSettings`` or its dict; None: ``training.recipe.settings_for(doc)``.
        name: The model's name in the script's docstring.
        notes: A list that receives what the user should know (e.g. where the data file is read).

    Raises:
        ExportError: The model cannot be built or has several inputs or outputs.
        ValueError: A setting is invalid.
    """
    notes = [] if notes is None else notes
    settings = _as_settings(settings, doc)
    dataset = _dataset_constant(settings.dataset, notes)
    model, code = _model_code(doc)
    _check_builtin_fit(model, settings, dataset, notes)
    model_lines = ["    " + line if line.strip() else "" for line in code]
    with open(TEMPLATE, encoding="utf-8") as f:
        template = f.read()
    _, rest = _split(template, "# ---- end of docstring\n")
    before_settings, rest = _split(rest, "# ---- settings\n")
    _, rest = _split(rest, "# ---- end of settings\n")
    before_model, rest = _split(rest, "    # ---- model\n")
    _, after_model = _split(rest, "    # ---- end of model\n")
    text = ("\n".join(_docstring(name or "model", dataset, settings)) + "\n" + before_settings
            + "\n".join(_settings_block(settings, dataset)) + "\n" + before_model
            + "\n".join(model_lines) + "\n" + after_model)
    return text


def _split(text, marker):
    head, found, tail = text.partition(marker)
    if not found:
        raise RuntimeError(f"train_template.py lacks the line {marker.strip()!r}")
    return head, tail


def export_training_script(doc, path, report, settings=None, name=None):
    """Write ``training_script_text(doc, settings, name)`` to ``path`` (a ``.py`` file)."""
    if not os.fspath(path).lower().endswith(".py"):
        raise ExportError(f"A training script is a Python file: name it e.g. train.py. Received: "
                          f"{os.path.basename(os.fspath(path))!r}")
    if name is None:
        name = getattr(doc, "name", None) or "model"
    text = training_script_text(doc, settings, name=name, notes=report.notes)
    atomic_write_text(path, text)
    base = os.path.basename(path)
    report.notes.insert(0, f"Run it with 'python {base}' or 'torchrun --nproc_per_node=N {base}'; "
                           "it saves model.keras.")
