"""load_dataset (MNIST, .npz, .csv) and prepare: preprocessing steps and mismatch messages with fixes."""
import numpy as np
import pytest

from tests.visualkeras_app.training.conftest import tiny_cnn
from visualkeras_app.training.data import (Dataset, DatasetError, DatasetMismatch, load_dataset, prepare,
                                           prepare_for_model)


def _toy(n=20, shape=(28, 28), k=10, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n,) + shape, dtype=np.uint8)
    y = np.arange(n) % k
    return Dataset("toy", x, y, x[:6].copy(), y[:6].copy(), [str(i) for i in range(k)])


def test_mnist_loads_with_digit_names(mnist_full):
    d = mnist_full
    assert d.x_train.shape == (60000, 28, 28) and d.x_test.shape == (10000, 28, 28)
    assert d.x_train.dtype == np.uint8 and d.y_train.dtype == np.int64
    assert d.class_names == [str(i) for i in range(10)]


def test_conv_model_gets_scaled_images_with_a_channel_axis(mnist_small):
    p = prepare_for_model(mnist_small, tiny_cnn())
    assert p.x_train.shape == (512, 28, 28, 1) and p.x_train.dtype == np.float32
    assert 0.0 <= p.x_train.min() and p.x_train.max() <= 1.0 and p.x_train.max() > 0.9
    np.testing.assert_allclose(p.x_train[3, :, :, 0], mnist_small.x_train[3] / 255.0, rtol=1e-6)
    assert p.loss == "sparse_categorical_crossentropy" and not p.from_logits
    assert p.y_train.dtype == np.int64 and p.y_train.shape == (512,)
    assert p.steps == ["scaled pixels 0-255 to 0-1", "added the channel axis: (N, 28, 28) -> (N, 28, 28, 1)"]
    assert p.test_images.shape == (200, 28, 28)


def test_mlp_gets_flattened_images():
    p = prepare(_toy(), (None, 784), (None, 10))
    assert p.x_train.shape == (20, 784)
    assert "flattened the images: (N, 28, 28) -> (N, 784)" in p.steps


def test_categorical_loss_gets_one_hot_labels():
    p = prepare(_toy(), (None, 28, 28, 1), (None, 10), loss="categorical_crossentropy")
    assert p.y_train.shape == (20, 10) and p.y_train.dtype == np.float32
    np.testing.assert_array_equal(p.y_train.argmax(1), np.arange(20) % 10)
    assert "one-hot encoded the labels: (N,) -> (N, 10)" in p.steps
    np.testing.assert_array_equal(p.test_labels(), np.arange(6) % 10)


def test_auto_loss_for_logits_and_a_sigmoid_unit():
    p = prepare(_toy(), (None, 28, 28, 1), (None, 10), output_activation="linear")
    assert p.loss == "sparse_categorical_crossentropy" and p.from_logits
    p = prepare(_toy(k=2), (None, 784), (None, 1), output_activation="sigmoid")
    assert p.loss == "binary_crossentropy" and not p.from_logits and p.y_train.shape == (20, 1)


def test_max_train_samples_cuts_and_says_so():
    p = prepare(_toy(), (None, 784), (None, 10), max_train_samples=8)
    assert len(p.x_train) == len(p.y_train) == 8 and len(p.x_test) == 6
    assert p.steps[0] == "used the first 8 of 20 training samples"


def test_color_input_on_gray_images_says_so_and_how_to_fix():
    with pytest.raises(DatasetMismatch) as e:
        prepare(_toy(), (None, 32, 32, 3), (None, 10))
    assert "32x32" in e.value.message and "28x28 grayscale" in e.value.message
    assert e.value.fix == "set the Input's shape to (28, 28, 1)."


def test_wrong_number_of_units_suggests_the_right_one():
    with pytest.raises(DatasetMismatch) as e:
        prepare_for_model(_toy(), tiny_cnn(units=5))
    assert e.value.message == "The last Dense has 5 units but the data set has 10 classes."
    assert e.value.fix == "set units=10."
    assert "Fix: set units=10." in str(e.value)


def test_missing_flatten_is_named():
    with pytest.raises(DatasetMismatch) as e:
        prepare(_toy(), (None, 28, 28, 1), (None, 28, 28, 10))
    assert "Flatten()" in e.value.fix


def test_same_size_other_layout_suggests_reshape():
    with pytest.raises(DatasetMismatch) as e:
        prepare(_toy(), (None, 1, 28, 28), (None, 10))
    assert "sizes agree" in e.value.message
    assert "Reshape((1, 28, 28))" in e.value.fix and "(28, 28, 1)" in e.value.fix


def test_npz_round_trip_with_class_names(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((12, 8, 8, 3)).astype(np.float32)
    y = np.array(["cat", "dog", "emu"] * 4)
    path = tmp_path / "animals.npz"
    np.savez(path, x_train=x, y_train=y, x_test=x[:3], y_test=y[:3])
    d = load_dataset(str(path))
    assert d.name == "animals" and d.class_names == ["cat", "dog", "emu"]
    np.testing.assert_array_equal(d.y_train, [0, 1, 2] * 4)
    p = prepare(d, (None, 8, 8, 3), (None, 3))
    assert p.x_train.dtype == np.float32 and p.steps == []  # already floats in [0, 1]: nothing to do


def test_npz_without_the_arrays_is_refused(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, images=np.zeros((2, 2)))
    with pytest.raises(DatasetError, match=r"lacks the arrays \['x_train', 'y_train', 'x_test', 'y_test'\]"):
        load_dataset(str(path))


def _write_csv(path, x, y, header=True, label_last=False):
    with open(path, "w") as f:
        cols = [f"pixel{i}" for i in range(x.shape[1])]
        if header:
            f.write(",".join(cols + ["label"] if label_last else ["label"] + cols) + "\n")
        for row, lab in zip(x, y):
            vals = [str(int(v)) for v in row]
            f.write(",".join(vals + [str(lab)] if label_last else [str(lab)] + vals) + "\n")


def test_csv_with_a_named_label_column_and_a_companion_test_file(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (10, 16))
    y = np.arange(10) % 3
    _write_csv(tmp_path / "digits_train.csv", x, y, label_last=True)
    _write_csv(tmp_path / "digits_test.csv", x[:4], y[:4], label_last=True)
    d = load_dataset(str(tmp_path / "digits_train.csv"))
    assert d.x_train.shape == (10, 4, 4) and d.x_train.dtype == np.uint8  # 16 pixels -> 4x4 images
    np.testing.assert_array_equal(d.x_train.reshape(10, 16), x)
    np.testing.assert_array_equal(d.y_train, y)
    assert d.x_test.shape == (4, 4, 4) and d.class_names == ["0", "1", "2"]


def test_csv_label_first_without_header_holds_out_a_test_part(tmp_path):
    x = np.arange(20 * 3).reshape(20, 3) % 7
    _write_csv(tmp_path / "t.csv", x, np.arange(20) % 2, header=False)
    d = load_dataset(str(tmp_path / "t.csv"))
    assert len(d.x_train) == 18 and len(d.x_test) == 2 and d.x_train.shape[1:] == (3,)
    p = prepare(d, (None, 3), (None, 2))
    assert p.x_train.shape == (18, 3)


def test_csv_with_text_in_pixels_is_refused(tmp_path):
    (tmp_path / "bad.csv").write_text("label,a,b\n1,2,x\n0,1,2\n")
    with pytest.raises(DatasetError, match="must hold numbers"):
        load_dataset(str(tmp_path / "bad.csv"))


def test_unknown_name_lists_the_choices():
    with pytest.raises(DatasetError, match="'mnist', 'fashion_mnist'"):
        load_dataset("cifar11")
