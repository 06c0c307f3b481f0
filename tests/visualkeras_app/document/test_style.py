"""The one home of how a layer looks (document/style.py): Qt-free, its categories the engine registry's."""
import subprocess
import sys

from engine.layers import registry
from visualkeras_app.document import style


def test_every_registry_category_has_its_own_colour_and_layers_take_the_registry_category():
    for category, names in registry.by_category().items():
        assert category in style.CATEGORY_COLORS
        for name in names:
            assert style.category_of(name) == ("Input" if name == "InputLayer" else category)
    assert style.category_of("InputLayer") == "Input"
    assert style.category_of("NoSuchLayer") == "Other"
    assert style.category_color("NoSuchCategory") == style.CATEGORY_COLORS["Other"]
    assert len(set(style.CATEGORY_COLORS.values())) == len(style.CATEGORY_COLORS)


def test_style_imports_neither_qt_nor_the_engine():
    code = ("import sys; import visualkeras_app.document.style; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'torch', 'engine')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_canvas_layout_and_editor_share_one_node_box():
    from visualkeras_app.canvas import node_item
    from visualkeras_app.document import layout
    from visualkeras_app.editor import controller

    assert node_item.NODE_WIDTH is style.NODE_WIDTH and controller.NODE_HEIGHT is style.NODE_HEIGHT
    assert (layout.NODE_W, layout.NODE_H) == (style.NODE_WIDTH, style.NODE_HEIGHT)
