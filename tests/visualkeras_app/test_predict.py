"""``visualkeras-app predict MODEL FILES...``: top classes for image files, checked against the same
model's arithmetic done here in NumPy; CSV; unreadable files; class names; input layouts."""
import csv
import io

import numpy as np
import pytest
from PIL import Image

from visualkeras_app.cli import main


def _model(tmp_path, input_shape, units=4, rescale=False, activation="softmax", seed=0):
    """A saved Flatten -> Dense model with random weights; returns (path, kernel, bias)."""
    from engine import layers, models

    rng = np.random.default_rng(seed)
    stack = [layers.Input(input_shape)]
    if rescale:
        stack.append(layers.Rescaling(1 / 255.0))
    stack += [layers.Flatten(), layers.Dense(units, activation=activation)]
    model = models.Sequential(stack)
    n = int(np.prod(input_shape))
    kernel = rng.normal(0, 1, (n, units)).astype(np.float32)
    bias = rng.normal(0, 0.1, units).astype(np.float32)
    model.layers[-1].set_weights([kernel, bias])
    path = str(tmp_path / "model.keras")
    model.save(path)
    return path, kernel, bias


def _image(path, arr):
    Image.fromarray(arr).save(path)
    return str(path)


def _expected(pixels, kernel, bias, activation="softmax"):
    z = pixels.reshape(-1).astype(np.float64) @ kernel + bias
    if activation == "sigmoid":
        p = 1 / (1 + np.exp(-z[0]))
        return np.array([1 - p, p])
    e = np.exp(z - z.max())
    return e / e.sum()


def _parse_text(out):
    """{file: [(class, probability), ...]} from the plain output."""
    result, current = {}, None
    for line in out.splitlines():
        if not line.startswith("  "):
            current = line
            result[current] = []
        else:
            _, name, prob = line.split()
            result[current].append((name, float(prob)))
    return result


def test_top_classes_match_the_models_arithmetic(tmp_path, capsys):
    path, kernel, bias = _model(tmp_path, (6, 5, 3), units=7)
    rng = np.random.default_rng(1)
    files = [_image(tmp_path / f"img{i}.png", rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)) for i in range(3)]
    assert main(["predict", path, *files]) == 0
    got = _parse_text(capsys.readouterr().out)
    assert list(got) == files
    for f in files:
        p = _expected(np.asarray(Image.open(f), np.float32) / 255.0, kernel, bias)
        order = np.argsort(-p)[:5]
        assert [name for name, _ in got[f]] == [str(k) for k in order]
        np.testing.assert_allclose([prob for _, prob in got[f]], p[order], atol=6e-5)


def test_csv_resizing_grayscale_and_a_rescaling_model(tmp_path, capsys):
    # The model rescales itself: it must get 0-255 pixels. The image is RGB and 12x10: it is converted
    # to grayscale and resized (bilinear, as image_dataset_from_directory) to the model's 6x5.
    path, kernel, bias = _model(tmp_path, (6, 5, 1), units=3, rescale=True)
    rgb = np.random.default_rng(2).integers(0, 256, (12, 10, 3), dtype=np.uint8)
    f = _image(tmp_path / "big.png", rgb)
    assert main(["predict", path, f, "--csv", "--class-names", "cat,dog,fox", "--top", "2"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["file", "rank", "class", "probability"] and len(rows) == 3
    gray = np.asarray(Image.fromarray(rgb).convert("L"), np.float32)
    small = gray.reshape(6, 2, 5, 2).mean((1, 3))  # halving with half-pixel centres is the 2x2 mean
    p = _expected(small / 255.0, kernel, bias)
    order = np.argsort(-p)[:2]
    assert [r[0] for r in rows[1:]] == [f, f] and [r[1] for r in rows[1:]] == ["1", "2"]
    assert [r[2] for r in rows[1:]] == [["cat", "dog", "fox"][k] for k in order]
    np.testing.assert_allclose([float(r[3]) for r in rows[1:]], p[order], atol=2e-6)


def test_unreadable_files_get_one_line_and_the_rest_are_answered(tmp_path, capsys):
    path, _, _ = _model(tmp_path, (4, 4, 3), units=3)
    good = _image(tmp_path / "good.png", np.zeros((4, 4, 3), np.uint8))
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a picture")
    _image(tmp_path / "big.png", np.random.default_rng(4).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    full = (tmp_path / "big.png").read_bytes()
    cut = tmp_path / "cut.png"   # the header is whole, the pixels are not
    cut.write_bytes(full[:len(full) // 2])
    assert main(["predict", path, str(bad), good, str(tmp_path / "missing.png"), str(cut)]) == 1
    out, err = capsys.readouterr()
    assert list(_parse_text(out)) == [good]
    lines = err.splitlines()
    assert lines == [
        f"visualkeras-app: cannot read {bad}: not an image file (or in a format Pillow cannot read)",
        f"visualkeras-app: cannot read {tmp_path / 'missing.png'}: no such file",
        f"visualkeras-app: cannot read {cut}: " + lines[2].split(": ", 2)[2],
    ]
    assert "truncated" in lines[2]


def test_folders_flat_inputs_sigmoid_and_labels_file(tmp_path, capsys):
    path, kernel, bias = _model(tmp_path, (16,), units=1, activation="sigmoid")   # rows of 4x4 gray pixels
    folder = tmp_path / "imgs"
    (folder / "sub").mkdir(parents=True)
    rng = np.random.default_rng(3)
    a = _image(folder / "b.png", rng.integers(0, 256, (4, 4), dtype=np.uint8))
    b = _image(folder / "sub" / "a.bmp", rng.integers(0, 256, (4, 4), dtype=np.uint8))
    (folder / "notes.txt").write_text("skipped: not an image extension")
    labels = tmp_path / "labels.txt"
    labels.write_text("no\nyes\n")
    assert main(["predict", path, str(folder), "--labels", str(labels)]) == 0
    got = _parse_text(capsys.readouterr().out)
    assert list(got) == [a, b]
    for f in (a, b):
        p = _expected(np.asarray(Image.open(f), np.float32) / 255.0, kernel, bias, "sigmoid")
        assert dict(got[f]) == pytest.approx({"no": p[0], "yes": p[1]}, abs=6e-5)
    labels.write_text("one\n")
    assert main(["predict", path, a, "--labels", str(labels)]) == 2
    assert "1 class names given, but the model has 2 classes" in capsys.readouterr().err


def test_logits_are_turned_into_probabilities(tmp_path, capsys):
    path, kernel, bias = _model(tmp_path, (3, 3, 1), units=3, activation=None)   # a linear output: logits
    f = _image(tmp_path / "g.png", np.random.default_rng(5).integers(0, 256, (3, 3), dtype=np.uint8))
    assert main(["predict", path, f, "--csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))[1:]
    p = _expected(np.asarray(Image.open(f), np.float32) / 255.0, kernel, bias)   # softmax of the logits
    order = np.argsort(-p)
    assert [r[2] for r in rows] == [str(k) for k in order]
    np.testing.assert_allclose([float(r[3]) for r in rows], p[order], atol=2e-6)


def test_models_that_do_not_take_images(tmp_path, capsys):
    path, _, _ = _model(tmp_path, (7,), units=2)
    f = _image(tmp_path / "x.png", np.zeros((4, 4, 3), np.uint8))
    assert main(["predict", path, f]) == 2
    assert "not an image" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "nope.keras"), f]) == 2
    assert "cannot predict with" in capsys.readouterr().err
