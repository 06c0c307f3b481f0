"""``keras.applications`` on the engine: every architecture with Keras's arguments, layer names and
weight order, so Keras's published ImageNet files (``weights="imagenet"``, downloaded once into
``~/.keras/models/`` and checked against Keras's hash) and Keras-saved weights files load as they are.

Each family's module has its ``preprocess_input`` and ``decode_predictions``, as in Keras::

    from engine.applications import resnet
    model = resnet.ResNet50(weights=None)
    probs = model.predict(resnet.preprocess_input(images))

Modules are imported on first use (importing this package builds nothing).
"""
import importlib
import difflib

# Constructor name -> module, as in keras.applications.
_CONSTRUCTORS = {
    "VGG16": "vgg16", "VGG19": "vgg19",
    "ResNet50": "resnet", "ResNet101": "resnet", "ResNet152": "resnet",
    "ResNet50V2": "resnet_v2", "ResNet101V2": "resnet_v2", "ResNet152V2": "resnet_v2",
    "InceptionV3": "inception_v3", "InceptionResNetV2": "inception_resnet_v2", "Xception": "xception",
    "MobileNet": "mobilenet", "MobileNetV2": "mobilenet_v2",
    "MobileNetV3Small": "mobilenet_v3", "MobileNetV3Large": "mobilenet_v3",
    "DenseNet121": "densenet", "DenseNet169": "densenet", "DenseNet201": "densenet",
    "NASNetMobile": "nasnet", "NASNetLarge": "nasnet",
    **{f"EfficientNetB{i}": "efficientnet" for i in range(8)},
    **{f"EfficientNetV2{s}": "efficientnet_v2" for s in ("B0", "B1", "B2", "B3", "S", "M", "L")},
    **{f"ConvNeXt{s}": "convnext" for s in ("Tiny", "Small", "Base", "Large", "XLarge")},
}
# Keras's module aliases (keras.applications.resnet50 is keras.applications.resnet).
_MODULES = sorted(set(_CONSTRUCTORS.values())) + ["imagenet_utils", "resnet50"]

__all__ = sorted(_CONSTRUCTORS) + _MODULES


def names():
    """Every architecture's constructor name, in Keras's spelling."""
    return list(_CONSTRUCTORS)


def module_of(name):
    """The module (e.g. ``engine.applications.resnet``) holding a constructor, with its preprocess_input."""
    if name not in _CONSTRUCTORS:
        near = difflib.get_close_matches(name, _CONSTRUCTORS, n=1)
        hint = f" Did you mean {near[0]!r}?" if near else ""
        raise ValueError(f"Unknown application {name!r}.{hint} Known: {', '.join(_CONSTRUCTORS)}.")
    return importlib.import_module(f"engine.applications.{_CONSTRUCTORS[name]}")


def __getattr__(name):
    if name in _CONSTRUCTORS:
        return getattr(module_of(name), name)
    if name == "resnet50":
        return importlib.import_module("engine.applications.resnet")
    if name in _MODULES:
        return importlib.import_module(f"engine.applications.{name}")
    raise AttributeError(f"module 'engine.applications' has no attribute {name!r}")
