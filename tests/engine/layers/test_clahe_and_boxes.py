"""ContrastLimitedAdaptiveHistogramEqualization and MaxNumBoundingBoxes against Keras: outputs (exact, in
training and inference, float and uint8 images, padded tiles), boxes padded and cut, configs."""
import numpy as np
import pytest
import torch

import engine
from engine import layers as E
from tests.engine.layers.harness import check_config_against_keras

_SLOW = pytest.mark.slow  # a few hundred ms each on both sides
CLAHE = [pytest.param({}, (2, 32, 24, 3), 255, id="default", marks=_SLOW),
         pytest.param({"clip_limit": 2.0, "tile_grid_size": (3, 5)}, (2, 17, 13, 1), 255, id="padded_tiles"),
         pytest.param({"clip_limit": 40.0, "tile_grid_size": (2, 3)}, (2, 40, 30, 3), 255, id="high_limit",
                      marks=_SLOW),
         pytest.param({"clip_limit": 0, "tile_grid_size": (2, 2), "value_range": (0, 1)}, (9, 11, 3), 1,
                      id="unclipped")]


@pytest.mark.parametrize("kwargs,shape,scale", CLAHE)
def test_clahe_matches_keras(keras, kwargs, shape, scale):
    x = (np.random.default_rng(0).uniform(0, 1, size=shape) * scale).astype("float32")
    e = E.ContrastLimitedAdaptiveHistogramEqualization(**kwargs)
    k = keras.layers.ContrastLimitedAdaptiveHistogramEqualization(**kwargs)
    for training in (True, False):  # not random: applied at inference too, as Keras's
        np.testing.assert_allclose(e(torch.tensor(x), training=training).numpy(),
                                   np.asarray(k(torch.tensor(x), training=training)), atol=1e-4 * scale)
    check_config_against_keras(lambda L: L.ContrastLimitedAdaptiveHistogramEqualization(name="probe", **kwargs),
                               keras=keras)


def test_clahe_keeps_integer_images_and_refuses_bad_grids(keras):
    x = np.random.default_rng(1).integers(0, 256, (1, 8, 8, 3)).astype("uint8")
    out = E.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 2))(torch.tensor(x))
    assert out.dtype == torch.uint8
    np.testing.assert_array_equal(out.numpy(), np.asarray(keras.layers.ContrastLimitedAdaptiveHistogramEqualization(
        tile_grid_size=(2, 2))(torch.tensor(x))))
    with pytest.raises(ValueError, match="tile_grid_size"):
        E.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(0, 4))


@pytest.mark.parametrize("n", [3, 7])
def test_max_num_bounding_boxes_matches_keras(keras, n):
    rng = np.random.default_rng(n)
    images = rng.uniform(0, 1, (2, 8, 8, 3)).astype("float32")
    boxes = rng.uniform(0, 8, (2, 5, 4)).astype("float32")
    labels = rng.integers(0, 3, (2, 5)).astype("float32")

    def data():
        return {"images": torch.tensor(images), "bounding_boxes": {"boxes": torch.tensor(boxes),
                                                                   "labels": torch.tensor(labels)}}
    a = E.MaxNumBoundingBoxes(n, bounding_box_format="xyxy")(data())
    b = keras.layers.MaxNumBoundingBoxes(n, bounding_box_format="xyxy")(data())
    for key in ("boxes", "labels"):
        np.testing.assert_array_equal(a["bounding_boxes"][key].numpy(), np.asarray(b["bounding_boxes"][key]))
    assert tuple(a["bounding_boxes"]["boxes"].shape) == (2, n, 4)
    np.testing.assert_array_equal(a["images"].numpy(), images)
    check_config_against_keras(lambda L: L.MaxNumBoundingBoxes(n, bounding_box_format="xyxy", name="probe"),
                               keras=keras)
    with pytest.raises(ValueError, match="bounding_box_format"):
        E.MaxNumBoundingBoxes(n)(data())


def test_clahe_and_boxes_layers_in_a_model():
    model = engine.Sequential([E.Input((16, 16, 3)),
                               E.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 2)),
                               E.MaxNumBoundingBoxes(10), E.Flatten(), E.Dense(2)])
    assert model.output_shape == (None, 2)
    x = np.random.default_rng(2).uniform(0, 255, (2, 16, 16, 3)).astype("float32")
    assert model.predict(x, verbose=0).shape == (2, 2)
