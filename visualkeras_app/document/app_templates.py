"""Templates built from ``engine.applications``: File > New from Template > Applications > (every
keras.applications architecture), and the transfer-learning classifiers ("Image classifier from
MobileNetV2 / EfficientNetB0 / ResNet50").

An application template is built by the engine at its default input size, with the top, under
``shapes_only()`` (no weights are allocated or drawn) and converted into a document with Keras's layer
names. Two families differ from Keras's graph in form only: ConvNeXt's residual ``x + y`` becomes an Add
layer and MobileNetV3's hard sigmoid an Activation layer (the editor shows layers, not tensor operations),
and ConvNeXt's stem and downsampling Sequentials are laid out flat. A transfer-learning template is the application's
base (``include_top=False``), frozen (every base layer ``trainable=False``), then global average pooling,
dropout and a Dense softmax head sized to the data set's classes; its base weights come from Keras's
ImageNet file (downloaded with its hash on first use) or a local weights file: ``load_base_weights``.

Nothing here imports Qt. The names are listed here (not read from the engine) so that listing the
templates does not import torch.
"""
from __future__ import annotations

# keras.applications constructors, by family, in Keras's order.
APPLICATIONS = [
    "VGG16", "VGG19", "ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2", "ResNet152V2",
    "InceptionV3", "InceptionResNetV2", "Xception", "MobileNet", "MobileNetV2", "MobileNetV3Small",
    "MobileNetV3Large", "DenseNet121", "DenseNet169", "DenseNet201", "NASNetMobile", "NASNetLarge",
    *[f"EfficientNetB{i}" for i in range(8)],
    *[f"EfficientNetV2{s}" for s in ("B0", "B1", "B2", "B3", "S", "M", "L")],
    "ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtXLarge",
]
TRANSFER_BASES = ["MobileNetV2", "EfficientNetB0", "ResNet50"]
TRANSFER_PREFIX = "classifier_from_"
APPLICATIONS_GROUP = "Applications"
TRANSFER_GROUP = "Transfer Learning"

# The transfer-learning classifiers start at 32x32 RGB images (the smallest size the three bases accept,
# CIFAR-10's) and 10 classes; the input and the head's units are edited like any layer's.
TRANSFER_INPUT = (32, 32, 3)
TRANSFER_CLASSES = 10
TRANSFER_DROPOUT = 0.2


def application_templates():
    """(key, title, description, group) of every application template."""
    return [(name, name, f"keras.applications.{name} (Keras's layers and names, weights=None): "
                         "the architecture to study, edit or train from scratch.", APPLICATIONS_GROUP)
            for name in APPLICATIONS]


def transfer_templates():
    return [(f"{TRANSFER_PREFIX}{base}", f"Image classifier from {base}",
             f"A frozen {base} base (ImageNet weights, or a local weights file), global average pooling, "
             f"dropout and a Dense softmax head for the data set's classes; toggle 'trainable' per layer in the "
             "inspector to fine-tune.", TRANSFER_GROUP) for base in TRANSFER_BASES]


def is_application_key(key) -> bool:
    return key in APPLICATIONS or (isinstance(key, str) and key.startswith(TRANSFER_PREFIX)
                                   and key[len(TRANSFER_PREFIX):] in TRANSFER_BASES)


def build_application(name, **kwargs):
    """The engine's ``name`` model (weights=None unless given), one level deep: ConvNeXt's stem and
    downsampling Sequentials are built flat, with the same layers and names."""
    from engine import applications

    kwargs.setdefault("weights", None)
    if name.startswith("ConvNeXt"):
        from engine.applications import convnext

        size = name[len("ConvNeXt"):].lower()
        config = convnext.MODEL_CONFIGS[size]
        return convnext.ConvNeXt(config["depths"], config["projection_dims"], default_size=config["default_size"],
                                 name=f"convnext_{size}", weights_name=f"convnext_{size}",
                                 nested_downsampling=False, **kwargs)
    return getattr(applications, name)(**kwargs)


def transfer_model(base_name, input_shape=TRANSFER_INPUT, classes=TRANSFER_CLASSES, weights=None,
                   dropout=TRANSFER_DROPOUT):
    """The transfer-learning classifier as an engine model: ``base_name``'s layers (include_top=False,
    ``weights`` None, "imagenet" or a file), frozen, then GlobalAveragePooling2D, Dropout and Dense."""
    from engine import layers
    from engine.models import Model

    base = build_application(base_name, include_top=False, input_shape=tuple(input_shape), weights=weights)
    for layer in base.layers:
        layer.trainable = False
    x = layers.GlobalAveragePooling2D(name="head_pool")(base.outputs[0])
    x = layers.Dropout(dropout, name="head_dropout")(x)
    out = layers.Dense(classes, activation="softmax", name="head_predictions")(x)
    return Model(base.inputs, out, name=f"classifier_from_{base_name.lower()}")


def load_application_template(key, direction="TB"):
    """The document for an application or transfer-learning template key."""
    from engine import backend
    from engine.applications.imagenet_utils import ops_as_layers
    from engine.layers.layer import shapes_only

    from visualkeras_app.document.convert import model_to_document, release_model

    with shapes_only(), ops_as_layers(), backend.fresh_names():
        if key in APPLICATIONS:
            model = build_application(key)
        else:
            model = transfer_model(key[len(TRANSFER_PREFIX):])
    doc = model_to_document(model, layout_direction=direction, with_weights=False)
    release_model(model)  # freed now, not left to the cycle collector
    if key not in APPLICATIONS:
        # Fine-tuning settings: a small constant rate; the data set is the user's (32x32 RGB images or larger).
        doc.training = {"optimizer": "adam", "learning_rate": 0.001, "schedule": "constant", "epochs": 1,
                        "batch_size": 32}
    return doc


def base_layer_names(doc):
    """The names of a transfer-learning document's base layers (everything before the head)."""
    return [n.name for n in doc.nodes.values() if not n.name.startswith("head_") and not n.is_input]


def load_base_weights(doc, base_name, weights="imagenet"):
    """Put the base's weights into a transfer-learning document: ``weights="imagenet"`` downloads Keras's
    ImageNet file (checked against Keras's hash, into ``~/.keras/models/``; offline, the error names the
    file, its URL and where to copy it), or a path to a local ``.h5``/``.weights.h5`` file of the base
    (include_top=False). Returns the number of layers that received weights. In the window the three steps
    run apart: ``base_plan`` and ``apply_base_weights`` on the GUI thread, ``read_base_weights`` (the
    download and the model with its weights) on a worker."""
    return apply_base_weights(doc, read_base_weights(base_plan(doc, base_name), weights))


def base_plan(doc, base_name):
    """What reading a base's weights needs of a transfer-learning document: the base's name, the Input's
    shape, and the base's nodes (id, class name) in order."""
    inp = next(n for n in doc.nodes.values() if n.is_input)
    shape = tuple(inp.config.get("batch_shape") or inp.config.get("batch_input_shape"))[1:]
    nodes = [(n.id, n.class_name) for n in doc.nodes.values() if not n.is_input and not n.name.startswith("head_")]
    return base_name, shape, nodes


def read_base_weights(plan, weights="imagenet"):
    """``{node id: [arrays]}``: the weights of the plan's base (``base_plan``) from ``weights``. Reads no
    document, so it may run on any thread."""
    base_name, shape, nodes = plan
    base = build_application(base_name, include_top=False, input_shape=shape, weights=weights)
    # Paired by position: the document's base nodes are the base's layers in order (unnamed layers, such as
    # EfficientNet's rescaling, are numbered per session and may differ by name).
    layers = [layer for layer in base.layers if type(layer).__name__ != "InputLayer"]
    if [class_name for _, class_name in nodes] != [type(layer).__name__ for layer in layers]:
        raise ValueError(f"The document's base is no longer {base_name}'s layers in order (it was edited); "
                         "open the template again to load the base weights.")
    out = {}
    for (nid, _), layer in zip(nodes, layers):
        w = layer.get_weights()
        if w:
            out[nid] = w
    return out


def apply_base_weights(doc, arrays):
    """Put ``read_base_weights``'s arrays on their nodes, as a trained model's nodes hold them (one change:
    inference re-checks the weights against the shapes, listeners hear of it). Returns how many layers."""
    count = 0
    with doc.batch():
        for nid, w in arrays.items():
            node = doc.nodes.get(nid)
            if node is not None:
                node.weights = w
                count += 1
        doc._edited()
    return count
