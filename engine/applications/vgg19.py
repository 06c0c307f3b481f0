"""VGG19 (Simonyan & Zisserman, 2015) with Keras's layer names, arguments and ImageNet weights."""
from engine.applications import imagenet_utils
from engine.applications.vgg16 import build_vgg, decode_predictions, preprocess_input  # noqa: F401

WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                "vgg19/vgg19_weights_tf_dim_ordering_tf_kernels.h5")
WEIGHTS_PATH_NO_TOP = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                       "vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5")
WEIGHTS_HASHES = ("cbe5617147190e668d6c5d5026f83318", "253f8cb515780f3b799900260a226db6")  # md5: top, no top


def VGG19(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax", name="vgg19"):
    """VGG19 as ``keras.applications.VGG19`` (same arguments, layer names and weight files)."""
    return build_vgg((2, 2, 4, 4, 4), include_top, weights, input_tensor, input_shape, pooling, classes,
                     classifier_activation, name,
                     ((WEIGHTS_PATH, WEIGHTS_HASHES[0]), (WEIGHTS_PATH_NO_TOP, WEIGHTS_HASHES[1])))


__all__ = ["VGG19", "preprocess_input", "decode_predictions", "imagenet_utils"]
