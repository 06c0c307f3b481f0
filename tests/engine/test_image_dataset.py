"""engine.utils.image_dataset_from_directory against Keras 3, on a small image folder made on the fly.

Keras's ``image_dataset_from_directory`` returns a ``tf.data.Dataset`` (``format="tf"``, needs
TensorFlow) or a ``grain`` dataset (``format="grain"``, needs grain); neither is installed here,
so the tests run Keras's own pieces that need neither: ``dataset_utils.index_directory`` (the file
list, its shuffled order for a seed, labels and class names), ``get_training_or_validation_split``
and the per-image loader of the grain path, ``image_dataset_utils._load_image_grain`` (Pillow +
``keras.ops.image.resize``). Keras's torch resize is TensorFlow's for bilinear and nearest and for
the aspect-ratio crop, so those pixels must agree to float rounding; for bicubic (torch's a=-0.75
against TensorFlow's a=-0.5, which the engine follows) and padding (TensorFlow resizes then pads,
Keras-on-torch pads then resizes) they agree within a tolerance on smooth images.
"""
import math
import os
import tracemalloc
import warnings

import numpy as np
import pytest
from PIL import Image

from engine.utils import dataset_utils, image_dataset_from_directory, image_utils

SIZE = (24, 20)  # (height, width) the tests resize to


def _smooth_image(rng, height, width, channels):
    """A photo-like image: gradients and a disc (resizing noise would only test aliasing)."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    planes = []
    for _ in range(channels):
        a, b, c = rng.uniform(-3, 3, 3)
        plane = 128 + 60 * np.sin(a * yy / height + b * xx / width + c)
        cy, cx = rng.uniform(0.2, 0.8) * height, rng.uniform(0.2, 0.8) * width
        r = rng.uniform(0.15, 0.3) * min(height, width)
        plane += np.where((yy - cy) ** 2 + (xx - cx) ** 2 < r * r, rng.uniform(-50, 50), 0)
        planes.append(plane)
    arr = np.clip(np.stack(planes, -1), 0, 255).astype(np.uint8)
    return arr[..., 0] if channels == 1 else arr


def _save(path, arr, **kwargs):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(arr).save(path, **kwargs)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """cats: RGB PNGs of mixed sizes (one cut short); dogs: RGB and grayscale JPEGs and PNGs, an RGBA PNG,
    a palette GIF and one file that is not an image; zebras: two images (a small class). Also files
    that must be ignored: a text file in a class folder, an image at the top level, a hidden folder."""
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(16)
    for i in range(9):
        h, w = int(rng.integers(14, 60)), int(rng.integers(14, 60))
        _save(str(root / "cats" / f"cat_{i}.png"), _smooth_image(rng, h, w, 3))
    for i in range(5):
        h, w = int(rng.integers(14, 60)), int(rng.integers(14, 60))
        _save(str(root / "dogs" / f"dog_{i}.jpg"), _smooth_image(rng, h, w, 3), quality=90)
    for i in range(3):
        _save(str(root / "dogs" / "gray" / f"g_{i}.png"), _smooth_image(rng, 30 + i, 26, 1))
    _save(str(root / "dogs" / "dog_gray.jpeg"), _smooth_image(rng, 33, 41, 1))
    _save(str(root / "dogs" / "dog_rgba.png"), np.dstack([_smooth_image(rng, 25, 19, 3),
                                                           _smooth_image(rng, 25, 19, 1)]))
    Image.fromarray(_smooth_image(rng, 21, 29, 3)).convert("P").save(root / "dogs" / "dog_palette.GIF")
    for i in range(2):
        _save(str(root / "zebras" / f"z_{i}.BMP"), _smooth_image(rng, 40, 17, 3))
    # Broken files: random bytes named .jpg (no image header), and a PNG cut short (header fine, data not).
    (root / "dogs" / "broken.jpg").write_bytes(rng.integers(0, 256, 300, dtype=np.uint8).tobytes())
    full = (root / "cats" / "cat_0.png").read_bytes()
    (root / "cats" / "cut_short.png").write_bytes(full[:len(full) // 2])
    # Ignored.
    (root / "dogs" / "notes.txt").write_text("not an image")
    _save(str(root / "top_level.png"), _smooth_image(rng, 20, 20, 3))
    _save(str(root / ".hidden" / "h.png"), _smooth_image(rng, 20, 20, 3))
    return str(root)


BROKEN = ("broken.jpg",)          # found when the folder is scanned
CUT_SHORT = ("cut_short.png",)    # found when its batch is decoded


def _is(path, names):
    return os.path.basename(path) in names


def _keras_index(keras_mods, folder, **kwargs):
    kd, ki = keras_mods
    kwargs.setdefault("labels", "inferred")
    return kd.index_directory(folder, formats=ki.ALLOWLIST_FORMATS, **kwargs)


@pytest.fixture
def keras_mods(keras):
    from keras.src.utils import dataset_utils as kd
    from keras.src.utils import image_dataset_utils as ki

    return kd, ki


def _dataset(folder, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return image_dataset_from_directory(folder, **kwargs)


def _all_batches(ds):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(ds)


# ------------------------------------------------------------------------------------------
# Files, order, labels and class names


@pytest.mark.parametrize("shuffle, seed", [(False, None), (True, 7), (True, 123)])
def test_files_labels_and_classes_match_keras(keras_mods, folder, shuffle, seed, capsys):
    ds = _dataset(folder, image_size=SIZE, shuffle=shuffle, seed=seed, batch_size=5)
    printed = capsys.readouterr().out
    paths, labels, class_names = _keras_index(keras_mods, folder, shuffle=shuffle, seed=seed)
    assert ds.class_names == class_names == ["cats", "dogs", "zebras"]
    # Keras's message, counting every file found (the unreadable one too, as Keras does).
    assert f"Found {len(paths)} files belonging to 3 classes." in printed
    # Keras's order for the seed, less the file whose header is not an image's.
    keep = [k for k, p in enumerate(paths) if not _is(p, BROKEN)]
    assert ds.file_paths == [paths[k] for k in keep]
    assert [os.path.basename(p) for p, _ in ds.skipped_files] == list(BROKEN)
    if not shuffle:
        # No shuffling: batches come in file order; each label is Keras's label for that file.
        got = np.concatenate([y for _, y in _all_batches(ds)])
        want = np.asarray([labels[k] for k in keep if not _is(paths[k], CUT_SHORT)])
        np.testing.assert_array_equal(got, want)
        assert got.dtype == np.int32


def test_class_names_argument_and_explicit_labels(keras_mods, folder):
    ds = _dataset(folder, image_size=SIZE, class_names=["zebras", "cats"], shuffle=False)
    paths, labels, names = _keras_index(keras_mods, folder, class_names=["zebras", "cats"], shuffle=False)
    assert ds.class_names == names == ["zebras", "cats"]
    assert ds.file_paths == [p for p in paths if not _is(p, BROKEN)]
    got = np.concatenate([y for _, y in _all_batches(ds)])
    assert got.tolist() == [l for p, l in zip(paths, labels) if not _is(p, BROKEN + CUT_SHORT)]
    assert set(got.tolist()) == {0, 1}

    # labels as a list: one per file in sorted os.walk order of the whole tree.
    all_paths, _, _ = _keras_index(keras_mods, folder, labels=None, shuffle=False)
    given = [(i * 7) % 4 for i in range(len(all_paths))]
    ds = _dataset(folder, labels=given, image_size=SIZE, shuffle=True, seed=3)
    k_paths, k_labels, k_names = _keras_index(keras_mods, folder, labels=list(given), shuffle=True, seed=3)
    assert ds.class_names == k_names == ["0", "1", "2", "3"]
    assert ds.file_paths == [p for p in k_paths if not _is(p, BROKEN)]
    assert "top_level.png" in {os.path.basename(p) for p in ds.file_paths}
    with pytest.raises(ValueError, match="lengths of `labels`"):
        image_dataset_from_directory(folder, labels=given[:-1])
    with pytest.raises(ValueError, match="did not match the names of the subdirectories"):
        image_dataset_from_directory(folder, class_names=["cats", "horses"])


@pytest.mark.parametrize("subset", ["training", "validation", "both"])
def test_validation_split_matches_keras(keras_mods, folder, subset, capsys):
    kd, _ = keras_mods
    ds = _dataset(folder, image_size=SIZE, validation_split=0.3, subset=subset, seed=11)
    paths, labels, _ = _keras_index(keras_mods, folder, shuffle=True, seed=11)
    capsys.readouterr()
    train, _ = kd.get_training_or_validation_split(paths, labels, 0.3, "training")
    val, _ = kd.get_training_or_validation_split(paths, labels, 0.3, "validation")
    keras_printed = capsys.readouterr().out
    readable = lambda ps: [p for p in ps if not _is(p, BROKEN)]  # noqa: E731
    if subset == "both":
        tr, va = ds
        assert tr.file_paths == readable(train) and va.file_paths == readable(val)
        assert not set(tr.file_paths) & set(va.file_paths)
        assert tr.shuffle and not va.shuffle          # as Keras: the validation set is not shuffled
    else:
        assert ds.file_paths == readable(train if subset == "training" else val)
    assert len(train) + len(val) == len(paths) and len(val) == int(0.3 * len(paths))
    with pytest.raises(ValueError, match="must provide a `seed`"):
        image_dataset_from_directory(folder, validation_split=0.3, subset="training")
    with pytest.raises(ValueError, match="`validation_split` must be set"):
        image_dataset_from_directory(folder, subset="training", seed=1)
    assert "files for training." in keras_printed


# ------------------------------------------------------------------------------------------
# Pixels and shapes


def _keras_pixels(keras_mods, path, size, channels, interpolation="bilinear", **kwargs):
    _, ki = keras_mods
    return np.asarray(ki._load_image_grain(path, size, channels, interpolation, "channels_last", **kwargs))


@pytest.mark.parametrize("color_mode, channels", [("rgb", 3), ("grayscale", 1), ("rgba", 4)])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_pixels_match_keras(keras_mods, folder, color_mode, channels, interpolation):
    ds = _dataset(folder, image_size=SIZE, color_mode=color_mode, interpolation=interpolation, shuffle=False,
                  batch_size=4)
    batches = _all_batches(ds)
    shapes = [x.shape for x, _ in batches]
    n = len(ds.file_paths) - len(CUT_SHORT)
    assert all(x.dtype == np.float32 for x, _ in batches)
    assert sum(s[0] for s in shapes) == n and len(batches) == math.ceil(len(ds.file_paths) / 4)
    assert all(s[1:] == SIZE + (channels,) for s in shapes)
    images = np.concatenate([x for x, _ in batches])
    paths = [p for p in ds.file_paths if not _is(p, CUT_SHORT)]
    for img, path in zip(images, paths):
        ref = _keras_pixels(keras_mods, path, SIZE, channels, interpolation)
        np.testing.assert_allclose(img, ref, atol=2e-3, err_msg=path)


@pytest.mark.parametrize("option, interpolation, atol, mean_atol", [
    ("crop_to_aspect_ratio", "bilinear", 2e-3, 1e-3),   # the same crop box, the same resize
    (None, "bicubic", 8.0, 1.5),                        # Keys a=-0.5 (TensorFlow) vs a=-0.75 (torch)
])
def test_pixels_close_to_keras(keras_mods, folder, option, interpolation, atol, mean_atol):
    kwargs = {option: True} if option else {}
    ds = _dataset(folder, image_size=SIZE, interpolation=interpolation, shuffle=False, batch_size=None, **kwargs)
    paths = [p for p in ds.file_paths if not _is(p, CUT_SHORT)]
    items = _all_batches(ds)
    assert len(items) == len(paths)
    for (img, _), path in zip(items, paths):
        ref = _keras_pixels(keras_mods, path, SIZE, 3, interpolation, **kwargs)
        assert img.shape == ref.shape == SIZE + (3,)
        np.testing.assert_allclose(img, ref, atol=atol, err_msg=path)
        assert np.abs(img - ref).mean() < mean_atol, path


def test_pad_to_aspect_ratio_is_tensorflows_resize_with_pad(keras, folder):
    """TensorFlow (Keras's default) resizes to the largest size that fits, then pads with zeros;
    the resized part must be Keras's bilinear resize of the image to that size."""
    ds = _dataset(folder, image_size=SIZE, pad_to_aspect_ratio=True, shuffle=False, batch_size=None)
    paths = [p for p in ds.file_paths if not _is(p, CUT_SHORT)]
    for (img, _), path in zip(_all_batches(ds), paths):
        src = np.asarray(Image.open(path).convert("RGB"), np.float32)
        h, w = np.float32(src.shape[0]), np.float32(src.shape[1])
        ratio = max(w / np.float32(SIZE[1]), h / np.float32(SIZE[0]))
        rh, rw = int(np.floor(h / ratio)), int(np.floor(w / ratio))
        top = int(np.floor((np.float32(SIZE[0]) - h / ratio) / 2))
        left = int(np.floor((np.float32(SIZE[1]) - w / ratio) / 2))
        assert (rh == SIZE[0] or rw == SIZE[1]) and top >= 0 and left >= 0
        ref = keras.ops.convert_to_numpy(keras.ops.image.resize(src, (rh, rw), interpolation="bilinear"))
        np.testing.assert_allclose(img[top:top + rh, left:left + rw], ref, atol=2e-3, err_msg=path)
        outside = img.copy()
        outside[top:top + rh, left:left + rw] = 0
        assert not outside.any(), path


def test_pad_and_crop_geometry():
    # A 10x40 white image into 20x20: resized to 5x20 and padded: rows 7..11 white, the rest black.
    img = np.full((10, 40, 1), 255.0, np.float32)
    out = image_utils.resize_with_pad(img, (20, 20))
    assert out.shape == (20, 20, 1)
    rows = out[:, :, 0].mean(1)
    np.testing.assert_allclose(rows[7:12], 255.0)
    np.testing.assert_allclose(rows[:7], 0.0)
    np.testing.assert_allclose(rows[12:], 0.0)
    assert image_utils.crop_box(10, 40, (20, 20)) == (0, 15, 10, 10)
    assert image_utils.crop_box(40, 10, (10, 20)) == (17, 0, 5, 10)   # int((40 - 5) / 2)


@pytest.mark.parametrize("interpolation", image_utils.RESIZE_INTERPOLATIONS)
def test_resize_kernels(interpolation):
    rng = np.random.default_rng(0)
    const = np.full((13, 17, 2), 77.0, np.float32)
    for size in [(5, 6), (13, 17), (40, 9)]:
        np.testing.assert_allclose(image_utils.resize(const, size, interpolation), 77.0, rtol=1e-5)
    x = rng.uniform(0, 255, (12, 16, 3)).astype(np.float32)
    same = image_utils.resize(x, (12, 16), interpolation)
    if interpolation in ("gaussian", "mitchellcubic"):
        # Smoothing kernels blur even at the same size (as tf.image.resize): less variance, same mean.
        assert same.std() < x.std() and abs(same.mean() - x.mean()) < 3
    else:
        np.testing.assert_allclose(same, x, atol=1e-3)
    # Interpolating kernels reproduce a linear ramp away from the borders (bilinear and Keys cubic
    # exactly; Lanczos's normalised windowed sinc to a small ripple).
    ramp = np.tile(np.arange(30, dtype=np.float32)[None, :, None] * 3 + 5, (4, 1, 1))
    up = image_utils.resize(ramp, (4, 70), interpolation)[0, :, 0]
    if interpolation in ("bilinear", "bicubic", "lanczos3", "lanczos5"):
        centres = (np.arange(70) + 0.5) * 30 / 70 - 0.5
        inner = (centres > 5) & (centres < 24)
        tol = 0.1 if interpolation.startswith("lanczos") else 1e-3
        np.testing.assert_allclose(up[inner], centres[inner] * 3 + 5, atol=tol)


@pytest.mark.parametrize("interpolation, method", [("bilinear", "linear"), ("bicubic", "cubic"),
                                                   ("lanczos3", "lanczos3"), ("lanczos5", "lanczos5")])
def test_kernels_match_keras_scale_and_translate(keras, interpolation, method):
    """tf.image.resize(antialias=False) with these kernels is TensorFlow's ScaleAndTranslate at
    scale out/in and no translation; Keras's ops.image.scale_and_translate runs the same on torch."""
    x = np.random.default_rng(8).uniform(0, 255, (23, 37, 3)).astype(np.float32)
    for size in [(11, 50), (40, 17), (23, 37), (7, 9)]:
        scale = np.array([size[0] / 23, size[1] / 37], np.float32)
        ref = keras.ops.convert_to_numpy(keras.ops.image.scale_and_translate(
            x, size + (3,), scale, np.zeros(2, np.float32), (0, 1), method, antialias=False))
        np.testing.assert_allclose(image_utils.resize(x, size, interpolation), ref, atol=2e-3, err_msg=str(size))


def test_area_is_the_block_mean():
    x = np.random.default_rng(1).uniform(0, 255, (12, 18, 2)).astype(np.float32)
    want = x.reshape(4, 3, 6, 3, 2).mean((1, 3))
    np.testing.assert_allclose(image_utils.resize(x, (4, 6), "area"), want, rtol=1e-5)
    # A non-integer factor weighs the pixels a box overlaps by the overlap.
    row = np.array([[[0.0], [30.0], [60.0]]], np.float32)   # 1x3 -> 1x2: boxes [0, 1.5] and [1.5, 3]
    np.testing.assert_allclose(image_utils.resize(row, (1, 2), "area")[0, :, 0], [10.0, 50.0], rtol=1e-6)


@pytest.mark.parametrize("label_mode", ["int", "categorical", "binary", None])
def test_label_modes(keras_mods, folder, label_mode):
    class_names = ["cats", "zebras"] if label_mode == "binary" else None
    ints = _dataset(folder, image_size=SIZE, shuffle=False, batch_size=4, class_names=class_names)
    if label_mode is None:
        # No labels: as Keras, the whole tree is listed (the top-level image too), images only.
        ds = _dataset(folder, image_size=SIZE, shuffle=False, batch_size=4, label_mode=None)
        paths, labels, names = _keras_index(keras_mods, folder, labels=None, shuffle=False)
        assert labels is None and names is None and ds.class_names is None
        assert ds.file_paths == [p for p in paths if not _is(p, BROKEN)]
        batches = _all_batches(ds)
        assert all(isinstance(b, np.ndarray) and b.shape[1:] == SIZE + (3,) for b in batches)
        assert sum(len(b) for b in batches) == len(ds.file_paths) - len(CUT_SHORT)
        return
    ds = _dataset(folder, image_size=SIZE, shuffle=False, batch_size=4, label_mode=label_mode, class_names=class_names)
    for (xi, yi), batch in zip(_all_batches(ints), _all_batches(ds)):
        x, y = batch
        np.testing.assert_array_equal(x, xi)
        if label_mode == "int":
            assert y.dtype == np.int32 and y.shape == (len(x),)
            np.testing.assert_array_equal(y, yi)
        elif label_mode == "categorical":
            assert y.dtype == np.float32 and y.shape == (len(x), 3)
            np.testing.assert_array_equal(y.argmax(1), yi)
            np.testing.assert_array_equal(y.sum(1), 1.0)
        else:
            assert y.dtype == np.float32 and y.shape == (len(x), 1)
            np.testing.assert_array_equal(y[:, 0], yi)
    if label_mode == "binary":
        with pytest.raises(ValueError, match="exactly 2 class_names"):
            image_dataset_from_directory(folder, label_mode="binary")


def test_unbatched_and_channels_first(folder):
    ds = _dataset(folder, image_size=SIZE, batch_size=None, shuffle=False)
    items = _all_batches(ds)
    assert len(ds) == len(ds.file_paths) and len(items) == len(ds.file_paths) - len(CUT_SHORT)
    x, y = items[0]
    assert x.shape == SIZE + (3,) and np.ndim(y) == 0
    cf = _dataset(folder, image_size=SIZE, batch_size=3, shuffle=False, data_format="channels_first")
    xf, _ = cf[0]
    xl, _ = _dataset(folder, image_size=SIZE, batch_size=3, shuffle=False)[0]
    assert xf.shape == (3, 3) + SIZE
    np.testing.assert_array_equal(xf, xl.transpose(0, 3, 1, 2))
    assert _dataset(folder, image_size=9, batch_size=2, verbose=False, seed=1)[0][0].shape == (2, 9, 9, 3)


def test_follow_links_as_keras(keras_mods, tmp_path):
    rng = np.random.default_rng(6)
    for name in ("a", "b", "elsewhere/inner"):
        _save(str(tmp_path / "src" / name / "x.png"), _smooth_image(rng, 9, 9, 3))
    root = tmp_path / "data"
    root.mkdir()
    os.symlink(tmp_path / "src" / "a", root / "a")                          # a linked class folder
    (root / "b").mkdir()
    _save(str(root / "b" / "y.png"), _smooth_image(rng, 9, 9, 3))
    os.symlink(tmp_path / "src" / "elsewhere", root / "b" / "linked")      # a linked folder inside a class
    for follow in (False, True):
        ds = _dataset(str(root), image_size=(4, 4), shuffle=False, follow_links=follow)
        paths, labels, names = _keras_index(keras_mods, str(root), shuffle=False, follow_links=follow)
        assert ds.file_paths == paths and ds.class_names == names == ["a", "b"]
        assert len(paths) == (3 if follow else 2)


def test_every_pass_reshuffles_reproducibly(folder):
    a = _dataset(folder, image_size=(8, 8), batch_size=4, seed=5, color_mode="grayscale")
    b = _dataset(folder, image_size=(8, 8), batch_size=4, seed=5, color_mode="grayscale")
    firsts = [np.concatenate([x.reshape(len(x), -1) for x, _ in _all_batches(ds)]) for ds in (a, a, b)]
    assert not np.array_equal(firsts[0], firsts[1])                  # a new order on the second pass
    assert sorted(map(bytes, firsts[0])) == sorted(map(bytes, firsts[1]))  # of the same images
    np.testing.assert_array_equal(firsts[0], firsts[2])              # the same seed, the same first pass


# ------------------------------------------------------------------------------------------
# Unreadable files, streaming, training


def test_unreadable_files_are_skipped_with_one_warning_each(folder):
    with pytest.warns(UserWarning) as scan:
        ds = image_dataset_from_directory(folder, image_size=SIZE, shuffle=False, batch_size=64, verbose=False)
    msgs = [str(w.message) for w in scan if "could not be read" in str(w.message)]
    assert len(msgs) == 1
    assert msgs[0].startswith("Skipped 1 of ") and "broken.jpg" in msgs[0] and "cut_short" not in msgs[0]
    with pytest.warns(UserWarning) as decode:
        (x, y), = list(ds)
    msgs = [str(w.message) for w in decode if "could not be read" in str(w.message)]
    assert len(msgs) == 1 and "cut_short.png" in msgs[0] and msgs[0].startswith("Skipped 1 of ")
    assert len(x) == len(y) == len(ds.file_paths) - 1
    # Reported once: the next pass is silent.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(list(ds)[0][0]) == len(x)
    assert sorted(os.path.basename(p) for p, _ in ds.skipped_files) == ["broken.jpg", "cut_short.png"]


def test_streamed_one_batch_at_a_time(tmp_path):
    rng = np.random.default_rng(3)
    for i in range(96):
        _save(str(tmp_path / f"c{i % 2}" / f"{i}.png"), _smooth_image(rng, 20, 20, 3))
    one_image = 64 * 64 * 3 * 4
    tracemalloc.start()  # from before the dataset is made: nothing may be decoded ahead of time either
    try:
        ds = image_dataset_from_directory(str(tmp_path), image_size=(64, 64), batch_size=4, verbose=False, seed=1)
        seen = 0
        for x, _ in ds:
            seen += len(x)
            del x
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == 96
    # All 96 decoded images would take 96 x 48 KiB; the batch handed out, the one being put together
    # and the one read ahead take 12 (and their stacking copies a few more).
    assert peak < 30 * one_image, peak


def test_fit_evaluate_predict_take_the_dataset(tmp_path):
    from engine import layers, models

    rng = np.random.default_rng(4)
    for i in range(24):
        dark = i % 2 == 0
        img = np.clip(_smooth_image(rng, 16, 16, 3).astype(int) // 4 + (20 if dark else 180), 0, 255).astype(np.uint8)
        _save(str(tmp_path / ("dark" if dark else "light") / f"{i}.png"), img)
    train, val = image_dataset_from_directory(str(tmp_path), image_size=(8, 8), batch_size=4, seed=2,
                                              validation_split=0.25, subset="both", verbose=False)
    model = models.Sequential([layers.Input((8, 8, 3)), layers.Rescaling(1 / 255.0), layers.Flatten(),
                               layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train, validation_data=val, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and "val_accuracy" in history.history
    # Every batch after the first of each epoch was read while the model trained on the one before.
    assert len(train) == 5 and train._ahead_hits == 2 * (len(train) - 1)
    loss, acc = model.evaluate(val, verbose=0)
    assert math.isfinite(loss)
    probs = model.predict(val, verbose=0)
    assert probs.shape == (len(val.file_paths), 2)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)


def test_argument_errors(folder):
    for kwargs, match in [
        (dict(color_mode="cmyk"), "color_mode"),
        (dict(image_size=(1, 2, 3)), "image_size"),
        (dict(interpolation="hamming"), "interpolation"),
        (dict(label_mode="sparse"), "label_mode"),
        (dict(labels="folders"), "labels"),
        (dict(crop_to_aspect_ratio=True, pad_to_aspect_ratio=True), "Only one of"),
        (dict(validation_split=1.5, subset="training", seed=1), "between 0 and 1"),
        (dict(batch_size=0), "batch_size"),
    ]:
        with pytest.raises(ValueError, match=match):
            image_dataset_from_directory(folder, **kwargs)
    with pytest.raises(ValueError, match="does not exist"):
        image_dataset_from_directory(os.path.join(folder, "nowhere"))
    empty = os.path.join(folder, "..", "empty_for_test")
    os.makedirs(os.path.join(empty, "a"), exist_ok=True)
    with pytest.raises(ValueError, match="No images found"):
        image_dataset_from_directory(empty, verbose=False)


def test_scan_progress_bar_for_many_files(tmp_path, monkeypatch, capsys):
    from engine.utils import image_dataset_utils

    rng = np.random.default_rng(5)
    for i in range(6):
        _save(str(tmp_path / "a" / f"{i}.png"), _smooth_image(rng, 8, 8, 3))
    monkeypatch.setattr(image_dataset_utils, "_PROGRESS_FROM", 5)
    image_dataset_from_directory(str(tmp_path), image_size=(4, 4), seed=1)
    out = capsys.readouterr().out
    assert "Found 6 files belonging to 1 classes." in out and "6/6" in out
    image_dataset_from_directory(str(tmp_path), image_size=(4, 4), seed=1, verbose=False)
    assert capsys.readouterr().out == ""
    assert dataset_utils.describe_skipped([(f"f{i}", "bad") for i in range(12)], 20, "image").endswith("and 2 more.")


@pytest.mark.slow
def test_processes_under_torchrun_agree_on_the_order_without_a_seed(tmp_path):
    import json
    import subprocess
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    env = dict(os.environ, KERAS_BACKEND="torch", OMP_NUM_THREADS="1",
               PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for k in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(k, None)
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                             os.path.join(here, "image_dataset_distributed_script.py"), str(tmp_path / "imgs")],
                            capture_output=True, text=True, timeout=300, env=env, cwd=str(tmp_path))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    procs = []
    for rank in (0, 1):
        with open(tmp_path / f"imgs.rank{rank}.json") as f:
            procs.append(json.load(f))
    assert sorted(p["rank"] for p in procs) == [0, 1]
    assert procs[0]["files"] == procs[1]["files"] and len(procs[0]["files"]) == 20
    assert procs[0]["files"] != sorted(procs[0]["files"])      # shuffled, the same way on both


def test_a_batch_of_only_unreadable_files(tmp_path):
    rng = np.random.default_rng(7)
    for i in range(3):
        _save(str(tmp_path / "a" / f"{i}.png"), _smooth_image(rng, 30, 30, 3))
    full = (tmp_path / "a" / "0.png").read_bytes()
    (tmp_path / "a" / "0.png").write_bytes(full[:len(full) // 2])   # cut short: found when decoded
    ds = _dataset(str(tmp_path), image_size=(5, 5), batch_size=1, shuffle=False)
    assert len(ds) == 3
    with pytest.warns(UserWarning, match="0.png"):
        x, y = ds[0]          # fit needs a batch here: the next readable file stands in
    np.testing.assert_array_equal(x, ds[1][0])
    assert [len(b[0]) for b in _all_batches(ds)] == [1, 1]   # iterating leaves the batch out
    for name in ("1.png", "2.png"):
        (tmp_path / "a" / name).write_bytes(full[:len(full) // 2])
    ds = _dataset(str(tmp_path), image_size=(5, 5), batch_size=1, shuffle=False)
    with pytest.raises(OSError, match="No readable file is left"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds[0]


def test_palette_transparency_decodes_quietly(tmp_path):
    # Transparency given per palette entry (bytes): Pillow warns when such an image becomes RGB.
    Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8)).convert("P").save(
        tmp_path / "p.png", transparency=bytes([0, 128, 255]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = image_utils.decode_image_file(str(tmp_path / "p.png"), 3)
    assert x.shape == (8, 8, 3)


def test_tf_data_methods_keras_examples_call(tmp_path):
    rng = np.random.default_rng(9)
    for i in range(10):
        _save(str(tmp_path / f"c{i % 2}" / f"{i}.png"), _smooth_image(rng, 12, 12, 3))
    ds = image_dataset_from_directory(str(tmp_path), image_size=(6, 6), batch_size=3, seed=4, verbose=False)
    assert ds.cardinality() == len(ds) == 4 and ds.prefetch(8) is ds
    # take(1), as the examples plot their first batch: a new draw on every pass, as tf.data's.
    firsts = [x for _ in range(4) for x, _ in ds.take(1)]
    assert len(firsts) == 4 and all(f.shape == (3, 6, 6, 3) for f in firsts)
    assert any(not np.array_equal(firsts[0], f) for f in firsts[1:])
    taken = ds.take(2)
    assert len(taken) == 2 and taken.class_names == ["c0", "c1"] and taken.file_paths == ds.file_paths
    assert len(ds.take(-1)) == 4 and len(ds.take(9)) == 4 and len(ds.skip(3)) == 1 and len(ds.skip(7)) == 0
    # map runs on each batch; skip and take compose with it.
    # (two fresh datasets with the same seed take the same order on their first pass)
    fresh = lambda: image_dataset_from_directory(str(tmp_path), image_size=(6, 6), batch_size=3, seed=4,  # noqa: E731
                                                 verbose=False)
    plain = list(fresh())
    again = fresh()
    mapped = again.map(lambda x, y: (x / 255.0, y + 10))
    got = list(mapped.as_numpy_iterator())
    assert len(got) == 4
    for (x, y), (mx, my) in zip(plain, got):
        np.testing.assert_allclose(mx, x / 255.0)
        np.testing.assert_array_equal(my, y + 10)
    assert [len(x) for x, _ in again.skip(1).take(2)] == [3, 3]
    with pytest.raises(TypeError, match="callable"):
        ds.map(3)
    with pytest.raises(ValueError, match="in memory"):
        ds.cache("/tmp/somewhere")


def test_cache_reads_each_file_once(tmp_path):
    rng = np.random.default_rng(10)
    for i in range(7):
        _save(str(tmp_path / "a" / f"{i}.png"), _smooth_image(rng, 10, 10, 3))
    ds = image_dataset_from_directory(str(tmp_path), image_size=(5, 5), batch_size=2, seed=1,
                                      verbose=False).cache()
    first = sorted(map(bytes, np.concatenate([x for x, _ in ds])))
    for name in os.listdir(tmp_path / "a"):
        os.remove(tmp_path / "a" / name)       # gone: only the cache can give them now
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = sorted(map(bytes, np.concatenate([x for x, _ in ds])))
    assert second == first and len(second) == 7


def test_fit_takes_a_mapped_dataset(tmp_path):
    from engine import layers, models

    rng = np.random.default_rng(11)
    for i in range(8):
        _save(str(tmp_path / f"c{i % 2}" / f"{i}.png"), _smooth_image(rng, 8, 8, 3))
    ds = image_dataset_from_directory(str(tmp_path), image_size=(4, 4), batch_size=4, seed=1, verbose=False)
    scaled = ds.map(lambda x, y: (x / 255.0, y)).prefetch(2)
    model = models.Sequential([layers.Input((4, 4, 3)), layers.Flatten(), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    history = model.fit(scaled, epochs=1, verbose=0)
    assert math.isfinite(history.history["loss"][0])
    assert model.predict(scaled.take(1), verbose=0).shape == (4, 2)
