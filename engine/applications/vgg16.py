"""VGG16 (Simonyan & Zisserman, 2015) with Keras's layer names, arguments and ImageNet weights."""
from engine.applications import imagenet_utils
from engine import layers

WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5")
WEIGHTS_PATH_NO_TOP = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                       "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5")
WEIGHTS_HASHES = ("64373286793e3c8b2b4e3219cbf3544b", "6d6bbae143d832006294945121d1f1fc")  # md5: top, no top


def build_vgg(convs_per_block, include_top, weights, input_tensor, input_shape, pooling, classes,
              classifier_activation, name, weight_files):
    """VGG: five blocks of 3x3 'same' ReLU convolutions (64, 128, 256, 512, 512 filters) each ending in a
    2x2 max pooling, then Flatten and two 4096-unit Dense layers with the top."""
    imagenet_utils.check_weights_argument(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=224, min_size=32,
                                                    require_flatten=include_top, weights=weights)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)
    x = img_input
    for block, (filters, n) in enumerate(zip((64, 128, 256, 512, 512), convs_per_block), start=1):
        for i in range(1, n + 1):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same", name=f"block{block}_conv{i}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = imagenet_utils.pool(x, pooling)
    model = imagenet_utils.functional(img_input, input_tensor, x, name)
    (top_path, top_hash), (notop_path, notop_hash) = weight_files
    path, file_hash = (top_path, top_hash) if include_top else (notop_path, notop_hash)
    return imagenet_utils.load_weights(model, weights, path.rsplit("/", 1)[-1], path, file_hash)


def VGG16(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax", name="vgg16"):
    """VGG16 as ``keras.applications.VGG16`` (same arguments, layer names and weight files)."""
    return build_vgg((2, 2, 3, 3, 3), include_top, weights, input_tensor, input_shape, pooling, classes,
                     classifier_activation, name,
                     ((WEIGHTS_PATH, WEIGHTS_HASHES[0]), (WEIGHTS_PATH_NO_TOP, WEIGHTS_HASHES[1])))


def preprocess_input(x, data_format=None):
    """RGB [0, 255] to BGR minus the ImageNet mean ("caffe" mode)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    return imagenet_utils.decode_predictions(preds, top=top)


decode_predictions.__doc__ = imagenet_utils.decode_predictions.__doc__
