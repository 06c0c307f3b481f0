"""``.onnx`` export: torch's exporter run on the engine model (channels_last inputs, batch size free).

``onnx`` and ``onnxruntime`` are the optional extra ``visualkeras-app[onnx]``: without ``onnx`` the
export stops with an ``ExportError`` saying what to install. The TorchScript-based exporter is used
(it needs nothing beyond ``onnx``); torch's dynamo exporter is the fallback on torch builds without it.
"""
from __future__ import annotations

import warnings

from visualkeras_app.export.core import ExportError

INSTALL_HINT = 'pip install "visualkeras-app[onnx]"'


def _require_onnx():
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise ExportError(f"Exporting to ONNX needs the onnx package, which is not installed. Install it with: "
                          f"{INSTALL_HINT} (or pip install onnx onnxruntime).") from None


def _example_inputs(model):
    import torch

    examples = []
    for t in model.inputs:
        shape = [2 if d is None else int(d) for d in t.shape]
        dtype = str(getattr(t, "dtype", "float32"))
        if "int" in dtype:
            examples.append(torch.zeros(shape, dtype=getattr(torch, dtype)))
        else:
            examples.append(torch.rand(shape, dtype=getattr(torch, dtype, torch.float32)))
    return tuple(examples)


# Layers whose call leaves torch (NumPy hashing): the tracer would record their outputs for the example
# input as constants, and the file would give those ids for every input.
_UNTRACEABLE = {
    "Hashing": "it hashes with FarmHash/SipHash of decimal strings in NumPy, which ONNX has no operators for",
    "HashedCrossing": "it crosses features with TensorFlow's FingerprintCat64 in NumPy, which ONNX has no "
                      "operators for",
}


def _refuse_untraceable(model):
    for layer in model.modules():
        why = _UNTRACEABLE.get(type(layer).__name__)
        if why:
            raise ExportError(f"Layer {layer.name!r} ({type(layer).__name__}) cannot be exported to ONNX: {why}. "
                              "Export the model as .keras or engine Python code instead, or compute the ids "
                              "before the model and start it after this layer.")


def export_onnx(model, path, report, opset=None):
    import torch

    _refuse_untraceable(model)
    _require_onnx()
    if not getattr(model, "inputs", None):
        raise ExportError(f"Model {model.name!r} has no inputs yet: build it (give it an Input) before exporting.")

    class _Runner(torch.nn.Module):
        # Positional tensors in, the model's list-taking call inside: what ONNX's graph signature needs.
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, *xs):
            return self.m(xs[0] if len(xs) == 1 else list(xs), training=False)

    input_names = [t.keras_history.operation.name for t in model.inputs]
    output_names = [t.keras_history.operation.name for t in model.outputs]
    output_names = [n if output_names.count(n) == 1 else f"{n}_{i}" for i, n in enumerate(output_names)]
    dynamic = {n: {0: "batch"} for n in input_names + output_names}
    runner = _Runner(model).eval()
    args = _example_inputs(model)
    kwargs = dict(input_names=input_names, output_names=output_names)
    if opset is not None:
        kwargs["opset_version"] = int(opset)
    was_training = model.training
    model.eval()
    try:
        def write(tmp):
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                try:
                    torch.onnx.export(runner, args, tmp, dynamic_axes=dynamic, dynamo=False, **kwargs)
                except TypeError:  # a torch without the TorchScript exporter
                    torch.onnx.export(runner, args, tmp, dynamic_shapes=None, **kwargs)

        from engine.utils.file_utils import atomic_write

        atomic_write(path, write)
    except ExportError:
        raise
    except Exception as e:
        raise ExportError(f"torch's ONNX exporter failed on model {model.name!r}: {e}") from e
    finally:
        model.train(was_training)
    report.notes.append("Inputs are channels_last as in Keras; the batch dimension is dynamic.")
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        report.notes.append(f"To run it, install onnxruntime ({INSTALL_HINT}).")
