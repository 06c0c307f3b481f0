"""A folder of images as a data set: one subfolder per class, looked at first, then read for training.

``scan_folder`` looks at a folder without decoding any image (Pillow reads each file's header): the
classes and how many images each has, the image sizes and colour modes found, the files that are not
readable images, and a few files per class to show. ``load_folder`` reads it into a ``Dataset`` with a
held-out test set: the images are decoded a batch at a time by ``engine.utils.image_dataset_from_directory``
(worker threads, Pillow) and kept as uint8 (a quarter of the float32 batches the reader yields), at the
size and in the colour mode found by the scan, unless given.

Two layouts are understood::

    folder/cat/*.png, folder/dog/*.png                    the test set is held out: a fraction of each class
    folder/train/cat/*.png, folder/test/cat/*.png         the test set is the test/ folder ("val",
                                                          "validation" also name it)
"""
from __future__ import annotations

import collections
import os
import warnings
from dataclasses import dataclass, field

import numpy as np

# Held out of a folder without a test/ subfolder, from every class, as its test set.
FOLDER_TEST_FRACTION = 0.2
FOLDER_SEED = 1337
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_TEST_NAMES = ("test", "val", "validation", "valid")
_TRAIN_NAMES = ("train", "training")
# A class with fewer than this fraction of the largest class's images is called out as imbalanced.
IMBALANCE_RATIO = 0.5
_GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}


class FolderError(ValueError):
    """The folder is not a data set of images; the message says what is missing and how to lay it out."""


@dataclass
class FolderSummary:
    """What a folder of images holds, found without decoding the images.

    Attributes:
        path: The folder.
        class_names: The class subfolders, sorted (the label of a class is its index here).
        train_counts: Readable images per class in the training part (the whole folder without test/).
        test_counts: Readable images per class in test/ (empty without one).
        sizes: ``Counter`` of (height, width) over the readable images.
        modes: ``Counter`` of Pillow modes ("L", "RGB", "RGBA", "P"...).
        unreadable: ``(path, reason)`` of the files with an image extension that Pillow cannot open.
        samples: class name -> a few file paths of that class, to show.
        test_dir: The test subfolder, or None when the test set is held out of the images.
    """

    path: str
    class_names: list
    train_counts: list
    test_counts: list
    sizes: collections.Counter
    modes: collections.Counter
    unreadable: list = field(default_factory=list)
    samples: dict = field(default_factory=dict)
    test_dir: str | None = None
    train_dir: str = ""

    @property
    def num_images(self):
        return sum(self.train_counts) + sum(self.test_counts)

    @property
    def counts(self):
        """Images per class, training and test parts together."""
        return [a + (self.test_counts[i] if self.test_counts else 0) for i, a in enumerate(self.train_counts)]

    @property
    def image_size(self):
        """The most common (height, width): every image is read at this size."""
        return self.sizes.most_common(1)[0][0] if self.sizes else None

    @property
    def color_mode(self):
        """"grayscale" when every image is gray, else "rgb" (an alpha channel is dropped)."""
        return "grayscale" if self.modes and set(self.modes) <= _GRAY_MODES else "rgb"

    @property
    def channels(self):
        return 1 if self.color_mode == "grayscale" else 3

    @property
    def sample_shape(self):
        """The shape of one sample as ``load_folder`` gives it: (H, W) gray, (H, W, 3) colour."""
        h, w = self.image_size
        return (h, w) if self.channels == 1 else (h, w, 3)

    @property
    def input_shape(self):
        """The Input shape a model needs for these images: (H, W, channels)."""
        h, w = self.image_size
        return (h, w, self.channels)

    def imbalanced(self, ratio=IMBALANCE_RATIO):
        """The classes with fewer than ``ratio`` times the images of the largest class."""
        counts = self.counts
        top = max(counts, default=0)
        return [name for name, c in zip(self.class_names, counts) if c < ratio * top]

    def size_note(self):
        """"28x28" or "mostly 28x28 (950 of 1,000; the others are resized)"."""
        h, w = self.image_size
        n = sum(self.sizes.values())
        common = self.sizes[(h, w)]
        if common == n:
            return f"{w}x{h}"
        return f"mostly {w}x{h} ({common:,} of {n:,}; the others are resized to it)"

    def warnings(self):
        """Sentences a person should read before training on this folder."""
        out = []
        small = self.imbalanced()
        if small:
            counts = dict(zip(self.class_names, self.counts))
            top = max(self.counts)
            listed = ", ".join(f"{c} ({counts[c]:,})" for c in small[:5]) + ("…" if len(small) > 5 else "")
            out.append(f"Imbalanced classes: {listed} against {top:,} in the largest class. The model may learn "
                       "to favour the large classes; add images to the small ones, or read per-class accuracy "
                       "in the Results.")
        if self.unreadable:
            names = ", ".join(os.path.relpath(p, self.path) for p, _ in self.unreadable[:3])
            more = f" and {len(self.unreadable) - 3} more" if len(self.unreadable) > 3 else ""
            out.append(f"{len(self.unreadable)} file(s) are not readable images and are left out: {names}{more}.")
        if len(self.sizes) > 1:
            out.append(f"The images have {len(self.sizes)} different sizes; all are resized to {self.size_note()}.")
        empty = [c for c, n in zip(self.class_names, self.counts) if n == 0]
        if empty:
            out.append(f"No images in: {', '.join(empty)}.")
        return out


def _class_dirs(folder):
    return sorted(d for d in os.listdir(folder) if not d.startswith(".") and os.path.isdir(os.path.join(folder, d)))


def _split_layout(folder):
    """(training folder, test folder or None): a folder whose subfolders are train/ and test/ (or val/)."""
    subdirs = _class_dirs(folder)
    lowered = {d.lower(): d for d in subdirs}
    train = next((lowered[n] for n in _TRAIN_NAMES if n in lowered), None)
    test = next((lowered[n] for n in _TEST_NAMES if n in lowered), None)
    if train is not None and test is not None and len(subdirs) == 2:
        return os.path.join(folder, train), os.path.join(folder, test)
    return folder, None


def _list_images(folder, classes):
    """class index -> sorted image paths under folder/class (recursively, as Keras's index)."""
    out = {}
    for i, name in enumerate(classes):
        paths = []
        root_dir = os.path.join(folder, name)
        if os.path.isdir(root_dir):
            for root, _, files in sorted(os.walk(root_dir), key=lambda t: t[0]):
                paths.extend(os.path.join(root, f) for f in sorted(files) if f.lower().endswith(IMAGE_EXTENSIONS))
        out[i] = paths
    return out


def _header(path):
    """((height, width), mode) of an image file, or the reason it cannot be opened."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            w, h = img.size
            if w < 1 or h < 1:
                return f"empty image {w}x{h}"
            return (h, w), img.mode
    except Exception as e:  # not an image, truncated, a format Pillow does not know
        return f"{type(e).__name__}: {e}"


def scan_folder(path, samples_per_class=8) -> FolderSummary:
    """Look at a folder of images without decoding them; a ``FolderError`` says what is wrong with it."""
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise FolderError(f"{path}: not a folder. An image data set is a folder with one subfolder per class "
                          "(cats/*.png, dogs/*.png).")
    train_dir, test_dir = _split_layout(path)
    classes = _class_dirs(train_dir)
    if test_dir is not None:
        classes = sorted(set(classes) | set(_class_dirs(test_dir)))
    if len(classes) < 2:
        found = f"only the subfolder {classes[0]!r}" if classes else "no subfolders"
        raise FolderError(f"{path}: {found}; an image data set needs one subfolder per class, at least two "
                          "(e.g. cats/ and dogs/ holding .png or .jpg files).")
    parts = [(train_dir, _list_images(train_dir, classes))]
    if test_dir is not None:
        parts.append((test_dir, _list_images(test_dir, classes)))
    from engine.utils import dataset_utils

    sizes, modes, unreadable, samples = collections.Counter(), collections.Counter(), [], {}
    counts = []
    pool = dataset_utils.thread_pool(dataset_utils.default_workers())
    for _, by_class in parts:
        part_counts = []
        for i, name in enumerate(classes):
            good = 0
            for p, head in zip(by_class[i], pool.map(_header, by_class[i], chunksize=64)):
                if isinstance(head, str):
                    unreadable.append((p, head))
                    continue
                good += 1
                sizes[head[0]] += 1
                modes[head[1]] += 1
                shown = samples.setdefault(name, [])
                if len(shown) < samples_per_class:
                    shown.append(p)
            part_counts.append(good)
        counts.append(part_counts)
    if not sizes:
        raise FolderError(f"{path}: no readable images in its class subfolders ({', '.join(classes[:5])}); "
                          f"put .png, .jpg, .bmp or .gif files in them.")
    return FolderSummary(path, classes, counts[0], counts[1] if len(counts) > 1 else [], sizes, modes,
                         unreadable, samples, test_dir, train_dir)


def _read(folder, classes, image_size, color_mode, max_bytes, where):
    """(uint8 images, int64 labels) of folder/<class>/*, decoded a batch at a time."""
    from engine.utils import image_dataset_from_directory

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the scan has named the unreadable files
        ds = image_dataset_from_directory(folder, class_names=[c for c in classes if os.path.isdir(
            os.path.join(folder, c))], color_mode=color_mode, image_size=image_size, batch_size=256,
            shuffle=False, verbose=False)
        present = ds.class_names
        channels = 1 if color_mode == "grayscale" else 3
        n = len(ds.file_paths)
        if n * image_size[0] * image_size[1] * channels > max_bytes:
            raise FolderError(f"{where}: {n:,} images of {image_size[1]}x{image_size[0]} take "
                              f"{n * image_size[0] * image_size[1] * channels:,} bytes, over the limit of "
                              f"{max_bytes:,} (VISUALKERAS_MAX_DATA_BYTES raises it).")
        xs, ys = [], []
        for x, y in ds:
            xs.append(np.clip(np.rint(x), 0, 255).astype(np.uint8))
            ys.append(np.asarray(y, np.int64))
    x = np.concatenate(xs) if xs else np.zeros((0,) + tuple(image_size) + (channels,), np.uint8)
    # Labels index this folder's classes; map them to the data set's (a test/ folder may lack one).
    remap = np.asarray([classes.index(c) for c in present], np.int64)
    y = remap[np.concatenate(ys)] if ys else np.zeros(0, np.int64)
    if channels == 1:
        x = x[..., 0]
    return x, y


def load_folder(path, image_size=None, color_mode=None, test_fraction=FOLDER_TEST_FRACTION, seed=FOLDER_SEED,
                summary: FolderSummary | None = None):
    """A ``Dataset`` (``visualkeras_app.training.data``) of the images in ``path``.

    Args:
        path: A folder with one subfolder per class, or with train/ and test/ each holding them.
        image_size: (height, width) to read every image at; default the most common size in the folder.
        color_mode: "grayscale" or "rgb"; default grayscale when every image is gray.
        test_fraction: Without a test/ folder, the part of each class held out as the test set.
        seed: The seed choosing the held-out images (the same seed, the same split).
        summary: A ``scan_folder`` result for ``path`` already made (the preview's), to skip the scan.

    Raises:
        FolderError: Not a folder of images (the message says how to lay one out), or too large.
    """
    from engine.utils.file_utils import max_data_bytes
    from visualkeras_app.training.data import Dataset

    summary = summary or scan_folder(path)
    image_size = tuple(image_size or summary.image_size)
    color_mode = color_mode or summary.color_mode
    if color_mode not in ("grayscale", "rgb"):
        raise FolderError(f"color_mode must be 'grayscale' or 'rgb', not {color_mode!r}.")
    if not 0 < test_fraction < 1:
        raise FolderError(f"test_fraction must be between 0 and 1, not {test_fraction!r}.")
    classes = summary.class_names
    limit = max_data_bytes()
    x, y = _read(summary.train_dir, classes, image_size, color_mode, limit, path)
    if summary.test_dir is not None:
        x_test, y_test = _read(summary.test_dir, classes, image_size, color_mode, limit - x.nbytes, path)
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(x))
        x_train, y_train = x[order], y[order]
    else:
        # Stratified: each class gives the same fraction (at least one image) to the test set.
        rng = np.random.default_rng(seed)
        test_idx = []
        for k in range(len(classes)):
            idx = np.flatnonzero(y == k)
            if len(idx) < 2:
                continue
            n_test = max(1, int(round(len(idx) * test_fraction)))
            test_idx.append(rng.permutation(idx)[:n_test])
        test_idx = np.sort(np.concatenate(test_idx)) if test_idx else np.zeros(0, np.int64)
        mask = np.ones(len(x), bool)
        mask[test_idx] = False
        train_idx = rng.permutation(np.flatnonzero(mask))
        x_train, y_train, x_test, y_test = x[train_idx], y[train_idx], x[test_idx], y[test_idx]
    name = os.path.basename(os.path.normpath(path)) or path
    return Dataset(name, x_train, y_train, x_test, y_test, list(classes))
