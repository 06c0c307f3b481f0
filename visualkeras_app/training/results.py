"""What a trained classifier got right and wrong, what its layers output, and live predictions.

Qt-free: the Results views (``visualkeras_app.results_ui``) draw what these functions return.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np
import torch

from visualkeras_app.training.data import Prepared

# Layers whose outputs the feature-map view shows, by registry category (and Dense and Activation, from "Core").
_FEATURE_CATEGORIES = ("Convolution", "Pooling", "Activation")
_FEATURE_CLASSES = ("Dense", "Activation")


@dataclass
class Results:
    """A classifier's results on the test set.

    ``confusion[i, j]`` counts test samples of true class i predicted as j; ``per_class_accuracy[i]``
    is the fraction of class i predicted right (NaN for a class absent from the test set);
    ``misclassified`` lists ``(index, true, predicted)`` in test-set order; ``predictions`` holds the
    predicted class of every test sample and ``probabilities`` the model's outputs as probabilities.
    """

    test_loss: float
    test_accuracy: float
    confusion: np.ndarray
    per_class_accuracy: np.ndarray
    misclassified: list
    predictions: np.ndarray
    probabilities: np.ndarray
    class_names: list = field(default_factory=list)
    labels: np.ndarray | None = None


def _to_probabilities(out, from_logits):
    out = np.asarray(out, dtype=np.float64)
    if out.ndim == 1:
        out = out[:, None]
    if out.shape[1] == 1:  # one sigmoid unit: P(class 1)
        p1 = 1.0 / (1.0 + np.exp(-out[:, 0])) if from_logits else out[:, 0]
        return np.stack([1.0 - p1, p1], axis=1)
    if from_logits:
        z = out - out.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)
    return out


def evaluate_results(model, prepared: Prepared, class_names=None, batch_size=1000) -> Results:
    """Predict the test set once and derive loss, accuracy, confusion matrix and mistakes from it.

    The loss is the crossentropy of the predicted probabilities (Keras clips them to [1e-7, 1 - 1e-7]
    the same way), so no second pass over the test set is needed.
    """
    out = model.predict(prepared.x_test, batch_size=batch_size, verbose=0)
    probs = _to_probabilities(out, prepared.from_logits)
    labels = prepared.test_labels()
    k = probs.shape[1]
    names = list(class_names if class_names is not None else prepared.class_names) or [str(i) for i in range(k)]
    pred = probs.argmax(axis=1)
    eps = 1e-7
    if prepared.from_logits:
        z = np.asarray(out, dtype=np.float64)
        if z.ndim == 2 and z.shape[1] > 1:
            m = z.max(axis=1, keepdims=True)
            logp = z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
            loss = float(-logp[np.arange(len(labels)), labels].mean())
        else:
            loss = float(-np.log(np.clip(probs[np.arange(len(labels)), labels], eps, 1.0)).mean())
    else:
        p = probs / np.clip(probs.sum(axis=1, keepdims=True), eps, None)
        loss = float(-np.log(np.clip(p[np.arange(len(labels)), labels], eps, 1.0 - eps)).mean())
    correct = pred == labels
    confusion = np.bincount(labels * k + pred, minlength=k * k).reshape(k, k).astype(np.int64)
    totals = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(totals > 0, np.diag(confusion) / np.maximum(totals, 1), np.nan)
    wrong = np.flatnonzero(~correct)
    misclassified = [(int(i), int(labels[i]), int(pred[i])) for i in wrong]
    return Results(loss, float(correct.mean()) if len(correct) else float("nan"), confusion, per_class,
                   misclassified, pred, probs.astype(np.float32), names, labels)


# ------------------------------------------------------------------------------------------ advice
# The share of a BatchNormalization layer's starting moving statistics (mean 0, variance 1) that may remain
# before its test-time normalization is trusted: momentum**steps; 0.99**299 < 0.05.
_BN_LEFTOVER = 0.05
_BN_GAP = 0.1  # test accuracy this far below training accuracy is worth a note


def batchnorm_note(model, record, test_accuracy=None) -> str | None:
    """Why test accuracy is far below training accuracy after a short run of a model with BatchNormalization,
    and what to do, in plain words; None when that is not the case.

    In inference a BatchNormalization layer normalizes with moving averages that move ``1 - momentum`` of
    the way to each batch's statistics (Keras's momentum 0.99: 1%), so after a few dozen steps they are
    still mostly their starting values and the test images are normalized wrongly, while training (batch
    statistics) looks fine.

    Args:
        model: The trained engine model.
        record: Its `RunRecord` (per-epoch logs and the per-batch curve; all steps, "more epochs" included).
        test_accuracy: Defaults to ``record.test_accuracy``.
    """
    test = record.test_accuracy if test_accuracy is None else test_accuracy
    momenta = [float(getattr(m, "momentum", 0.0) or 0.0) for m in model.modules()
               if type(m).__name__ == "BatchNormalization"]
    steps = int(getattr(record.batches, "total", 0) or 0)
    if test is None or not momenta or steps < 1:
        return None
    momentum = max(momenta)
    if not 0.0 < momentum < 1.0 or momentum ** steps <= _BN_LEFTOVER:
        return None
    train = [record.epochs[-1].get("accuracy", np.nan)] if record.epochs else []
    if "accuracy" in getattr(record.batches, "keys", ()) and len(record.batches):
        train.append(record.batches.smoothed("accuracy")[-1])  # the last batches', not the epoch's mean
    train = [float(a) for a in train if np.isfinite(a)]
    if not train or max(train) - test < _BN_GAP:
        return None
    need = int(np.ceil(np.log(_BN_LEFTOVER) / np.log(momentum)))
    per_epoch = max(1, round(steps / max(1, len(record.epochs))))
    more = int(np.ceil((need - steps) / per_epoch))
    return (f"Test accuracy ({100 * test:.0f}%) is far below training accuracy ({100 * max(train):.0f}%), most "
            f"likely because the run was short: after {steps} training steps the BatchNormalization layers' "
            f"moving averages (momentum {momentum:g}) still hold {100 * momentum ** steps:.0f}% of their starting "
            f"values, and test images are normalized with them. Train {more} more epoch{'s' if more != 1 else ''} "
            f"(about {need} steps in all) or on more samples, or lower the layers' momentum (e.g. 0.9).")


# ------------------------------------------------------------------------------------------ inside the model
def _feature_layers(model):
    from engine.layers import registry

    out = []
    for layer in model.layers:
        kind = type(layer).__name__
        try:
            cat = registry.category_of(kind)
        except KeyError:
            cat = None
        if cat in _FEATURE_CATEGORIES or kind in _FEATURE_CLASSES:
            out.append(layer)
    return out


_probes = weakref.WeakKeyDictionary()


def _probe_model(model, layers):
    """A model with the same input giving every layer's output (shares the layers, so the weights)."""
    cached = _probes.get(model)
    names = tuple(l.name for l in layers)
    if cached is not None and cached[0] == names:
        return cached[1]
    import engine

    probe = None
    try:
        if model.inputs:
            probe = engine.Model(inputs=model.inputs, outputs=[l.output for l in layers])
    except (AttributeError, ValueError, TypeError):
        probe = None  # a layer called twice, a Sequential never built symbolically: run eagerly instead
    _probes[model] = (names, probe)
    return probe


def _model_input(model, image):
    """``image`` as a batch of one, shaped as the model's input (adds the channel axis or flattens)."""
    x = np.asarray(image, dtype=np.float32)
    want = tuple(model.input_shape)[1:]
    if None not in want and x.size == int(np.prod(want)):
        return x.reshape((1,) + want)
    if x.shape == want or (len(x.shape) == len(want) and all(w is None or w == h for w, h in zip(want, x.shape))):
        return x[None]
    raise ValueError(f"The image has shape {x.shape} but the model's input is {tuple(model.input_shape)}; pass "
                     f"one sample shaped {want}.")


def _device_of(model):
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def feature_maps(model, image):
    """Each Conv/Pooling/Activation/Dense layer's output for one ``image``, in model order.

    Args:
        model: A built Sequential or functional engine model.
        image: One sample, e.g. (28, 28), (28, 28, 1) or (784,) for a 28x28x1 model.

    Returns:
        A list of ``(layer_name, class_name, array)``; the array has no batch axis:
        (H, W, channels) for convolutions and pooling, (units,) for Dense.
    """
    layers = _feature_layers(model)
    if not layers:
        return []
    x = _model_input(model, image)
    probe = _probe_model(model, layers)
    if probe is not None:
        outs = probe.predict(x, verbose=0)
        outs = outs if isinstance(outs, list) else [outs]
        return [(l.name, type(l).__name__, np.asarray(o[0])) for l, o in zip(layers, outs)]
    wanted = {id(l) for l in layers}
    result = []
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            t = torch.from_numpy(x).to(_device_of(model))
            for layer in model.layers:
                t = layer(t, training=False)
                if id(layer) in wanted:
                    result.append((layer.name, type(layer).__name__, t[0].detach().cpu().numpy()))
    finally:
        model.train(was_training)
    return result


def predict_digit(model, image, from_logits=None):
    """Class probabilities (k,) for one drawn image (28x28 floats in [0, 1], white digit on black).

    Runs the model directly (no ``predict`` machinery) so that a draw pad can call it as the user
    draws. ``from_logits=None`` applies a softmax when the outputs do not already sum to 1.
    """
    x = _model_input(model, image)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(torch.from_numpy(x).to(_device_of(model)), training=False)
    finally:
        model.train(was_training)
    out = out[0] if isinstance(out, (list, tuple)) else out
    z = out[0].detach().cpu().double().numpy()
    if from_logits is None:
        from_logits = not (z.min() >= 0 and abs(z.sum() - 1.0) < 1e-3) and z.size > 1
    return _to_probabilities(z[None], from_logits)[0].astype(np.float32)
