"""``visualkeras-app predict MODEL FILES...``: a trained model's top classes for image files.

Each image is read with Pillow and shaped as the model's input wants: resized to its height and
width (bilinear, as ``image_dataset_from_directory``), converted to its number of channels, and
flattened for a model that takes rows of pixels. Pixels are scaled to 0-1 as the app trains,
unless the model rescales them itself (a ``Rescaling`` layer), which then gets 0-255. A file
that cannot be read gets one line on stderr and the others are still answered.
"""
from __future__ import annotations

import argparse
import csv
import math
import os
import sys

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_CHUNK = 32  # images per forward pass


class PredictError(ValueError):
    """The model cannot classify images (shapes), or the arguments do not fit it."""


def build_parser():
    p = argparse.ArgumentParser(
        prog="visualkeras-app predict",
        description="Print a trained model's top classes, with probabilities, for each image file. Folders are "
                    "searched for images (.png .jpg .jpeg .bmp .gif). Exits with 1 when a file cannot be read "
                    "(the others are still answered), 2 when the model cannot be used.")
    p.add_argument("model", help="a trained model: .keras, .h5 or a .vkproj saved after training")
    p.add_argument("files", nargs="+", metavar="FILE", help="image files or folders of images")
    p.add_argument("--top", type=int, default=5, help="how many classes to show per image (default 5)")
    p.add_argument("--csv", action="store_true", help="print CSV rows: file,rank,class,probability")
    p.add_argument("--class-names", default=None,
                   help="the class names in label order, separated by commas (default: the names of the data set "
                        "the project was trained on, else the class numbers)")
    p.add_argument("--labels", default=None, metavar="FILE",
                   help="a text file with one class name per line, in label order (instead of --class-names)")
    p.add_argument("--pixels", choices=("auto", "0-1", "0-255"), default="auto",
                   help="the pixel range the model was trained on (default auto: 0-255 when the model has a "
                        "Rescaling layer, else 0-1 as the app trains)")
    return p


# ------------------------------------------------------------------------------------------------
# The model


def load_model(path):
    """``(engine model, document)`` for a model or project file; ``PredictError`` otherwise."""
    from visualkeras_app.document.convert import ConversionError, document_to_model
    from visualkeras_app.document.project import ProjectError, open_any

    try:
        doc = open_any(path)
        model = document_to_model(doc, name=os.path.splitext(os.path.basename(path))[0])
    except (ProjectError, ConversionError) as e:
        raise PredictError(str(e)) from None
    return model, doc


def has_trained_weights(doc):
    return any(node.weights is not None for node in doc.nodes.values() if not node.is_input)


def input_layout(model):
    """``(height, width, channels, flat)`` the model's input wants; ``height``/``width`` None when any
    size is taken. ``PredictError`` for a model that does not take one image."""
    shape = model.input_shape
    if isinstance(shape, list) or isinstance(model.output_shape, list):
        raise PredictError("the model has several inputs or outputs; predict needs one image input and one output.")
    want = tuple(shape[1:])
    if len(want) == 3 and want[2] in (1, 3, 4):
        return want[0], want[1], want[2], False
    if len(want) == 2:
        return want[0], want[1], 1, False
    if len(want) == 1 and want[0]:
        for channels in (1, 3):
            side = math.isqrt(want[0] // channels)
            if side * side * channels == want[0]:
                return side, side, channels, True
    raise PredictError(f"the model's input has shape {shape}, which is not an image (height, width, channels) nor "
                       "a row of a square image's pixels.")


def output_units(model):
    out = tuple(model.output_shape)
    if len(out) != 2 or not out[1]:
        raise PredictError(f"the model's output has shape {out}; predict needs one score per class, (None, classes).")
    return int(out[1])


def has_rescaling(model):
    return any(type(layer).__name__ == "Rescaling" for layer in getattr(model, "layers", []))


def class_names_for(args, doc, units):
    """The names of the ``units`` classes (a sigmoid unit has two), from the options, the training
    data set of a project, or their numbers."""
    from visualkeras_app.training.data import BUILTIN, FASHION_CLASSES, MNIST_CLASSES

    count = 2 if units == 1 else units
    names = None
    if args.labels:
        with open(args.labels, encoding="utf-8") as f:
            names = [line.strip() for line in f if line.strip()]
    elif args.class_names:
        names = [n.strip() for n in args.class_names.split(",")]
    if names is not None:
        if len(names) != count:
            raise PredictError(f"{len(names)} class names given, but the model has {count} classes.")
        return names
    dataset = str((doc.training or {}).get("dataset", "")).lower().replace("-", "_")
    if dataset in BUILTIN and count == 10:
        return list(MNIST_CLASSES if dataset == "mnist" else FASHION_CLASSES)
    return [str(i) for i in range(count)]


def probabilities(model, outputs):
    """Class probabilities from the model's outputs: softmax/sigmoid as they are, logits softmaxed."""
    import numpy as np

    from visualkeras_app.training.data import output_activation

    out = np.asarray(outputs, dtype=np.float64)
    activation = output_activation(model)
    if out.shape[1] == 1:  # one unit: the probability of class 1
        p = out[:, 0] if activation == "sigmoid" else 1.0 / (1.0 + np.exp(-out[:, 0]))
        return np.stack([1.0 - p, p], 1)
    if activation == "softmax":
        return out
    if activation is None and (out >= 0).all() and np.allclose(out.sum(1), 1.0, atol=1e-3):
        return out  # an output layer of unknown kind that already gives probabilities
    shifted = np.exp(out - out.max(1, keepdims=True))
    return shifted / shifted.sum(1, keepdims=True)


# ------------------------------------------------------------------------------------------------
# The images


def expand(paths):
    """Files as given; folders replaced by the images in them (sorted, subfolders included)."""
    out = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs.sort()
                out += [os.path.join(root, f) for f in sorted(files) if f.lower().endswith(IMAGE_EXTENSIONS)]
        else:
            out.append(path)
    return out


def read_image(path, height, width, channels, flat, scale):
    """One file as the model's input (no batch axis), float32."""
    from engine.utils import image_utils

    x = image_utils.decode_image_file(path, channels)
    x = image_utils.resize(x, (height or x.shape[0], width or x.shape[1]))
    if scale:
        x = x / 255.0
    return x.reshape(-1) if flat else x


def _why(exc, path):
    """A short reason a file could not be read, without repeating its path."""
    from PIL import UnidentifiedImageError

    from engine.utils.dataset_utils import failure_reason

    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, UnidentifiedImageError):
        return "not an image file (or in a format Pillow cannot read)"
    return failure_reason(exc, path)


# ------------------------------------------------------------------------------------------------
# The command


def run(argv) -> int:
    args = build_parser().parse_args(argv)
    if args.top < 1:
        print("visualkeras-app: --top must be 1 or more.", file=sys.stderr)
        return 2
    try:
        model, doc = load_model(args.model)
        height, width, channels, flat = input_layout(model)
        units = output_units(model)
        names = class_names_for(args, doc, units)
    except (PredictError, OSError) as e:
        print(f"visualkeras-app: cannot predict with {args.model}: {e}", file=sys.stderr)
        return 2
    if not has_trained_weights(doc):
        print(f"warning: {args.model} holds no trained weights; the predictions are those of an untrained "
              "model.", file=sys.stderr)
    two_d = len(model.input_shape) == 3  # (None, height, width): no channel axis
    scale = {"0-1": True, "0-255": False}.get(args.pixels, not has_rescaling(model))
    files = expand(args.files)
    if not files:
        print("visualkeras-app: no image files found in " + ", ".join(args.files), file=sys.stderr)
        return 1
    writer = csv.writer(sys.stdout, lineterminator="\n") if args.csv else None
    if writer:
        writer.writerow(["file", "rank", "class", "probability"])
    failed = 0
    top = min(args.top, len(names))
    for start in range(0, len(files), _CHUNK):
        batch, kept = [], []
        for path in files[start:start + _CHUNK]:
            try:
                x = read_image(path, height, width, channels, flat, scale)
            except Exception as e:  # any reason a file is not a readable image
                failed += 1
                print(f"visualkeras-app: cannot read {path}: {_why(e, path)}", file=sys.stderr)
                continue
            batch.append(x[:, :, 0] if two_d else x)
            kept.append(path)
        if not batch:
            continue
        import numpy as np

        if height is None or width is None:  # any size: one image at a time
            outputs = np.concatenate([model.predict(b[None], verbose=0) for b in batch])
        else:
            outputs = model.predict(np.stack(batch), verbose=0)
        for path, p in zip(kept, probabilities(model, outputs)):
            order = np.argsort(-p, kind="stable")[:top]
            if writer:
                for rank, k in enumerate(order, 1):
                    writer.writerow([path, rank, names[k], f"{p[k]:.6f}"])
            else:
                print(path)
                width_names = max(len(names[k]) for k in order)
                for rank, k in enumerate(order, 1):
                    print(f"  {rank}. {names[k].ljust(width_names)}  {p[k]:.4f}")
        sys.stdout.flush()
    return 1 if failed else 0


# ------------------------------------------------------------------------------------------------
# For the window: the same reading and ranking, returned instead of printed


def dataset_class_names(doc, units, dataset=None):
    """The class names of the data set ``doc`` was trained on (``dataset``, a loaded ``Dataset``, when the
    window has it): a built-in's, a folder's subfolders, an .npz's class_names; else the class numbers."""
    count = 2 if units == 1 else units
    names = list(getattr(dataset, "class_names", None) or [])
    if len(names) == count:
        return names
    key = str((doc.training or {}).get("dataset", ""))
    from visualkeras_app.training.data import BUILTIN, FASHION_CLASSES, MNIST_CLASSES

    norm = key.lower().replace("-", "_")
    if norm in BUILTIN and count == 10:
        return list(MNIST_CLASSES if norm == "mnist" else FASHION_CLASSES)
    if key and os.path.isdir(key):
        try:
            from visualkeras_app.training.folder_data import scan_folder

            names = scan_folder(key, samples_per_class=0).class_names
        except ValueError:
            names = []
        if len(names) == count:
            return names
    return [str(i) for i in range(count)]


def predict_images(model, files, names, top=5, pixels="auto"):
    """``[(path, [(class name, probability), ...] or None, reason or None)]`` for image files (folders are
    searched); a file that cannot be read gets None and the reason. ``PredictError`` when the model does
    not take images."""
    import numpy as np

    height, width, channels, flat = input_layout(model)
    units = output_units(model)
    if len(names) != (2 if units == 1 else units):
        raise PredictError(f"{len(names)} class names for a model of {units} output units.")
    two_d = len(model.input_shape) == 3
    scale = {"0-1": True, "0-255": False}.get(pixels, not has_rescaling(model))
    out = []
    for start in range(0, len(files), _CHUNK):
        batch, kept = [], []
        for path in files[start:start + _CHUNK]:
            try:
                x = read_image(path, height, width, channels, flat, scale)
            except Exception as e:  # any reason a file is not a readable image
                out.append((path, None, _why(e, path)))
                continue
            batch.append(x[:, :, 0] if two_d else x)
            kept.append(path)
        if not batch:
            continue
        if height is None or width is None:
            outputs = np.concatenate([model.predict(b[None], verbose=0) for b in batch])
        else:
            outputs = model.predict(np.stack(batch), verbose=0)
        for path, p in zip(kept, probabilities(model, outputs)):
            order = np.argsort(-p, kind="stable")[:min(top, len(names))]
            out.append((path, [(names[k], float(p[k])) for k in order], None))
    rank = {path: i for i, path in enumerate(files)}
    return sorted(out, key=lambda r: rank[r[0]])
