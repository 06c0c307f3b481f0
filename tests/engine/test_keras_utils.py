"""engine.utils functions that Keras code calls: pad_sequences, timeseries_dataset_from_array,
split_dataset, get_file and plot_model, each checked against Keras 3 where Keras can run here
(timeseries needs TensorFlow or grain, plot_model needs pydot: those are checked against their
documented definitions)."""
import hashlib
import io
import os
import subprocess
import sys
import tarfile

import numpy as np
import pytest
import torch

import engine
from engine.utils import get_file, pad_sequences, split_dataset, timeseries_dataset_from_array

_RAGGED = [[1, 2, 3], [4], [], [5, 6, 7, 8, 9], [10, 11]]


@pytest.mark.parametrize("kwargs", [
    {}, {"maxlen": 3}, {"maxlen": 7}, {"padding": "post"}, {"truncating": "post", "maxlen": 2},
    {"padding": "post", "truncating": "post", "maxlen": 4, "value": -1}, {"dtype": "float32", "value": 0.5},
])
def test_pad_sequences_matches_keras(keras, kwargs):
    ours, theirs = pad_sequences(_RAGGED, **kwargs), keras.utils.pad_sequences(_RAGGED, **kwargs)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


def test_pad_sequences_steps_with_features_strings_and_errors(keras):
    seqs = [np.ones((2, 3)), np.arange(12.0).reshape(4, 3)]
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=3, dtype="float32"),
                                  keras.utils.pad_sequences(seqs, maxlen=3, dtype="float32"))
    words = [["a", "bb"], ["ccc"]]
    np.testing.assert_array_equal(pad_sequences(words, dtype=object, value="-"),
                                  keras.utils.pad_sequences(words, dtype=object, value="-"))
    for bad in ({"padding": "middle"}, {"truncating": "middle", "maxlen": 1}, {"value": "x"}):
        with pytest.raises(ValueError) as ours:
            pad_sequences(_RAGGED, **bad)
        with pytest.raises(ValueError) as theirs:
            keras.utils.pad_sequences(_RAGGED, **bad)
        assert str(ours.value).split()[:2] == str(theirs.value).split()[:2]
    with pytest.raises(ValueError, match="different from expected shape"):
        pad_sequences([np.ones((2, 3)), np.ones((2, 4))])


def _windows(data, start, length, rate):
    return np.stack([data[s + np.arange(length) * rate] for s in start])


@pytest.mark.parametrize("kwargs", [
    {"sequence_length": 10},
    {"sequence_length": 5, "sequence_stride": 3, "sampling_rate": 2, "batch_size": 4},
    {"sequence_length": 4, "start_index": 7, "end_index": 60, "batch_size": 16},
    {"sequence_length": 4, "batch_size": None},
])
def test_timeseries_windows_follow_keras_definition(kwargs):
    """Keras's docstring definition: window i starts at start_index + i * stride and takes every
    sampling_rate-th step; its target is targets[start_index + i * stride]."""
    data = np.arange(100 * 2).reshape(100, 2)
    targets = np.arange(100) * 10
    ds = timeseries_dataset_from_array(data, targets, **kwargs)
    length, stride, rate = kwargs["sequence_length"], kwargs.get("sequence_stride", 1), kwargs.get("sampling_rate", 1)
    start, end = kwargs.get("start_index") or 0, kwargs.get("end_index") or 100
    starts = start + np.arange(0, end - start - (length - 1) * rate, stride)
    batch = kwargs.get("batch_size", 128)
    if batch is None:
        items = list(ds)
        assert len(items) == len(starts)
        np.testing.assert_array_equal(np.stack([x for x, _ in items]), _windows(data, starts, length, rate))
        np.testing.assert_array_equal([y for _, y in items], targets[starts])
        return
    xs, ys = zip(*ds)
    assert [len(x) for x in xs] == [len(starts[i:i + batch]) for i in range(0, len(starts), batch)]
    np.testing.assert_array_equal(np.concatenate(xs), _windows(data, starts, length, rate))
    np.testing.assert_array_equal(np.concatenate(ys), targets[starts])
    assert max(starts) + (length - 1) * rate < end


def test_timeseries_docstring_example_and_shuffle_and_fit():
    data = np.arange(100)
    ds = timeseries_dataset_from_array(data, data[10:], sequence_length=10, batch_size=8)
    x, y = ds[0]
    np.testing.assert_array_equal(x[0], np.arange(10))
    assert y[0] == 10  # the step right after the first window
    windows = timeseries_dataset_from_array(data, None, sequence_length=3, shuffle=True, seed=7, batch_size=None)
    firsts = [int(w[0]) for w in windows]
    assert sorted(firsts) == list(range(98)) and firsts != sorted(firsts)
    assert firsts == [int(w[0]) for w in timeseries_dataset_from_array(data, None, 3, shuffle=True, seed=7,
                                                                        batch_size=None)]
    series = np.sin(np.arange(200) / 5.0).astype("float32")[:, None]
    train = timeseries_dataset_from_array(series, series[6:, 0], sequence_length=6, batch_size=32)
    model = engine.Sequential([engine.Input((6, 1)), engine.layers.Flatten(), engine.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(train, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()
    with pytest.raises(ValueError, match="sampling_rate"):
        timeseries_dataset_from_array(data, None, 3, sampling_rate=0)


@pytest.mark.parametrize("sizes", [{"left_size": 0.8}, {"right_size": 3}, {"left_size": 7, "right_size": 13},
                                   {"left_size": 0.25, "right_size": 0.75}])
def test_split_dataset_matches_keras_with_a_seed(keras, sizes):
    x = np.arange(40.0).reshape(20, 2)
    y = np.arange(20)
    ours = split_dataset((x, y), shuffle=True, seed=3, **sizes)
    theirs = keras.utils.split_dataset((x, y), shuffle=True, seed=3, preferred_backend="torch", **sizes)
    for o, t in zip(ours, theirs):
        assert len(o) == len(t)
        for i in range(len(o)):
            for a, b in zip(o[i], t[i]):
                assert torch.equal(a, b)


def test_split_dataset_in_order_and_errors(keras):
    x = np.arange(10)
    left, right = split_dataset(x, left_size=0.3)
    assert [int(left[i][0]) for i in range(len(left))] == [0, 1, 2]
    assert [int(right[i][0]) for i in range(len(right))] == list(range(3, 10))
    for bad in ({"left_size": 0, "right_size": 0}, {"left_size": 10}, {"left_size": 1.5}, {}):
        with pytest.raises(ValueError) as ours:
            split_dataset(x, **bad)
        with pytest.raises(ValueError) as theirs:
            keras.utils.split_dataset(x, preferred_backend="torch", **bad)
        assert str(ours.value).split()[:3] == str(theirs.value).split()[:3]
    with pytest.raises(TypeError):
        split_dataset(x, left_size="half")


def _tar_bytes(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _tree(folder):
    out = {}
    for root, _, files in os.walk(folder):
        for f in files:
            path = os.path.join(root, f)
            out[os.path.relpath(path, folder)] = open(path, "rb").read()
    return out


@pytest.mark.parametrize("case", ["plain", "sha256", "md5", "extract", "untar_named"])
def test_get_file_matches_keras_on_a_local_origin(keras, tmp_path, monkeypatch, case):
    monkeypatch.delenv("VISUALKERAS_OFFLINE", raising=False)
    served = tmp_path / "served"
    served.mkdir()
    payload = _tar_bytes({"pkg/a.txt": b"alpha", "pkg/sub/b.txt": b"beta"}) if "extract" in case or "untar" in case \
        else os.urandom(5000)
    (served / "data.tar.gz").write_bytes(payload)
    origin = (served / "data.tar.gz").as_uri()
    kwargs = {"origin": origin}
    if case == "sha256":
        kwargs["file_hash"] = hashlib.sha256(payload).hexdigest()
    if case == "md5":
        kwargs["md5_hash"] = hashlib.md5(payload).hexdigest()
    if case == "extract":
        kwargs["extract"] = True
    if case == "untar_named":
        kwargs.update(fname="archive", untar=True)
    paths = {}
    for lib, fn in (("ours", get_file), ("keras", keras.utils.get_file)):
        cache = tmp_path / lib
        cache.mkdir()  # Keras falls back to /tmp/.keras when the cache folder does not exist yet
        paths[lib] = fn(cache_dir=str(cache), **kwargs)
        assert os.path.relpath(paths[lib], cache)  # inside the cache
    assert os.path.relpath(paths["ours"], tmp_path / "ours") == os.path.relpath(paths["keras"], tmp_path / "keras")
    if os.path.isdir(paths["keras"]):
        assert _tree(paths["ours"]) == _tree(paths["keras"])
    else:
        assert open(paths["ours"], "rb").read() == open(paths["keras"], "rb").read() == payload
    # A second call finds the file in the cache: nothing is read from the origin.
    os.remove(served / "data.tar.gz")
    assert get_file(cache_dir=str(tmp_path / "ours"), **kwargs) == paths["ours"]


def test_get_file_refuses_a_wrong_hash_and_says_what_to_do_offline(tmp_path, monkeypatch):
    monkeypatch.delenv("VISUALKERAS_OFFLINE", raising=False)
    src = tmp_path / "f.bin"
    src.write_bytes(b"the real bytes")
    with pytest.raises(ValueError, match="corrupted"):
        get_file("f.bin", src.as_uri(), file_hash="0" * 64, cache_dir=str(tmp_path / "c"))
    with pytest.raises(ValueError, match="corrupted"):
        get_file("f.bin", src.as_uri(), md5_hash="0" * 32, cache_dir=str(tmp_path / "c"))
    assert not os.path.exists(tmp_path / "c" / "datasets" / "f.bin")  # nothing bad left in the cache
    monkeypatch.setenv("VISUALKERAS_OFFLINE", "1")
    with pytest.raises(engine.utils.download_utils.OfflineError, match="copy it to"):
        get_file("f.bin", src.as_uri(), cache_dir=str(tmp_path / "c"))
    with pytest.raises(ValueError, match="cache_dir"):
        get_file("sub/f.bin", src.as_uri(), cache_dir=str(tmp_path / "c"))


def test_get_file_refuses_an_archive_that_writes_outside_its_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("VISUALKERAS_OFFLINE", raising=False)
    src = tmp_path / "evil.tar.gz"
    src.write_bytes(_tar_bytes({"../escaped.txt": b"x"}))
    with pytest.raises(ValueError, match="outside"):
        get_file(origin=src.as_uri(), extract=True, cache_dir=str(tmp_path / "c"))
    assert not any(p.name == "escaped.txt" for p in tmp_path.rglob("*"))


def _plot_model_case():
    x = engine.Input((8,), name="features")
    a = engine.layers.Dense(4, activation="relu", name="hidden")(x)
    b = engine.layers.Dense(4, name="skip")(x)
    return engine.Model(x, engine.layers.Dense(2, name="head")(engine.layers.Add(name="add")([a, b])))


def test_plot_model_writes_png_svg_and_dot(tmp_path):
    pytest.importorskip("PySide6")
    model = _plot_model_case()
    engine.utils.plot_model(model, to_file=str(tmp_path / "m.png"), show_shapes=True, dpi=72)
    assert (tmp_path / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    engine.utils.plot_model(model, to_file=str(tmp_path / "m.dot"), show_shapes=True, show_layer_names=True,
                            show_dtype=True, show_layer_activations=True, rankdir="LR")
    dot = (tmp_path / "m.dot").read_text()
    for layer in model.layers:
        assert f"{layer.name} ({type(layer).__name__})" in dot
    assert "rankdir=LR" in dot and "(None, 8)" in dot and "float32" in dot and "relu" in dot
    engine.utils.plot_model(model, to_file=str(tmp_path / "plain.dot"))
    plain = (tmp_path / "plain.dot").read_text()
    assert "(None, 8)" not in plain and "hidden" not in plain  # Keras's defaults: no shapes, no names
    engine.utils.plot_model(model, to_file=str(tmp_path / "t.dot"), show_trainable=True)  # model_to_dot's graph
    assert "Trainable" in (tmp_path / "t.dot").read_text()


@pytest.mark.slow
def test_importing_engine_utils_loads_neither_qt_nor_the_app():
    code = ("import sys, engine, engine.utils; engine.utils.plot_model; engine.utils.get_file; "
            "bad = [m for m in sys.modules if m.startswith(('PySide6', 'visualkeras_app'))]; "
            "print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_pack_and_unpack_x_y_sample_weight_match_keras(keras):
    for args in [(1,), (1, 2), (1, 2, 3), ([1, 2],), ((1, 2),), ({"a": 1}, 2)]:
        assert engine.utils.pack_x_y_sample_weight(*args) == keras.utils.pack_x_y_sample_weight(*args)
    for data in [1, (1,), (1, 2), [1, 2], (1, 2, 3), {"a": 1}]:
        assert engine.utils.unpack_x_y_sample_weight(data) == keras.utils.unpack_x_y_sample_weight(data)
    with pytest.raises(ValueError, match="sample_weight"):
        engine.utils.unpack_x_y_sample_weight((1, 2, 3, 4))
    assert engine.utils.clear_session is engine.backend.clear_session


def test_every_keras_utils_name_the_engine_lists_exists(keras):
    for name in engine.utils.__all__:
        assert getattr(engine.utils, name) is not None, name
        assert hasattr(keras.utils, name), name


def test_backend_and_utils_helpers_match_keras(keras):
    engine.backend.clear_session()
    keras.backend.clear_session(free_memory=False)  # the name counters; its gc.collect() takes 0.3 s in a long session
    for lib in (engine, keras):
        assert [lib.backend.get_uid("dense"), lib.backend.get_uid("dense")] == [1, 2]
    assert engine.layers.Dense(2).name == keras.layers.Dense(2).name == "dense_2"
    assert engine.backend.get_uid("dense") == keras.backend.get_uid("dense") == 4
    for dtype in ("float16", "bfloat16", "uint8", "int64", "bool", "float32"):
        for fn in ("is_float_dtype", "is_int_dtype", "standardize_dtype"):
            assert getattr(engine.backend, fn)(dtype) == getattr(keras.backend, fn)(dtype), (fn, dtype)
    for pair in (("int32", "float16"), ("uint8", "int8"), ("bool", "int32"), ("float32", "float64")):
        assert engine.backend.result_type(*pair) == keras.backend.result_type(*pair)

    def graph(K):
        a, b = K.Input((3,), name="a"), K.Input((3,), name="b")
        y = K.layers.Dense(2)(K.layers.Add()([K.layers.Dense(3)(b), a]))
        return y, [t.name for t in K.utils.get_source_inputs(y)], K.utils.is_keras_tensor(y)

    (_, ours, kt_ours), (_, theirs, kt_theirs) = graph(engine), graph(keras)
    assert kt_ours and kt_theirs and not engine.utils.is_keras_tensor(np.ones(2))
    assert sorted(ours) == sorted(theirs) == ["a", "b"]
