"""The editor's Qt-free document: the layer graph, shape inference, conversion to and from engine models, layout, code, project files and templates."""
