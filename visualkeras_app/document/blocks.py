"""Blocks of layers by Keras's naming: the layers of one residual/inverted-residual block share a name
prefix (``conv4_block2_`` in ResNet and DenseNet, ``block_3_`` in MobileNetV2, ``block2a_`` in
EfficientNet, ``expanded_conv_3_`` in MobileNetV3, ``block4_`` in VGG and Xception). The inspector's
"Freeze block"/"Unfreeze block" button sets ``trainable`` on every layer of the selected layer's block.
"""
from __future__ import annotations

import re

_BLOCK = re.compile(r"^(.*?(?:block|expanded_conv)(?:_\d+|[0-9a-z]*))_")


def block_of(name: str):
    """The block prefix of a layer name (``"conv4_block2"`` for ``"conv4_block2_1_conv"``), or None."""
    m = _BLOCK.match(name or "")
    return m.group(1) if m else None


def block_members(doc, block):
    """The ids of the nodes in ``block``, in document order."""
    return [nid for nid, n in doc.nodes.items() if not n.is_input and block_of(n.name) == block]


def block_trainable(doc, block):
    """True when every layer of the block trains, False when none does, None when mixed."""
    flags = {bool(doc.nodes[nid].config.get("trainable", True)) for nid in block_members(doc, block)}
    return flags.pop() if len(flags) == 1 else None


def set_block_trainable(controller, block, trainable: bool) -> int:
    """Set ``trainable`` on every layer of ``block`` as one undo step; returns how many layers changed."""
    doc = controller.document
    ids = [nid for nid in block_members(doc, block) if doc.nodes[nid].config.get("trainable", True) != trainable]
    if not ids:
        return 0
    controller.undo_stack.beginMacro(f"{'Unfreeze' if trainable else 'Freeze'} block {block}")
    try:
        with doc.batch():
            for nid in ids:
                controller.set_param(nid, "trainable", bool(trainable))
    finally:
        controller.undo_stack.endMacro()
    return len(ids)
