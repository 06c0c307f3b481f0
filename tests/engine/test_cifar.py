"""engine.datasets.cifar10/cifar100: small fake archives made on the fly (CIFAR's layout, pickled
batches), served through the loader's download hook; Keras's own batch parser as the reference;
pickles that ask for anything but NumPy arrays are refused without running anything."""
import hashlib
import io
import os
import pickle
import tarfile
import urllib.error

import numpy as np
import pytest

from engine.datasets import DatasetNotFoundError, _cifar, _loader, cifar10, cifar100


@pytest.fixture(autouse=True)
def isolated(offline_home):
    """A fake HOME, no data/cache variables, and a network that always fails (tests/engine/conftest.py)."""
    return offline_home


def _batch_bytes(x, labels, label_keys=("labels",), numpy1=True):
    """A batch as CIFAR's files hold it: a dict with bytes keys, 'data' uint8 (N, 3072), label lists.

    ``numpy1`` names the array rebuilder ``numpy.core.multiarray`` as the published files (written
    by NumPy 1) do; otherwise NumPy 2's ``numpy._core.multiarray``."""
    d = {b"batch_label": b"fake batch", b"data": x.reshape(len(x), -1), b"filenames": [b"f.png"] * len(x)}
    for key, values in zip(label_keys, labels):
        d[key.encode()] = list(values)
    data = pickle.dumps(d, protocol=3)  # protocol 3 names globals as text lines, as Python 2's pickles do
    if numpy1:
        data = data.replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")
    return data


def _tar(path, inner, members):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(f"{inner}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def fake_cifar10(path, n=3, seed=0):
    """A CIFAR-10 archive of 5 training batches and a test batch of ``n`` images each; returns
    ``(path, x_train, y_train, x_test, y_test)`` as (N, 3, 32, 32) and label lists."""
    rng = np.random.default_rng(seed)
    members, xs, ys = {}, [], []
    for name in cifar10.SPEC.train + cifar10.SPEC.test:
        x = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
        y = rng.integers(0, 10, n).tolist()
        members[name] = _batch_bytes(x, [y])
        xs.append(x)
        ys.append(y)
    members["batches.meta"] = pickle.dumps({b"label_names": [b"airplane"]}, protocol=3)
    _tar(path, cifar10.SPEC.inner, members)
    return path, np.concatenate(xs[:5]), sum(ys[:5], []), xs[5], ys[5]


def fake_cifar100(path, n=4, seed=1):
    rng = np.random.default_rng(seed)
    members, out = {}, {}
    for name in ("train", "test"):
        x = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
        fine, coarse = rng.integers(0, 100, n).tolist(), rng.integers(0, 20, n).tolist()
        members[name] = _batch_bytes(x, [fine, coarse], ("fine_labels", "coarse_labels"), numpy1=False)
        out[name] = (x, fine, coarse)
    _tar(path, cifar100.SPEC.inner, members)
    return path, out


class Served:
    """Stands in for urlopen: serves one file's bytes for one URL, recording what was asked for."""

    def __init__(self, url, path):
        self.url, self.data, self.asked = url, open(path, "rb").read(), []

    def __call__(self, url, timeout):
        self.asked.append(url)
        if url != self.url:
            raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)
        resp = io.BytesIO(self.data)
        resp.headers = {"Content-Length": str(len(self.data))}
        return resp


def _cache(home):
    return home / ".cache" / "visualkeras-app" / "datasets"


def test_cifar10_download_checks_the_hash_caches_and_matches_keras(tmp_path, monkeypatch, isolated, keras, capsys):
    path, x_train, y_train, x_test, y_test = fake_cifar10(str(tmp_path / "served" / "cifar-10-python.tar.gz"))
    served = Served(cifar10.SPEC.url, path)
    monkeypatch.setattr(_loader, "_urlopen", served)
    # The fake's digest stands in for Keras's published one (which only the real 163 MB file has).
    digest = hashlib.sha256(served.data).hexdigest()
    assert cifar10.SPEC.sha256 == "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
    assert cifar10.SPEC.url == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    monkeypatch.setattr(cifar10, "SPEC", cifar10.SPEC.__class__(**{**cifar10.SPEC.__dict__, "sha256": digest}))

    (xa, ya), (xb, yb) = cifar10.load_data()
    assert served.asked == [cifar10.SPEC.url]
    assert "Downloading data from https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz" in capsys.readouterr().err
    assert xa.shape == (15, 32, 32, 3) and xb.shape == (3, 32, 32, 3) and xa.dtype == np.uint8
    assert ya.shape == (15, 1) and yb.shape == (3, 1) and ya.dtype == yb.dtype == np.uint8
    np.testing.assert_array_equal(xa, x_train.transpose(0, 2, 3, 1))
    assert ya[:, 0].tolist() == y_train and yb[:, 0].tolist() == y_test
    assert os.listdir(_cache(isolated)) == ["cifar-10-python.tar.gz"]

    # Keras's own parser of the same batches gives the same arrays.
    from keras.src.datasets.cifar import load_batch

    extracted = tmp_path / "extracted"
    with tarfile.open(path) as tar:
        tar.extractall(extracted, filter="data")
    kx, ky = load_batch(str(extracted / cifar10.SPEC.inner / "data_batch_2"))
    np.testing.assert_array_equal(kx.transpose(0, 2, 3, 1), xa[3:6])
    assert list(ky) == ya[3:6, 0].tolist()

    # Cached: offline now, without asking again.
    monkeypatch.setenv("VISUALKERAS_OFFLINE", "1")
    np.testing.assert_array_equal(cifar10.load_data()[1][0], xb)
    assert len(served.asked) == 1


def test_a_download_with_another_digest_is_not_kept(tmp_path, monkeypatch, isolated):
    path, *_ = fake_cifar10(str(tmp_path / "served" / "cifar-10-python.tar.gz"))
    monkeypatch.setattr(_loader, "_urlopen", Served(cifar10.SPEC.url, path))
    with pytest.raises(DatasetNotFoundError) as info:
        cifar10.load_data()
    msg = str(info.value)
    assert "SHA-256" in msg and cifar10.SPEC.sha256 in msg
    assert not _cache(isolated).exists() or os.listdir(_cache(isolated)) == []


def test_offline_message_says_what_to_download_and_where(monkeypatch, isolated):
    with pytest.raises(DatasetNotFoundError) as info:
        cifar100.load_data()
    msg = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert "network disabled in tests" in msg
    assert cifar100.SPEC.url in msg and cifar100.SPEC.sha256 in msg
    assert "$VISUALKERAS_DATA/cifar100/cifar-100-python.tar.gz" in msg
    assert str(isolated / ".keras" / "datasets" / "cifar-100-python-target" / "cifar-100-python") in msg
    assert str(_cache(isolated) / "cifar-100-python.tar.gz") in msg
    calls = []
    monkeypatch.setattr(_loader, "_urlopen", lambda url, timeout: calls.append(url))
    monkeypatch.setenv("VISUALKERAS_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="VISUALKERAS_OFFLINE"):
        cifar10.load_data()
    assert calls == []


def test_local_sources_in_order(tmp_path, monkeypatch, isolated):
    keras_folder = isolated / ".keras" / "datasets" / "cifar-10-batches-py-target"
    _, x_ours, *_ = fake_cifar10(str(_cache(isolated) / "cifar-10-python.tar.gz"), seed=1)
    _, x_keras_tar, *_ = fake_cifar10(str(tmp_path / "k.tar.gz"), seed=2)
    with tarfile.open(tmp_path / "k.tar.gz") as tar:
        tar.extractall(keras_folder, filter="data")              # Keras 3's extracted folder
    _, x_data, *_ = fake_cifar10(str(tmp_path / "data" / "cifar10" / "cifar-10-python.tar.gz"), seed=3)

    first = lambda: cifar10.load_data()[0][0][0]  # noqa: E731
    np.testing.assert_array_equal(first(), x_keras_tar[0].transpose(1, 2, 0))   # Keras's cache before ours
    monkeypatch.setenv("VISUALKERAS_DATA", str(tmp_path / "data"))
    np.testing.assert_array_equal(first(), x_data[0].transpose(1, 2, 0))        # VISUALKERAS_DATA first
    monkeypatch.delenv("VISUALKERAS_DATA")
    for name in os.listdir(keras_folder / "cifar-10-batches-py"):
        os.remove(keras_folder / "cifar-10-batches-py" / name)
    np.testing.assert_array_equal(first(), x_ours[0].transpose(1, 2, 0))        # then the app's cache


def test_cifar100_fine_and_coarse(tmp_path, monkeypatch):
    path, out = fake_cifar100(str(tmp_path / "data" / "cifar-100-python.tar.gz"))
    monkeypatch.setenv("VISUALKERAS_DATA", str(tmp_path / "data"))
    (xa, ya), (xb, yb) = cifar100.load_data()
    np.testing.assert_array_equal(xa, out["train"][0].transpose(0, 2, 3, 1))
    assert ya[:, 0].tolist() == out["train"][1] and yb[:, 0].tolist() == out["test"][1]
    assert ya.shape == (4, 1) and ya.dtype == np.int64        # as Keras: reshaped from the label list
    (_, ya), (_, yb) = cifar100.load_data(label_mode="coarse")
    assert ya[:, 0].tolist() == out["train"][2] and yb[:, 0].tolist() == out["test"][2]
    with pytest.raises(ValueError, match="label_mode"):
        cifar100.load_data(label_mode="medium")


class _RunsCode:
    """Pickles into a call of ``os.makedirs(target)``: loading it must not create the folder."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (os.makedirs, (self.target,))


@pytest.mark.parametrize("payload", ["call", "object_array"])
def test_pickles_that_run_code_are_refused(tmp_path, monkeypatch, payload):
    target = str(tmp_path / "created_by_the_pickle")
    x = np.zeros((2, 3, 32, 32), np.uint8)
    if payload == "call":
        evil = pickle.dumps({b"data": x.reshape(2, -1), b"labels": [0, 1], b"x": _RunsCode(target)}, protocol=3)
    else:  # the code hidden in an object array's elements
        arr = np.empty(2, dtype=object)
        arr[:] = [_RunsCode(target), 1]
        evil = pickle.dumps({b"data": arr, b"labels": [0, 1]}, protocol=3)
    members = {name: evil for name in cifar10.SPEC.train + cifar10.SPEC.test}
    _tar(str(tmp_path / "data" / "cifar10" / "cifar-10-python.tar.gz"), cifar10.SPEC.inner, members)
    monkeypatch.setenv("VISUALKERAS_DATA", str(tmp_path / "data"))
    with pytest.raises(_cifar.CIFARFormatError, match="refused to load the global .os.makedirs."):
        cifar10.load_data()
    assert not os.path.exists(target)


@pytest.mark.parametrize("mutate, match", [
    (lambda d: d.pop(b"labels"), "lacks"),
    (lambda d: d.update({b"data": np.zeros((2, 100), np.uint8)}), r"shape \(N, 3072\)"),
    (lambda d: d.update({b"data": np.zeros((2, 3072), np.float32)}), "uint8"),
    (lambda d: d.update({b"labels": [0]}), "2 images but 1 labels"),
    (lambda d: d.update({b"labels": [0, 10]}), r"0\.\.9"),
])
def test_bad_batches_are_reported(mutate, match):
    d = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1]}
    mutate(d)
    with pytest.raises(_cifar.CIFARFormatError, match=match):
        _cifar.parse_batch(pickle.dumps(d, protocol=3), "labels", 10, "f")
    with pytest.raises(_cifar.CIFARFormatError, match="not a readable"):
        _cifar.parse_batch(pickle.dumps(d, protocol=3)[:40], "labels", 10, "f")


def test_archive_without_the_batches_is_reported(tmp_path, monkeypatch):
    _tar(str(tmp_path / "data" / "cifar-10-python.tar.gz"), "other-folder", {"data_batch_1": b"x"})
    monkeypatch.setenv("VISUALKERAS_DATA", str(tmp_path / "data"))
    with pytest.raises(_cifar.CIFARFormatError, match="has no cifar-10-batches-py/data_batch_1"):
        cifar10.load_data()
    (tmp_path / "data" / "cifar-10-python.tar.gz").write_bytes(b"not a tarball")
    with pytest.raises(_cifar.CIFARFormatError, match="not a readable .tar.gz"):
        cifar10.load_data()
