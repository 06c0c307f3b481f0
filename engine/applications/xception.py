"""Xception (Chollet, 2017) with Keras's layer names, arguments and ImageNet weights."""
from engine.applications import imagenet_utils
from engine import layers

WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                "xception/xception_weights_tf_dim_ordering_tf_kernels.h5")
WEIGHTS_PATH_NO_TOP = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                       "xception/xception_weights_tf_dim_ordering_tf_kernels_notop.h5")
WEIGHTS_HASHES = ("0a58e3b7378bc2990ea3b43d5981f1f6", "b0042744bf5b25fce3cb969f33bebb97")  # md5: top, no top


def _sepconv_bn(x, filters, prefix, index, act_before=True):
    """[ReLU] + SeparableConv2D 3x3 (no bias) + BatchNormalization, named ``{prefix}_sepconv{index}...``."""
    if act_before:
        x = layers.Activation("relu", name=f"{prefix}_sepconv{index}_act")(x)
    x = layers.SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=f"{prefix}_sepconv{index}")(x)
    return layers.BatchNormalization(axis=-1, name=f"{prefix}_sepconv{index}_bn")(x)


def _downsampling_block(x, filters, prefix, first_act=True):
    """Two separable convolutions and a 3x3/2 max pooling, added to a strided 1x1 projection of the input.
    ``filters`` is (first, second)."""
    residual = layers.Conv2D(filters[1], (1, 1), strides=(2, 2), padding="same", use_bias=False)(x)
    residual = layers.BatchNormalization(axis=-1)(residual)
    x = _sepconv_bn(x, filters[0], prefix, 1, act_before=first_act)
    x = _sepconv_bn(x, filters[1], prefix, 2)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name=f"{prefix}_pool")(x)
    return layers.add([x, residual])


def Xception(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
             classes=1000, classifier_activation="softmax", name="xception"):
    """Xception as ``keras.applications.Xception`` (default 299x299, at least 71x71)."""
    imagenet_utils.check_weights_argument(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=299, min_size=71,
                                                    require_flatten=include_top, weights=weights)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)

    # Entry flow.
    x = layers.Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(img_input)
    x = layers.BatchNormalization(axis=-1, name="block1_conv1_bn")(x)
    x = layers.Activation("relu", name="block1_conv1_act")(x)
    x = layers.Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = layers.BatchNormalization(axis=-1, name="block1_conv2_bn")(x)
    x = layers.Activation("relu", name="block1_conv2_act")(x)
    x = _downsampling_block(x, (128, 128), "block2", first_act=False)
    x = _downsampling_block(x, (256, 256), "block3")
    x = _downsampling_block(x, (728, 728), "block4")

    # Middle flow: 8 identity blocks of three separable convolutions.
    for i in range(8):
        residual = x
        prefix = f"block{i + 5}"
        for j in (1, 2, 3):
            x = _sepconv_bn(x, 728, prefix, j)
        x = layers.add([x, residual])

    # Exit flow.
    x = _downsampling_block(x, (728, 1024), "block13")
    x = layers.SeparableConv2D(1536, (3, 3), padding="same", use_bias=False, name="block14_sepconv1")(x)
    x = layers.BatchNormalization(axis=-1, name="block14_sepconv1_bn")(x)
    x = layers.Activation("relu", name="block14_sepconv1_act")(x)
    x = layers.SeparableConv2D(2048, (3, 3), padding="same", use_bias=False, name="block14_sepconv2")(x)
    x = layers.BatchNormalization(axis=-1, name="block14_sepconv2_bn")(x)
    x = layers.Activation("relu", name="block14_sepconv2_act")(x)

    x = imagenet_utils.classifier(x, include_top, pooling, classes, classifier_activation, weights)
    model = imagenet_utils.functional(img_input, input_tensor, x, name)
    path = WEIGHTS_PATH if include_top else WEIGHTS_PATH_NO_TOP
    return imagenet_utils.load_weights(model, weights, path.rsplit("/", 1)[-1], path,
                                       WEIGHTS_HASHES[0 if include_top else 1])


def preprocess_input(x, data_format=None):
    """RGB [0, 255] to [-1, 1] ("tf" mode)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    return imagenet_utils.decode_predictions(preds, top=top)


decode_predictions.__doc__ = imagenet_utils.decode_predictions.__doc__
