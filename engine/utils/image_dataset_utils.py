"""``image_dataset_from_directory`` (``keras.utils.image_dataset_from_directory``) without TensorFlow."""
from __future__ import annotations

import functools
import warnings

import numpy as np
from PIL import Image

from engine.utils import dataset_utils, image_utils
from engine.utils.progbar import Progbar

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")

# Check the headers of this many files or more with a progress bar.
_PROGRESS_FROM = 2000


def image_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, color_mode="rgb",
                                 batch_size=32, image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear", follow_links=False,
                                 crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, data_format=None,
                                 format=None, verbose=True, workers=None):
    """Generates a dataset from image files in a directory.

    With ``main_directory/class_a/*.jpg`` and ``main_directory/class_b/*.jpg``,
    ``image_dataset_from_directory(main_directory, labels="inferred")`` yields batches of images from
    both subfolders with labels 0 (``class_a``) and 1 (``class_b``). Supported formats: ``.jpeg``,
    ``.jpg``, ``.png``, ``.bmp``, ``.gif`` (the first frame of an animation).

    Keras's arguments and semantics; the result is a ``DirectoryDataset`` (a ``PyDataset`` that
    ``fit``/``evaluate``/``predict`` accept and that can be iterated) instead of a ``tf.data.Dataset``.
    Files are listed and shuffled as Keras lists them (``file_paths`` is Keras's list for the same
    ``seed``), decoded with Pillow a batch at a time in worker threads and resized as
    ``tf.image.resize`` does. Unlike Keras, a file that is not a readable image does not stop
    training: it is left out, and one warning names the files left out.

    Args:
        directory: Where the data is. With ``labels="inferred"`` it holds one subfolder per class.
        labels: ``"inferred"`` (from the subfolder names), ``None`` (no labels), or a list/tuple
            of integer labels, one per image file in the sorted order of the paths (``os.walk``).
        label_mode: ``"int"`` (int32, shape ``(batch,)``), ``"categorical"`` (one-hot float32,
            ``(batch, num_classes)``), ``"binary"`` (float32 0/1, ``(batch, 1)``; exactly 2 classes)
            or ``None`` (no labels).
        class_names: Only with ``labels="inferred"``: the subfolders to use, in this order
            (default: all of them, in alphanumeric order).
        color_mode: ``"grayscale"``, ``"rgb"`` or ``"rgba"``: 1, 3 or 4 channels.
        batch_size: Images per batch (default 32); ``None`` yields single images.
        image_size: ``(height, width)`` (or one int) every image is resized to. Default ``(256, 256)``.
        shuffle: Shuffle the data (default True); otherwise the files are in alphanumeric order.
        seed: Seed of the shuffling. Required with ``validation_split`` and ``shuffle``.
        validation_split: Fraction of the files (0 to 1) kept for validation.
        subset: ``"training"``, ``"validation"`` or ``"both"`` (returns ``(train, validation)``);
            only with ``validation_split``.
        interpolation: ``"bilinear"``, ``"nearest"``, ``"bicubic"``, ``"area"``, ``"lanczos3"``,
            ``"lanczos5"``, ``"gaussian"`` or ``"mitchellcubic"``.
        follow_links: Descend into symbolically linked subfolders.
        crop_to_aspect_ratio: Resize without distortion, cropping the largest centred window of
            the target aspect ratio.
        pad_to_aspect_ratio: Resize without distortion, padding with zeros to the target aspect ratio.
        data_format: ``"channels_last"`` (default: images ``(batch, height, width, channels)``) or
            ``"channels_first"``.
        format: Keras's choice of ``"tf"`` or ``"grain"`` objects; accepted and ignored (there is
            one kind of dataset here).
        verbose: Print how many files and classes were found.
        workers: Threads decoding images (default: the number of CPUs, at most 8).

    Returns:
        A ``DirectoryDataset`` yielding ``(images, labels)`` (just ``images`` without labels), the
        images float32 with values 0-255 (also with ``interpolation="nearest"``, where TensorFlow
        keeps uint8), with ``class_names`` and ``file_paths`` attributes and the ``tf.data`` methods
        Keras examples call (``take``, ``skip``, ``map``, ``prefetch``, ``cache``,
        ``as_numpy_iterator``, ``cardinality``); or the pair (training, validation) with
        ``subset="both"``.
    """
    labels, label_mode = dataset_utils.check_labels_args(labels, label_mode, class_names, "image")
    num_channels = {"rgb": 3, "rgba": 4, "grayscale": 1}.get(color_mode)
    if num_channels is None:
        raise ValueError('`color_mode` must be one of {"rgb", "rgba", "grayscale"}. '
                         f"Received: color_mode={color_mode}")
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    elif not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError("Invalid `image_size` value. Expected a tuple of 2 integers. "
                         f"Received: image_size={image_size}")
    image_size = (int(image_size[0]), int(image_size[1]))
    interpolation = str(interpolation).lower()
    if interpolation not in image_utils.RESIZE_INTERPOLATIONS:
        raise ValueError(f"Argument `interpolation` should be one of {image_utils.RESIZE_INTERPOLATIONS}. "
                         f"Received: interpolation={interpolation}")
    if format not in (None, "tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set to `True`.")
    if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
        raise ValueError(f"`batch_size` must be a positive integer or None. Received: batch_size={batch_size!r}")
    dataset_utils.check_validation_split_arg(validation_split, subset, shuffle, seed)
    data_format = image_utils.standardize_data_format(data_format)

    if seed is None:
        seed = dataset_utils.draw_seed()
    image_paths, labels, class_names = dataset_utils.index_directory(
        directory, labels, formats=ALLOWLIST_FORMATS, class_names=class_names, shuffle=shuffle, seed=seed,
        follow_links=follow_links, verbose=verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 class_names. '
                         f"Received: class_names={class_names}")

    load = functools.partial(image_utils.load_and_resize, image_size=image_size, num_channels=num_channels,
                             interpolation=interpolation, data_format=data_format,
                             crop_to_aspect_ratio=crop_to_aspect_ratio, pad_to_aspect_ratio=pad_to_aspect_ratio)
    shape = (num_channels,) + image_size if data_format == "channels_first" else image_size + (num_channels,)

    def make(paths, labels_, subset_shuffle, name):
        paths, labels_, skipped = _drop_unreadable(paths, labels_, workers, verbose)
        if not paths:
            raise ValueError(f"No {name}images found in directory {directory}. Allowed formats: {ALLOWLIST_FORMATS}")
        return dataset_utils.DirectoryDataset(
            paths, labels_, label_mode, class_names, batch_size, subset_shuffle, seed, load,
            functools.partial(_stack, shape=shape), what="image", workers=workers, skipped=skipped)

    if subset == "both":
        train = dataset_utils.get_training_or_validation_split(image_paths, labels, validation_split, "training")
        val = dataset_utils.get_training_or_validation_split(image_paths, labels, validation_split, "validation")
        if not train[0]:
            raise ValueError(f"No training images found in directory {directory}. Allowed formats: {ALLOWLIST_FORMATS}")
        if not val[0]:
            raise ValueError(f"No validation images found in directory {directory}. "
                             f"Allowed formats: {ALLOWLIST_FORMATS}")
        return make(*train, shuffle, "training "), make(*val, False, "validation ")
    image_paths, labels = dataset_utils.get_training_or_validation_split(image_paths, labels, validation_split,
                                                                         subset)
    return make(image_paths, labels, shuffle, "")


def _stack(items, shape):
    return np.stack(items) if items else np.zeros((0,) + shape, np.float32)


def _header_problem(path):
    """Why ``path`` is not an image Pillow can open (``None`` if it is): reads only the header."""
    try:
        with Image.open(path) as img:
            width, height = img.size
            if width < 1 or height < 1:
                return f"empty image {width}x{height}"
    except Exception as e:  # not an image, unreadable, or a format Pillow does not know
        return dataset_utils.failure_reason(e, path)
    return None


def _drop_unreadable(paths, labels, workers, verbose):
    """Leaves out the files Pillow cannot open (their headers are read in worker threads); warns once."""
    pool = dataset_utils.thread_pool(workers or dataset_utils.default_workers())
    bar = Progbar(len(paths), verbose=1 if verbose and len(paths) >= _PROGRESS_FROM else 0)
    problems = []
    for done, problem in enumerate(pool.map(_header_problem, paths, chunksize=64), 1):
        problems.append(problem)
        if done % 256 == 0 or done == len(paths):
            bar.update(done)
    skipped = [(p, why) for p, why in zip(paths, problems) if why is not None]
    if not skipped:
        return paths, labels, []
    warnings.warn(dataset_utils.describe_skipped(skipped, len(paths), "image"), stacklevel=4)
    keep = [k for k, why in enumerate(problems) if why is None]
    return [paths[k] for k in keep], (labels[keep] if labels is not None else None), skipped
