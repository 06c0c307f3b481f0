"""The layer palette: placeholder before the engine loads, categories, search, drag mime, double-click."""
from PySide6.QtCore import Qt

from visualkeras_app.panels.palette import CLASS_ROLE, LAYER_MIME, PalettePanel, first_doc_line


def make(qtbot, populate=True):
    panel = PalettePanel()
    qtbot.addWidget(panel)
    panel.resize(260, 600)
    if populate:
        panel.populate()
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def test_placeholder_until_populated(qtbot):
    panel = make(qtbot, populate=False)
    assert not panel.loaded
    assert panel.tree.topLevelItemCount() == 1
    item = panel.tree.topLevelItem(0)
    assert item.text(0) == "Loading layers…"
    assert not item.flags() & Qt.ItemIsEnabled
    assert not panel.search.isEnabled()
    assert panel.layer_items() == []


def test_categories_follow_the_registry(qtbot):
    from engine.layers import registry

    panel = make(qtbot)
    assert panel.loaded and panel.search.isEnabled()
    assert panel.categories() == [c for c in registry.SECTIONS if c in registry.by_section()]
    three_d = panel.tree.topLevelItem(panel.categories().index("3D"))
    volume = {three_d.child(i).text(0) for i in range(three_d.childCount())}
    assert {"Conv3D", "MaxPooling3D", "ZeroPadding3D", "ConvLSTM3D", "UpSampling3D"} <= volume
    assert "Conv3DTranspose" in volume and all("3D" in name for name in volume)
    core = panel.tree.topLevelItem(panel.categories().index("Core"))
    core_names = [core.child(i).text(0) for i in range(core.childCount())]
    assert "Dense" in core_names and "InputLayer" in core_names
    names = {it.data(0, CLASS_ROLE) for it in panel.layer_items()}
    assert {"Conv2D", "LSTM", "Add", "Dropout", "BatchNormalization"} <= names
    assert "LSTMCell" not in names  # cells only live inside RNN wrappers


def test_tooltips_give_the_docstring_first_line(qtbot):
    from engine.layers import registry

    panel = make(qtbot)
    tip = panel.item_for("Conv2D").toolTip(0)
    assert first_doc_line(registry.get_class("Conv2D")) in tip
    assert "Conv2D" in tip


def test_search_filters_and_enter_adds_the_first_match(qtbot):
    panel = make(qtbot)
    qtbot.keyClicks(panel.search, "conv2d")
    visible = panel.visible_layers()
    assert "Conv2D" in visible and "Dense" not in visible
    assert all("conv2d" in v.lower() for v in visible)
    core = panel.tree.topLevelItem(panel.categories().index("Core"))
    assert core.isHidden()
    with qtbot.waitSignal(panel.layer_activated) as sig:
        qtbot.keyClick(panel.search, Qt.Key_Return)
    assert sig.args == [visible[0]]
    panel.search.clear()
    assert "Dense" in panel.visible_layers() and not core.isHidden()


def test_drag_mime_carries_the_class_name(qtbot):
    panel = make(qtbot)
    mime = panel.tree.mimeData([panel.item_for("MaxPooling2D")])
    assert mime.hasFormat(LAYER_MIME)
    assert bytes(mime.data(LAYER_MIME)).decode() == "MaxPooling2D"
    assert panel.tree.mimeData([panel.tree.topLevelItem(0)]) is None  # a category is not a layer
    assert panel.item_for("Dense").flags() & Qt.ItemIsDragEnabled


def test_double_click_activates_the_layer(qtbot):
    panel = make(qtbot)
    item = panel.item_for("Dense")
    panel.tree.scrollToItem(item)
    rect = panel.tree.visualItemRect(item)
    with qtbot.waitSignal(panel.layer_activated) as sig:
        # A real double-click is a click, then a second press that Qt reports as the double-click.
        qtbot.mouseClick(panel.tree.viewport(), Qt.LeftButton, pos=rect.center())
        qtbot.mouseDClick(panel.tree.viewport(), Qt.LeftButton, pos=rect.center())
    assert sig.args == ["Dense"]
    # A double-click on a category header adds nothing.
    top = panel.tree.topLevelItem(0)
    with qtbot.assertNotEmitted(panel.layer_activated):
        panel._on_activated(top)


def test_populate_reads_the_shipped_manifest(qtbot):
    from visualkeras_app.panels.palette_manifest import load_manifest

    panel = make(qtbot)
    assert panel.listing() == load_manifest()
    dense = panel.item_for("Dense")
    assert dense.parent().text(0) == "Core" and not dense.parent().icon(0).isNull()  # the category's swatch
    assert "<b>Dense</b>" in dense.toolTip(0)


def test_without_a_manifest_the_placeholder_waits_for_the_registry(qtbot, monkeypatch, tmp_path):
    from visualkeras_app.panels import palette_manifest

    monkeypatch.setattr(palette_manifest, "manifest_path", lambda: str(tmp_path / "missing.json"))
    panel = make(qtbot, populate=False)
    assert panel.populate_from_manifest() is False
    assert not panel.loaded and panel.tree.topLevelItem(0).text(0) == "Loading layers…"
    assert panel.sync_with_registry() is True  # the engine has loaded: the registry fills it
    assert panel.loaded and panel.listing() == palette_manifest.registry_listing()


def test_sync_with_registry_fixes_a_stale_list_and_keeps_the_search(qtbot):
    from visualkeras_app.panels.palette_manifest import registry_listing

    panel = make(qtbot, populate=False)
    registry = registry_listing()
    panel.populate({"Core": [("Dense", "an old tooltip")], "Retired": [("OldLayer", "gone from the engine")]})
    qtbot.keyClicks(panel.search, "conv")
    assert panel.sync_with_registry() is True
    assert panel.listing() == registry and panel.item_for("OldLayer") is None
    visible = panel.visible_layers()
    assert "Conv2D" in visible and "Dense" not in visible  # the search still applies
    item = panel.item_for("Conv2D")
    assert panel.sync_with_registry() is False and panel.item_for("Conv2D") is item  # in step: left alone
