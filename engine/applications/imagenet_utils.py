"""What every ``keras.applications`` family shares: the input-shape rules, ImageNet preprocessing
(the "caffe", "tf" and "torch" modes), ``decode_predictions`` and the weights download.

Channels-last only: the engine's images are ``(batch, height, width, channels)``.
"""
from __future__ import annotations

import contextlib
import contextvars
import json
import os
import warnings

import numpy as np

from engine import activations, backend, layers, ops
from engine.models import Model
from engine.utils import get_file
from engine.utils.data_adapter_utils import get_source_inputs
import torch

_OPS_AS_LAYERS = contextvars.ContextVar("ops_as_layers", default=False)


@contextlib.contextmanager
def ops_as_layers():
    """Inside, the few tensor operations of Keras's builders (ConvNeXt's residual ``x + y``, MobileNetV3's
    hard sigmoid ``relu6(x + 3) / 6``) are built as layers (Add, Activation("hard_sigmoid")): the same
    function, in a graph of layers only, which the editor can show and the engine can save."""
    token = _OPS_AS_LAYERS.set(True)
    try:
        yield
    finally:
        _OPS_AS_LAYERS.reset(token)


def building_ops_as_layers() -> bool:
    return _OPS_AS_LAYERS.get()


CLASS_INDEX = None
CLASS_INDEX_PATH = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"  # md5, Keras's published value

_CAFFE_MEAN = (103.939, 116.779, 123.68)  # BGR
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)


def _check_data_format(data_format):
    data_format = data_format or backend.image_data_format()
    if data_format != "channels_last":
        raise ValueError(f"engine.applications works on channels_last images (batch, height, width, channels); "
                         f"received data_format={data_format!r}. Transpose the images to channels_last.")
    return data_format


def preprocess_input(x, data_format=None, mode="caffe"):
    """Scale a batch of RGB images in [0, 255] as a family's ImageNet weights expect.

    Args:
        x: a float NumPy array or tensor, 3D or 4D, channels last. A float NumPy array is changed in place,
            as in Keras (pass ``np.copy(x)`` to keep it).
        data_format: must be ``"channels_last"`` (or None).
        mode: ``"caffe"`` (RGB to BGR, minus the ImageNet mean per channel), ``"tf"`` (to [-1, 1]),
            ``"torch"`` (to [0, 1], then the ImageNet mean and standard deviation per channel).
    """
    if mode not in {"caffe", "tf", "torch"}:
        raise ValueError(f"Expected mode to be one of `caffe`, `tf` or `torch`. Received: mode={mode}")
    _check_data_format(data_format)
    if isinstance(x, np.ndarray):
        if not issubclass(x.dtype.type, np.floating):
            x = x.astype(backend.floatx(), copy=False)
        if mode == "tf":
            x /= 127.5
            x -= 1.0
            return x
        if mode == "torch":
            x /= 255.0
            x -= np.asarray(_TORCH_MEAN, dtype=x.dtype)
            x /= np.asarray(_TORCH_STD, dtype=x.dtype)
            return x
        x = x[..., ::-1]
        x -= np.asarray(_CAFFE_MEAN, dtype=x.dtype)
        return x
    if not torch.is_tensor(x):
        return preprocess_input(np.array(ops.convert_to_numpy(x), dtype="float32"), data_format, mode)
    if not x.is_floating_point():
        x = x.float()
    if mode == "tf":
        return x / 127.5 - 1.0
    if mode == "torch":
        return (x / 255.0 - torch.tensor(_TORCH_MEAN, dtype=x.dtype, device=x.device)) / \
            torch.tensor(_TORCH_STD, dtype=x.dtype, device=x.device)
    return torch.flip(x, dims=(-1,)) - torch.tensor(_CAFFE_MEAN, dtype=x.dtype, device=x.device)


def _class_index():
    global CLASS_INDEX
    if CLASS_INDEX is None:
        path = get_file("imagenet_class_index.json", CLASS_INDEX_PATH, cache_subdir="models",
                        file_hash=CLASS_INDEX_HASH)
        with open(path, encoding="utf-8") as f:
            CLASS_INDEX = json.load(f)
    return CLASS_INDEX


def decode_predictions(preds, top=5):
    """The ``top`` ImageNet classes of each prediction, as ``(class_id, name, score)`` tuples, best first.

    The class names come from Keras's ``imagenet_class_index.json`` (downloaded once into
    ``~/.keras/models/`` with its published hash).
    """
    if not isinstance(preds, np.ndarray):
        preds = np.asarray(ops.convert_to_numpy(preds))
    if len(preds.shape) != 2 or preds.shape[1] != 1000:
        raise ValueError("`decode_predictions` expects a batch of predictions (i.e. a 2D array of shape "
                         f"(samples, 1000)). Received array with shape: {preds.shape}")
    index = _class_index()
    results = []
    for pred in preds:
        top_indices = pred.argsort()[-top:][::-1]
        result = [tuple(index[str(i)]) + (pred[i],) for i in top_indices]
        result.sort(key=lambda r: r[2], reverse=True)
        results.append(result)
    return results


def obtain_input_shape(input_shape, default_size, min_size, data_format=None, require_flatten=True,
                       weights=None):
    """The model's input shape, checked as Keras checks it (channels last)."""
    _check_data_format(data_format)
    if input_shape is not None:
        input_shape = tuple(input_shape)
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        if input_shape[-1] not in {1, 3}:
            warnings.warn("This model usually expects 1 or 3 input channels. However, it was passed an "
                          f"input_shape with {input_shape[-1]} input channels.", stacklevel=3)
        default_shape = (default_size, default_size, input_shape[-1])
    else:
        default_shape = (default_size, default_size, 3)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and input_shape != default_shape:
            raise ValueError("When setting `include_top=True` and loading `imagenet` weights, `input_shape` "
                             f"should be {default_shape}.  Received: input_shape={input_shape}")
        return default_shape
    if input_shape:
        if len(input_shape) != 3:
            raise ValueError(f"`input_shape` must be a tuple of three integers. Received: input_shape={input_shape}")
        if input_shape[-1] != 3 and weights == "imagenet":
            raise ValueError(f"The input must have 3 channels; Received `input_shape={input_shape}`")
        if (input_shape[0] is not None and input_shape[0] < min_size) or \
                (input_shape[1] is not None and input_shape[1] < min_size):
            raise ValueError(f"Input size must be at least {min_size}x{min_size}; Received: "
                             f"input_shape={input_shape}")
    else:
        input_shape = default_shape if require_flatten else (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError("If `include_top` is True, you should specify a static `input_shape`. "
                         f"Received: input_shape={input_shape}")
    return input_shape


def correct_pad(inputs, kernel_size):
    """Zero padding ``((top, bottom), (left, right))`` that makes a strided 'valid' convolution match
    TensorFlow's 'same' on an input of this size."""
    size = tuple(inputs.shape[1:3])
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    adjust = (1, 1) if size[0] is None else (1 - size[0] % 2, 1 - size[1] % 2)
    correct = (kernel_size[0] // 2, kernel_size[1] // 2)
    return (correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1])


def validate_activation(classifier_activation, weights):
    """Pretrained weights allow only a softmax or no activation on the classifier."""
    if weights is None:
        return
    act = activations.get(classifier_activation)
    if act not in {activations.get("softmax"), activations.get(None)}:
        raise ValueError("Only `None` and `softmax` activations are allowed for the `classifier_activation` "
                         "argument when using pretrained weights, with `include_top=True`; Received: "
                         f"classifier_activation={classifier_activation}")


def check_weights_argument(weights, include_top, classes, name="imagenet"):
    """Keras's argument checks: ``weights`` is None, "imagenet" or an existing file; 1000 classes with
    ImageNet weights and the top."""
    if not (weights in {name, None} or (isinstance(weights, (str, os.PathLike)) and os.path.exists(weights))):
        raise ValueError("The `weights` argument should be either `None` (random initialization), "
                         f"'{name}' (pre-training on ImageNet), or the path to the weights file to be loaded. "
                         f"Received: weights={weights} (no such file)")
    if weights == name and include_top and classes != 1000:
        raise ValueError("If using `weights='imagenet'` with `include_top=True`, `classes` should be 1000. "
                         f"Received classes={classes}")


def image_input(input_tensor, input_shape):
    """The model's Input: a new one of ``input_shape``, or ``input_tensor`` when given."""
    if input_tensor is None:
        return layers.Input(shape=input_shape)
    if not backend.is_keras_tensor(input_tensor):
        raise ValueError("`input_tensor` must be a symbolic tensor, such as the output of `engine.Input(...)` or "
                         f"of a layer called on one. Received: {type(input_tensor).__name__}")
    return input_tensor


def source_inputs(img_input, input_tensor):
    """The Inputs a model built on ``input_tensor`` starts from."""
    if input_tensor is None:
        return img_input
    return get_source_inputs(input_tensor)


def pool(x, pooling):
    """``include_top=False``'s optional global pooling ("avg", "max" or None)."""
    if pooling == "avg":
        return layers.GlobalAveragePooling2D()(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D()(x)
    if pooling is not None:
        raise ValueError(f"pooling must be None, 'avg' or 'max'. Received: pooling={pooling!r}")
    return x


def load_weights(model, weights, fname=None, origin=None, file_hash=None):
    """Load ``weights``: "imagenet" downloads Keras's published file into ``~/.keras/models/`` (checked
    against its hash; offline, the error names the file, its URL and the folder to copy it to); any
    other string is a local ``.h5``/``.weights.h5``/``.keras`` file."""
    if weights is None:
        return model
    if weights == "imagenet":
        if origin is None:
            raise ValueError(f"{model.name} has no published ImageNet weights for these arguments; "
                             "use weights=None or a local weights file.")
        path = get_file(fname, origin, cache_subdir="models", file_hash=file_hash)
    else:
        path = os.fspath(weights)
    model.load_weights(path)
    return model


def classifier(x, include_top, pooling, classes, classifier_activation, weights, pool_names=(None, None),
               dropout=None, top_pool="avg_pool"):
    """The usual tail: global average pooling (named ``top_pool``), optional dropout and the
    ``predictions`` Dense with the top; otherwise the optional global pooling, whose (avg, max) layers
    ``pool_names`` names."""
    if include_top:
        x = layers.GlobalAveragePooling2D(name=top_pool)(x)
        if dropout:
            x = layers.Dropout(dropout, name="top_dropout")(x)
        validate_activation(classifier_activation, weights)
        return layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name=pool_names[0])(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name=pool_names[1])(x)
    return pool(x, pooling)


def functional(img_input, input_tensor, outputs, name):
    """The application's functional model from its input (or ``input_tensor``'s sources) to ``outputs``."""
    return Model(source_inputs(img_input, input_tensor), outputs, name=name)
