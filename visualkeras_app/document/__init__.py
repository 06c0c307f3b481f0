"""The editor's Qt-free document: the layer graph, shape inference, conversion to and from engine models, layout, code, project files and templates."""

# Every Document gets a ShapeInference that listens to its edits (graph.py cannot import inference.py, which
# imports it): importing the package registers it.
from visualkeras_app.document import inference  # noqa: E402,F401
