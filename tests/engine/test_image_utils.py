"""engine.utils load_img / img_to_array / array_to_img / save_img / smart_resize against Keras 3's."""
import io

import numpy as np
import pytest
from PIL import Image, UnidentifiedImageError

from engine.utils import array_to_img, image_utils, img_to_array, load_img, save_img


@pytest.fixture
def image_file(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "photo.png"
    Image.fromarray(rng.integers(0, 256, (23, 31, 3), dtype=np.uint8)).save(path)
    return path


@pytest.mark.parametrize("kwargs", [
    {},
    dict(color_mode="grayscale"),
    dict(color_mode="rgba", target_size=(10, 12)),
    dict(target_size=(16, 9), interpolation="bilinear"),
    dict(target_size=(16, 9), interpolation="lanczos", keep_aspect_ratio=True),
    dict(target_size=(8, 20), interpolation="box", keep_aspect_ratio=True),
])
def test_load_img_and_img_to_array_match_keras(keras, image_file, kwargs):
    ours = load_img(image_file, **kwargs)
    ref = keras.utils.load_img(image_file, **kwargs)
    assert ours.mode == ref.mode and ours.size == ref.size
    a, b = img_to_array(ours), keras.utils.img_to_array(ref)
    assert a.dtype == b.dtype == np.float32 and a.shape == b.shape
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(img_to_array(ours, data_format="channels_first"),
                                  keras.utils.img_to_array(ref, data_format="channels_first"))
    # From bytes in memory and from a str path too.
    with open(image_file, "rb") as f:
        np.testing.assert_array_equal(img_to_array(load_img(io.BytesIO(f.read()), **kwargs)), a)
    np.testing.assert_array_equal(img_to_array(load_img(str(image_file), **kwargs)), a)


@pytest.mark.parametrize("shape, scale", [((6, 7, 3), True), ((6, 7, 1), False), ((6, 7, 4), True),
                                          ((6, 7, 1), True)])
def test_array_to_img_matches_keras(keras, shape, scale):
    x = np.random.default_rng(1).uniform(0, 255 if not scale else 3.0, shape).astype(np.float32)
    ours, ref = array_to_img(x, scale=scale), keras.utils.array_to_img(x, scale=scale)
    assert ours.mode == ref.mode
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(ref))
    cf = array_to_img(x.transpose(2, 0, 1), data_format="channels_first", scale=scale)
    np.testing.assert_array_equal(np.asarray(cf), np.asarray(ref))
    with pytest.raises(ValueError, match="rank 3"):
        array_to_img(x[0])


@pytest.mark.parametrize("name", ["a.png", "a.jpg", "a.bmp"])
def test_save_img_round_trip_matches_keras(keras, tmp_path, name):
    x = np.random.default_rng(2).integers(0, 256, (9, 11, 3)).astype(np.float32)
    save_img(tmp_path / ("ours_" + name), x, scale=False)
    keras.utils.save_img(tmp_path / ("keras_" + name), x, scale=False)
    assert (tmp_path / ("ours_" + name)).read_bytes() == (tmp_path / ("keras_" + name)).read_bytes()
    if not name.endswith(".jpg"):
        np.testing.assert_array_equal(img_to_array(load_img(tmp_path / ("ours_" + name))), x)
    rgba = np.concatenate([x, np.full((9, 11, 1), 255.0, np.float32)], -1)
    with pytest.warns(UserWarning, match="JPEG format does not support RGBA"):
        save_img(tmp_path / "rgba.jpg", rgba)


def test_smart_resize_matches_keras(keras):
    x = np.random.default_rng(3).uniform(0, 255, (2, 30, 17, 3)).astype(np.float32)
    for size in [(10, 10), (12, 30), (30, 17)]:
        ours = image_utils.smart_resize(x, size)
        ref = keras.ops.convert_to_numpy(keras.preprocessing.image.smart_resize(x, size))
        assert ours.shape == ref.shape
        np.testing.assert_allclose(ours, ref, atol=2e-3)
        np.testing.assert_allclose(image_utils.smart_resize(x[0], size), ref[0], atol=2e-3)
        cf = image_utils.smart_resize(x.transpose(0, 3, 1, 2), size, data_format="channels_first")
        np.testing.assert_allclose(cf, ref.transpose(0, 3, 1, 2), atol=2e-3)


def test_errors():
    with pytest.raises(TypeError, match="path-like"):
        load_img(42)
    with pytest.raises(ValueError, match="color_mode"):
        load_img(io.BytesIO(_png_bytes()), color_mode="cmyk")
    with pytest.raises(ValueError, match="Invalid interpolation"):
        load_img(io.BytesIO(_png_bytes()), target_size=(3, 3), interpolation="area")
    with pytest.raises(ValueError, match="Unsupported image shape"):
        img_to_array(np.zeros((2, 2, 2, 2)))
    with pytest.raises(ValueError, match="data_format"):
        img_to_array(np.zeros((2, 2)), data_format="nchw")
    with pytest.raises(UnidentifiedImageError):
        load_img(io.BytesIO(b"not an image"))


def _png_bytes():
    buf = io.BytesIO()
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(buf, format="png")
    return buf.getvalue()
