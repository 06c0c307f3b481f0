"""How a layer looks, in one place and free of Qt: the node box's size in scene units, the palette
categories' colours, and a layer class's category.

The canvas (``canvas/node_item.py``), the editor's placing rules (``editor/controller.py``), the
automatic layout (``document/layout.py``), the palette, the inspector and the diagram exports read these;
a layer's category itself comes from the engine's registry (``engine.layers.registry``), the one list of
layer classes.
"""
from __future__ import annotations

# The node box, in scene units: ``LayerNode.pos`` is its top-left corner.
NODE_WIDTH = 200.0
NODE_HEIGHT = 70.0

CATEGORY_COLORS = {
    "Input": "#37474F",
    "Core": "#3F7CC4",
    "Convolution": "#E8822A",
    "Pooling": "#3E9B55",
    "Recurrent": "#8E5DB5",
    "Normalization": "#2A9D9B",
    "Merge": "#C9A227",
    "Activation": "#A0662C",
    "Regularization": "#7D8790",
    "Attention": "#C2185B",
    "Preprocessing": "#5C6BC0",
    "Audio": "#00897B",
    "3D": "#D4572A",  # the palette section of the volume and video layers (their nodes keep their category)
    "Other": "#607D8B",
}


def category_of(class_name: str) -> str:
    """The palette category of a layer class: "Input" for InputLayer, the registry's category, or
    "Other" for a class the engine does not know."""
    if class_name == "InputLayer":
        return "Input"
    # Imported here for start-up time: the window shows before torch loads. A node exists only once
    # inference has loaded the engine, so the import is free by then.
    from engine.layers import registry

    try:
        return registry.category_of(class_name)
    except KeyError:
        return "Other"


def category_color(category: str) -> str:
    """The colour of a palette category ("Other"'s for one without its own)."""
    return CATEGORY_COLORS.get(category, CATEGORY_COLORS["Other"])
