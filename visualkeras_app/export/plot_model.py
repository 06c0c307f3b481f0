"""``engine.utils.plot_model``'s renderer, registered as the ``engine.plot_model`` entry point.

The engine never imports the app: it finds this function through the entry point when visualkeras-app
is installed, and otherwise draws through Graphviz itself. Here the app's diagram exporter draws the
model: with Graphviz's ``dot`` when it is installed, else with the app's own renderer (Qt, offscreen),
so neither pydot nor ``dot`` is needed.
"""
from __future__ import annotations

import os


def render(model, to_file, *, rankdir="TB", dpi=200, show_shapes=False, show_dtype=False, show_layer_names=False,
           show_layer_activations=False):
    """Draw ``model`` to ``to_file`` (.png/.svg/.pdf/.dot). ValueError when it cannot be drawn,
    ImportError when neither Graphviz nor PySide6 can make the picture."""
    from visualkeras_app.document.convert import ConversionError
    from visualkeras_app.export import diagram
    from visualkeras_app.export.core import ExportError, export_model

    ext = os.path.splitext(os.fspath(to_file))[1].lower()
    if ext != ".dot" and not diagram.graphviz_available():
        try:
            import PySide6  # noqa: F401  (the built-in renderer paints with Qt)
        except ImportError as e:
            raise ImportError("plot_model needs either Graphviz's 'dot' program or PySide6 (the app's own "
                              "renderer) to write a picture; neither is installed. Install one (`pip "
                              "install PySide6`, or Graphviz), or write the graph as .dot.") from e
    try:
        export_model(model, to_file, style="graph", rankdir=rankdir, dpi=dpi, show_shapes=show_shapes,
                     show_dtype=show_dtype, show_layer_names=show_layer_names,
                     show_layer_activations=show_layer_activations, show_params=False, legend=False)
    except (ExportError, ConversionError) as e:
        raise ValueError(f"plot_model cannot draw model {getattr(model, 'name', model)!r}: {e}") from e
