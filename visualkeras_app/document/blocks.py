"""Blocks of layers by Keras's naming: the layers of one residual/inverted-residual block share a name
prefix (``conv4_block2_`` in ResNet and DenseNet, ``block_3_`` in MobileNetV2, ``block2a_`` in
EfficientNet, ``expanded_conv_3_`` in MobileNetV3, ``block4_`` in VGG and Xception). The inspector's
"Freeze block"/"Unfreeze block" button sets ``trainable`` on every layer of the selected layer's block.

Fine-tuning (Train ▸ Fine-tune the Top Layers) unfreezes the last ``FINE_TUNE_LAYERS`` frozen layers, as the
keras.io fine-tuning examples do: BatchNormalization layers stay frozen (their statistics would drift on a
small data set and undo what the base learned).
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


FINE_TUNE_LAYERS = 20


def fine_tune_candidates(doc, count=FINE_TUNE_LAYERS):
    """The ids of the last ``count`` frozen layers with weights (document order) that fine-tuning unfreezes;
    frozen BatchNormalization layers are passed over and stay frozen, and layers without weights (ReLU,
    padding) do not count."""
    params = doc.result.params if doc.result is not None and doc.result.params else {}

    def has_weights(nid):
        p = params.get(nid)
        return not isinstance(p, int) or p > 0  # unknown counts as having some

    frozen = [nid for nid, n in doc.nodes.items() if not n.is_input and n.config.get("trainable", True) is False
              and n.class_name != "BatchNormalization" and has_weights(nid)]
    return frozen[-count:] if count > 0 else []


def unfreeze_top(controller, count=FINE_TUNE_LAYERS) -> list:
    """Set ``trainable`` on ``fine_tune_candidates`` as one undo step; returns their ids."""
    doc = controller.document
    ids = fine_tune_candidates(doc, count)
    if not ids:
        return []
    controller.undo_stack.beginMacro(f"Unfreeze the top {len(ids)} frozen layers")
    try:
        with doc.batch():
            for nid in ids:
                controller.set_param(nid, "trainable", True)
    finally:
        controller.undo_stack.endMacro()
    return ids
