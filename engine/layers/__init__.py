"""Layers with Keras's names. Every class is in the registry (``engine.layers.registry``)."""
from engine.layers.input_layer import Input, InputLayer
from engine.layers.layer import Layer
from engine.layers import op_layer  # noqa: F401 - registers OpLayer: ops on KerasTensors become its nodes
from engine.layers.node import KerasTensor
from engine.layers import registry
from engine.object_registration import CustomObjectScope as _CustomObjectScope

# Each module registers its classes on import; import order is the palette's order within a category.
from engine.layers.core import *  # noqa: F401,F403,E402
from engine.layers.convolution import *  # noqa: F401,F403,E402
from engine.layers.pooling import *  # noqa: F401,F403,E402
from engine.layers.reshaping import *  # noqa: F401,F403,E402
from engine.layers.normalization import *  # noqa: F401,F403,E402
from engine.layers.embedding import *  # noqa: F401,F403,E402
from engine.layers.recurrent import *  # noqa: F401,F403,E402
from engine.layers.conv_lstm import *  # noqa: F401,F403,E402
from engine.layers.merging import *  # noqa: F401,F403,E402
from engine.layers.attention import *  # noqa: F401,F403,E402
from engine.layers.activation_layers import *  # noqa: F401,F403,E402
from engine.layers.regularization import *  # noqa: F401,F403,E402
from engine.layers.preprocessing import *  # noqa: F401,F403,E402
from engine.layers.augmentation import *  # noqa: F401,F403,E402
from engine.layers.color_augmentation import *  # noqa: F401,F403,E402
from engine.layers.mixing_augmentation import *  # noqa: F401,F403,E402
from engine.layers.policy_augmentation import *  # noqa: F401,F403,E402
from engine.layers.bounding_boxes import *  # noqa: F401,F403,E402
from engine.layers.lookup import *  # noqa: F401,F403,E402
from engine.layers.hashing import *  # noqa: F401,F403,E402
from engine.layers.audio import *  # noqa: F401,F403,E402
from engine.layers.composite import *  # noqa: F401,F403,E402
from engine.layers.input_spec import InputSpec  # noqa: F401,E402


def get(class_name):
    """The layer class registered under ``class_name`` (ValueError listing valid names otherwise)."""
    return registry.get_class(class_name)


def serialize(layer):
    """A layer as Keras's config dict (``{"module", "class_name", "config", "registered_name"}``)."""
    return registry.serialize(layer)


def deserialize(config, custom_objects=None):
    """A new layer from ``serialize``'s dict; your own classes come from the registry or ``custom_objects``."""
    with _CustomObjectScope(custom_objects):
        return registry.deserialize(config)
