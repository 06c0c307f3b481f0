"""``plot_model``: Keras's model diagram.

A package installed beside the engine may draw it: the first ``engine.plot_model`` entry point (its
``render(model, to_file, **options)``). visualkeras-app registers its diagram exporter there, which
renders with Graphviz's ``dot`` when it is installed, else with the app's own renderer (Qt, offscreen),
so neither pydot nor ``dot`` is needed. Without such a package the engine writes ``model_to_dot``'s graph
through Graphviz. The engine never imports the app.
"""
from __future__ import annotations

import os
from importlib import metadata

from engine.models.model import Model
from engine.utils.model_dot import model_to_dot, write_picture

RENDERER_GROUP = "engine.plot_model"


def _renderer():
    """The ``render`` function of the first installed ``engine.plot_model`` entry point, or None."""
    try:
        points = sorted(metadata.entry_points(group=RENDERER_GROUP), key=lambda p: p.name)
    except Exception:  # broken package metadata: draw with Graphviz instead
        return None
    for point in points:
        try:
            return point.load()
        except ImportError:
            continue  # that package is installed without what it needs: try the next, then Graphviz
    return None


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False, show_layer_names=False,
               rankdir="TB", expand_nested=False, dpi=200, show_layer_activations=False, show_trainable=False,
               **kwargs):
    """Draws ``model``'s graph to ``to_file`` (``.png``, ``.svg``, ``.pdf`` or ``.dot``), one box per layer.

    Args:
        model: a Sequential or functional model with known input shapes.
        to_file: the file to write; its extension picks the format.
        show_shapes: write each layer's input and output shapes.
        show_dtype: write each layer's dtype.
        show_layer_names: write each layer's name beside its class.
        rankdir: ``"TB"`` (top to bottom) or ``"LR"`` (left to right).
        expand_nested: draw nested models as boxes of their own layers (through ``model_to_dot`` and
            Graphviz, as is ``show_trainable``; a ``.dot`` file needs no Graphviz).
        dpi: dots per inch of a PNG.
        show_layer_activations: write the activation of layers that have one.
        show_trainable: mark each layer Trainable or Frozen (frozen ones grey).
        **kwargs: Keras's ``splines`` and other pydot styling, accepted and not used.

    Raises:
        ImportError: no renderer can make the picture (neither Graphviz's ``dot`` nor, with visualkeras-app,
            PySide6).
        ValueError: the model cannot be drawn (subclassed, nested models, shared layers) or an
            argument is invalid.
    """
    unknown = set(kwargs) - {"splines", "layer_range"}
    if unknown:
        raise TypeError(f"plot_model() got unexpected keyword argument(s) {sorted(unknown)}.")
    if kwargs.get("layer_range") is not None:
        raise ValueError("plot_model(layer_range=...) is not supported: plot the whole model.")
    ext = os.path.splitext(os.fspath(to_file))[1].lower()
    if ext not in (".png", ".svg", ".pdf", ".dot"):
        raise ValueError(f"plot_model writes .png, .svg, .pdf or .dot files. Received: to_file={to_file!r}")
    render = None if show_trainable or (expand_nested and _has_nested_model(model)) else _renderer()
    if render is None:
        # Frozen/trainable marks, expanded nested models, or no renderer installed: model_to_dot's graph,
        # drawn by Graphviz's dot (a .dot file needs nothing).

        dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                           show_layer_names=show_layer_names, rankdir=rankdir, expand_nested=expand_nested, dpi=dpi,
                           show_layer_activations=show_layer_activations, show_trainable=show_trainable, **kwargs)
        write_picture(dot, to_file, dpi=dpi)
        return None
    render(model, to_file, rankdir=rankdir, dpi=dpi, show_shapes=show_shapes, show_dtype=show_dtype,
           show_layer_names=show_layer_names, show_layer_activations=show_layer_activations)
    return None


def _has_nested_model(model):
    return any(isinstance(layer, Model) for layer in getattr(model, "layers", []))
