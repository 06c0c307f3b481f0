"""engine.datasets.imdb / reuters / boston_housing / california_housing: files made on the fly in the
shape of Keras's (ragged object arrays for the text sets), read by the engine and by Keras 3's own
load_data on the same file (its get_file pointed at it), and compared; the offline message; a pickle that
tries to run code is refused."""
import os
import pickle

import numpy as np
import pytest

import engine
from engine.datasets import _npz


def _ragged(rng, n, vocab=60):
    out = np.empty(n, dtype=object)
    out[:] = [list(map(int, rng.integers(1, vocab, size=rng.integers(1, 12)))) for _ in range(n)]
    return out


def _write(folder, name, **arrays):
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    np.savez(path, **arrays)
    return path


@pytest.fixture
def data_dir(offline_home, tmp_path, monkeypatch):
    root = tmp_path / "data"
    monkeypatch.setenv("VISUALKERAS_DATA", str(root))
    return root


def _with_keras_file(keras, monkeypatch, module, path):
    import importlib

    mod = importlib.import_module(f"keras.src.datasets.{module}")
    monkeypatch.setattr(mod, "get_file", lambda *a, **k: path)
    return mod


def _same(ours, theirs):
    for a, b in zip(ours, theirs):
        for x, y in zip(a, b):
            if x.dtype == object:
                assert [list(s) for s in x] == [list(s) for s in y]
            else:
                np.testing.assert_array_equal(x, y)
            assert x.shape == y.shape


@pytest.mark.parametrize("kwargs", [{}, dict(num_words=20, skip_top=2, maxlen=9, seed=5),
                                    dict(oov_char=None, start_char=None, index_from=0, num_words=30)])
def test_imdb_matches_keras_on_the_same_file(keras, data_dir, monkeypatch, kwargs):
    rng = np.random.default_rng(0)
    path = _write(data_dir / "imdb", "imdb.npz", x_train=_ragged(rng, 30), y_train=rng.integers(2, size=30),
                  x_test=_ragged(rng, 20), y_test=rng.integers(2, size=20))
    ours = engine.datasets.imdb.load_data(**kwargs)
    theirs = _with_keras_file(keras, monkeypatch, "imdb", path).load_data(**kwargs)
    _same(ours, theirs)


def test_reuters_matches_keras_on_the_same_file(keras, data_dir, monkeypatch):
    rng = np.random.default_rng(1)
    path = _write(data_dir / "reuters", "reuters.npz", x=_ragged(rng, 40), y=rng.integers(46, size=40))
    for kwargs in ({}, dict(num_words=25, test_split=0.3, maxlen=10, seed=7)):
        ours = engine.datasets.reuters.load_data(**kwargs)
        theirs = _with_keras_file(keras, monkeypatch, "reuters", path).load_data(**kwargs)
        _same(ours, theirs)


def test_housing_sets_match_keras_on_the_same_file(keras, data_dir, monkeypatch):
    rng = np.random.default_rng(2)
    boston = _write(data_dir / "boston_housing", "boston_housing.npz", x=rng.random((50, 13)), y=rng.random(50) * 50)
    california = _write(data_dir, "california_housing.npz", x=rng.random((700, 8)), y=rng.random(700) * 5e5)
    _same(engine.datasets.boston_housing.load_data(test_split=0.25, seed=3),
          _with_keras_file(keras, monkeypatch, "boston_housing", boston).load_data(test_split=0.25, seed=3))
    mod = _with_keras_file(keras, monkeypatch, "california_housing", california)
    for version in ("large", "small"):
        _same(engine.datasets.california_housing.load_data(version=version), mod.load_data(version=version))
    (x_train, _), (x_test, _) = engine.datasets.california_housing.load_data(version="small")
    assert (len(x_train), len(x_test)) == (480, 120)
    with pytest.raises(ValueError, match="'large' or 'small'"):
        engine.datasets.california_housing.load_data(version="medium")


def test_word_index_is_read_from_a_local_file(data_dir):
    os.makedirs(data_dir / "imdb")
    (data_dir / "imdb" / "imdb_word_index.json").write_text('{"the": 1, "movie": 17}')
    assert engine.datasets.imdb.get_word_index() == {"the": 1, "movie": 17}


def test_offline_message_names_the_url_hash_and_places(offline_home, monkeypatch):
    monkeypatch.setenv("VISUALKERAS_OFFLINE", "1")
    with pytest.raises(engine.datasets.DatasetNotFoundError) as e:
        engine.datasets.boston_housing.load_data()
    msg = str(e.value)
    assert "https://storage.googleapis.com/tensorflow/tf-keras-datasets/boston_housing.npz" in msg
    assert engine.datasets.boston_housing.SHA256 in msg and "VISUALKERAS_DATA" in msg


def test_a_download_that_fails_says_so(offline_home):
    # offline_home's loader refuses every connection, as a computer without a network would.
    with pytest.raises(engine.datasets.DatasetNotFoundError, match="could not be downloaded"):
        engine.datasets.reuters.load_data()


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_a_pickle_that_would_run_code_is_refused(data_dir):
    import io
    import zipfile

    os.makedirs(data_dir / "imdb")
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|O", "fortran_order": False, "shape": (1,)})
    evil = header.getvalue() + pickle.dumps(_Evil())
    with zipfile.ZipFile(data_dir / "imdb" / "imdb.npz", "w") as z:
        for key in ("x_train", "y_train", "x_test", "y_test"):
            z.writestr(key + ".npy", evil)
    with pytest.raises(_npz.NpzFormatError, match="refused to load the global"):
        engine.datasets.imdb.load_data()


def test_reuters_label_names_match_keras(keras):
    import keras.datasets.reuters as theirs

    assert engine.datasets.reuters.get_label_names() == tuple(theirs.get_label_names())
    assert len(engine.datasets.reuters.get_label_names()) == 46
