"""``plot_model``: Keras's model diagram, drawn by visualkeras-app's exporter.

The exporter renders with Graphviz's ``dot`` when it is installed, else with the app's own renderer
(Qt, offscreen), so neither pydot nor ``dot`` is needed. The app and Qt are imported only when
``plot_model`` runs: importing ``engine`` never loads them.
"""
from __future__ import annotations

import os


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
        ImportError: visualkeras-app's exporter (or PySide6, its renderer when ``dot`` is missing) is
            not installed.
        ValueError: the model cannot be drawn (subclassed, nested models, shared layers) or an
            argument is invalid.
    """
    unknown = set(kwargs) - {"splines", "layer_range"}
    if unknown:
        raise TypeError(f"plot_model() got unexpected keyword argument(s) {sorted(unknown)}.")
    if kwargs.get("layer_range") is not None:
        raise ValueError("plot_model(layer_range=...) is not supported: plot the whole model.")
    if show_trainable or (expand_nested and _has_nested_model(model)):
        # Frozen/trainable marks and expanded nested models: drawn from engine.utils.model_to_dot's graph
        # (Graphviz's dot makes the picture; a .dot file needs nothing).
        from engine.utils.model_dot import model_to_dot, write_picture

        ext = os.path.splitext(os.fspath(to_file))[1].lower()
        if ext not in (".png", ".svg", ".pdf", ".dot"):
            raise ValueError(f"plot_model writes .png, .svg, .pdf or .dot files. Received: to_file={to_file!r}")
        dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                           show_layer_names=show_layer_names, rankdir=rankdir, expand_nested=expand_nested, dpi=dpi,
                           show_layer_activations=show_layer_activations, show_trainable=show_trainable, **kwargs)
        write_picture(dot, to_file, dpi=dpi)
        return None
    try:
        from visualkeras_app.export.core import ExportError, export_model
    except ImportError as e:
        raise ImportError("plot_model draws with visualkeras-app's diagram exporter, which could not be "
                          f"imported ({e}). Install it with `pip install visualkeras-app`.") from e
    from visualkeras_app.export import diagram

    ext = os.path.splitext(os.fspath(to_file))[1].lower()
    if ext not in (".png", ".svg", ".pdf", ".dot"):
        raise ValueError(f"plot_model writes .png, .svg, .pdf or .dot files. Received: to_file={to_file!r}")
    if ext != ".dot" and not diagram.graphviz_available():
        try:
            import PySide6  # noqa: F401  (the built-in renderer paints with Qt)
        except ImportError as e:
            raise ImportError("plot_model needs either Graphviz's 'dot' program or PySide6 (the app's own "
                              "renderer) to write a picture; neither is installed. Install one (`pip "
                              "install PySide6`, or Graphviz), or write the graph as .dot.") from e
    from visualkeras_app.document.convert import ConversionError

    try:
        export_model(model, to_file, style="graph", rankdir=rankdir, dpi=dpi, show_shapes=show_shapes,
                     show_dtype=show_dtype, show_layer_names=show_layer_names,
                     show_layer_activations=show_layer_activations, show_params=False, legend=False)
    except (ExportError, ConversionError) as e:
        raise ValueError(f"plot_model cannot draw model {getattr(model, 'name', model)!r}: {e}") from e
    return None


def _has_nested_model(model):
    from engine.models.model import Model

    return any(isinstance(layer, Model) for layer in getattr(model, "layers", []))
