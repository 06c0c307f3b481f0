"""``text_dataset_from_directory`` (``keras.utils.text_dataset_from_directory``) without TensorFlow."""
from __future__ import annotations

import functools

import numpy as np

from engine.utils import dataset_utils


def text_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, batch_size=32,
                                max_length=None, shuffle=True, seed=None, validation_split=None, subset=None,
                                follow_links=False, format=None, verbose=True, workers=None):
    """Generates a dataset from the ``.txt`` files in a directory (one subfolder per class).

    Keras's arguments and semantics (see ``image_dataset_from_directory`` for ``labels``,
    ``label_mode``, ``class_names``, ``shuffle``, ``seed``, ``validation_split``, ``subset`` and
    ``follow_links``); the files are listed in Keras's order for the same seed.

    Args:
        max_length: Keep at most this many bytes of each file (as Keras's ``tf.strings.substr``);
            ``None`` keeps everything.
        batch_size: Texts per batch (default 32); ``None`` yields single texts.
        format: Accepted for Keras compatibility and ignored.
        workers: Threads reading files (default: the number of CPUs, at most 8).

    Returns:
        A ``DirectoryDataset`` yielding ``(texts, labels)`` (just ``texts`` without labels):
        ``texts`` a NumPy array of Python ``str`` (dtype object; files are read as UTF-8, an
        invalid byte becomes U+FFFD) where Keras on TensorFlow gives ``tf.string`` bytes. With
        ``class_names`` and ``file_paths`` attributes; the pair (training, validation) with
        ``subset="both"``.
    """
    labels, label_mode = dataset_utils.check_labels_args(labels, label_mode, class_names, "text")
    if format not in (None, "tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')
    if max_length is not None and (not isinstance(max_length, (int, np.integer)) or max_length < 0):
        raise ValueError(f"`max_length` must be a non-negative integer or None. Received: max_length={max_length!r}")
    if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
        raise ValueError(f"`batch_size` must be a positive integer or None. Received: batch_size={batch_size!r}")
    dataset_utils.check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = dataset_utils.draw_seed()
    file_paths, labels, class_names = dataset_utils.index_directory(
        directory, labels, formats=(".txt",), class_names=class_names, shuffle=shuffle, seed=seed,
        follow_links=follow_links, verbose=verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 class_names. '
                         f"Received: class_names={class_names}")
    load = functools.partial(_read_text, max_length=max_length)

    def make(paths, labels_, subset_shuffle, name):
        if not paths:
            raise ValueError(f"No {name}text files found in directory {directory}. Allowed format: .txt")
        return dataset_utils.DirectoryDataset(paths, labels_, label_mode, class_names, batch_size, subset_shuffle,
                                              seed, load, _stack_texts, what="text", workers=workers)

    if subset == "both":
        train = dataset_utils.get_training_or_validation_split(file_paths, labels, validation_split, "training")
        val = dataset_utils.get_training_or_validation_split(file_paths, labels, validation_split, "validation")
        return make(*train, shuffle, "training "), make(*val, False, "validation ")
    file_paths, labels = dataset_utils.get_training_or_validation_split(file_paths, labels, validation_split, subset)
    return make(file_paths, labels, shuffle, "")


def _read_text(path, max_length=None):
    with open(path, "rb") as f:
        data = f.read() if max_length is None else f.read(max_length)
    return data.decode("utf-8", errors="replace")


def _stack_texts(items):
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out
