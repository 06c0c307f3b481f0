"""engine.datasets: the real MNIST files (shipped in the package), the order of the sources, downloads (never
over the network) and errors."""
import dataclasses
import gzip
import hashlib
import io
import os
import struct
import time
import urllib.error

import shutil

import numpy as np
import pytest

from engine.datasets import _loader, fashion_mnist, mnist
from engine.datasets._loader import IDX_FILES, ChecksumError, DatasetNotFoundError, DownloadError, IDXFormatError

SHIPPED_MNIST = mnist.SPEC.packaged
DEBIAN_FASHION_MNIST = fashion_mnist.SPEC.system_folders


@pytest.fixture(autouse=True)
def isolated(offline_home, tmp_path, monkeypatch):
    """A fake HOME, no data/cache variables, and a network that always fails (tests/engine/conftest.py)."""
    home = offline_home
    # The system folder moved to one the test owns (a machine with the Debian package must not change results).
    (system_folder, how), = DEBIAN_FASHION_MNIST
    monkeypatch.setattr(fashion_mnist, "SPEC", dataclasses.replace(
        fashion_mnist.SPEC, system_folders=((str(tmp_path / "system" / "fashion-mnist"), how),)))
    return home


@pytest.fixture
def no_shipped_copy(monkeypatch):
    """MNIST as if the package shipped no copy of it (the caches and downloads are reached)."""
    monkeypatch.setattr(mnist, "SPEC", dataclasses.replace(mnist.SPEC, packaged=None))


def idx_bytes(arr, type_code=0x08):
    arr = np.asarray(arr)
    header = bytes([0, 0, type_code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def fake_split(n, label):
    x = np.full((n, 28, 28), label, dtype=np.uint8)
    y = np.full((n,), label, dtype=np.uint8)
    return x, y


def write_idx_folder(folder, train_label, n_train=3, n_test=2, gz=True):
    """The four IDX files with every label (and pixel) = train_label, test = train_label + 1."""
    os.makedirs(folder, exist_ok=True)
    (xtr, ytr), (xte, yte) = fake_split(n_train, train_label), fake_split(n_test, train_label + 1)
    for name, arr in zip(IDX_FILES, (xtr, ytr, xte, yte)):
        data = idx_bytes(arr)
        path = os.path.join(folder, name if gz else name[:-3])
        with open(path, "wb") as f:
            f.write(gzip.compress(data) if gz else data)
    return folder


def write_npz(path, train_label, n_train=3, n_test=2):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    (xtr, ytr), (xte, yte) = fake_split(n_train, train_label), fake_split(n_test, train_label + 1)
    np.savez(path, x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
    return path


def train_label(result):
    (x_train, y_train), (x_test, y_test) = result
    assert x_train.dtype == y_train.dtype == x_test.dtype == y_test.dtype == np.uint8
    assert x_train.shape[1:] == (28, 28) and y_train.ndim == 1
    return int(y_train[0])


# ------------------------------------------------------------------------------------------
# The real files


def test_real_mnist_ships_in_the_package():
    # No VISUALKERAS_DATA, an empty HOME and no network (the autouse fixture): the shipped copy.
    start = time.perf_counter()
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    elapsed = time.perf_counter() - start
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert x_train.dtype == y_train.dtype == x_test.dtype == y_test.dtype == np.uint8
    assert y_train[:5].tolist() == [5, 0, 4, 1, 9]
    assert y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert x_train.max() == 255 and x_train.min() == 0
    # The whole training images file, byte for byte (the MD5 of the uncompressed IDX file).
    raw = struct.pack(">4I", 2051, 60000, 28, 28) + x_train.tobytes()
    assert hashlib.md5(raw).hexdigest() == "6bbc9ace898e44ae57da46a324031adb"
    assert elapsed < 10, f"loading MNIST took {elapsed:.1f}s"

    # A second load comes from the in-process cache, and hands out independent writable arrays.
    x_train[0] = 0
    start = time.perf_counter()
    (x2, _), _ = mnist.load_data()
    assert time.perf_counter() - start < elapsed + 0.5
    assert x2.flags.writeable and x2[0].max() == 255


def test_shipped_files_have_license_and_digests():
    assert sorted(n for n in os.listdir(SHIPPED_MNIST) if n.endswith(".gz")) == sorted(IDX_FILES)
    published = mnist.SPEC.idx_sha256()
    with open(os.path.join(SHIPPED_MNIST, "SHA256SUMS")) as f:
        sums = dict(reversed(line.split()) for line in f if line.strip())
    assert sums == published                                        # the file for people agrees with the code
    for name in IDX_FILES:
        with open(os.path.join(SHIPPED_MNIST, name), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == published[name]
    with open(os.path.join(SHIPPED_MNIST, "LICENSE.txt")) as f:
        text = f.read()
    assert "Yann LeCun" in text and "Corinna Cortes" in text and "CC BY-SA 3.0" in text


def _shipped_copy_in(folder):
    os.makedirs(folder)
    for name in IDX_FILES:
        shutil.copy(os.path.join(SHIPPED_MNIST, name), folder)
    return folder


def test_a_damaged_shipped_copy_is_refused_by_its_digest(tmp_path, monkeypatch, isolated):
    folder = _shipped_copy_in(str(tmp_path / "pkg"))
    path = os.path.join(folder, "t10k-labels-idx1-ubyte.gz")
    with open(path, "rb") as f:
        data = bytearray(f.read())
    # Still a valid gzip'd IDX file of the right shape (a label changed): only the digest tells.
    labels = _loader.parse_idx(bytes(data)).copy()
    labels[0] = (labels[0] + 1) % 10
    with open(path, "wb") as f:
        f.write(gzip.compress(idx_bytes(labels)))
    monkeypatch.setattr(mnist, "SPEC", dataclasses.replace(mnist.SPEC, packaged=folder))
    with pytest.raises(DatasetNotFoundError) as info:
        mnist.load_data()
    msg = str(info.value)
    assert "t10k-labels-idx1-ubyte.gz" in msg and "SHA-256" in msg and "Reinstall visualkeras-app" in msg
    # A good copy in a cache is used instead.
    write_idx_folder(str(isolated / ".cache" / "visualkeras-app" / "datasets" / "mnist"), 3)
    assert train_label(mnist.load_data()) == 3


def test_idx_uncompressed_and_variant_names(tmp_path, monkeypatch):
    write_idx_folder(str(tmp_path / "data" / "mnist"), 4, gz=False)
    monkeypatch.setenv("VISUALKERAS_DATA", str(tmp_path / "data"))
    assert train_label(mnist.load_data()) == 4


# ------------------------------------------------------------------------------------------
# The order of the sources


def test_source_order(tmp_path, monkeypatch, isolated, no_shipped_copy):
    data = tmp_path / "data"
    keras_cache = isolated / ".keras" / "datasets"
    ours = isolated / ".cache" / "visualkeras-app" / "datasets"
    write_idx_folder(str(ours / "mnist"), 3)
    assert train_label(mnist.load_data()) == 3                      # (3) the app's cache
    write_npz(str(keras_cache / "mnist.npz"), 2)
    assert train_label(mnist.load_data()) == 2                      # (2) Keras's cache wins over it
    write_npz(str(data / "mnist.npz"), 1)
    monkeypatch.setenv("VISUALKERAS_DATA", str(data))
    assert train_label(mnist.load_data()) == 1                      # (1) VISUALKERAS_DATA: .npz
    write_idx_folder(str(data / "mnist"), 0)
    assert train_label(mnist.load_data()) == 0                      # ... and its IDX folder first


def test_shipped_copy_comes_after_visualkeras_data_and_before_the_caches(tmp_path, monkeypatch, isolated):
    write_idx_folder(str(isolated / ".cache" / "visualkeras-app" / "datasets" / "mnist"), 3)
    write_npz(str(isolated / ".keras" / "datasets" / "mnist.npz"), 2)
    assert mnist.load_data()[0][1][:5].tolist() == [5, 0, 4, 1, 9]  # the real, shipped MNIST
    write_idx_folder(str(tmp_path / "data" / "mnist"), 1)
    monkeypatch.setenv("VISUALKERAS_DATA", str(tmp_path / "data"))
    assert train_label(mnist.load_data()) == 1


def test_npz_inside_folder_and_keras_home(tmp_path, monkeypatch, no_shipped_copy):
    write_npz(str(tmp_path / "data" / "mnist" / "mnist.npz"), 6)
    monkeypatch.setenv("VISUALKERAS_DATA", str(tmp_path / "data"))
    assert train_label(mnist.load_data()) == 6
    monkeypatch.delenv("VISUALKERAS_DATA")
    write_npz(str(tmp_path / "kh" / "datasets" / "digits.npz"), 7)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    assert train_label(mnist.load_data(path="digits.npz")) == 7     # Keras's `path` argument


def test_visualkeras_cache_variable(tmp_path, monkeypatch, no_shipped_copy):
    write_idx_folder(str(tmp_path / "c" / "datasets" / "mnist"), 8)
    monkeypatch.setenv("VISUALKERAS_CACHE", str(tmp_path / "c"))
    assert _loader.cache_dir() == str(tmp_path / "c" / "datasets")
    assert train_label(mnist.load_data()) == 8


def test_fashion_mnist_sources(tmp_path, monkeypatch, isolated):
    write_idx_folder(str(isolated / ".keras" / "datasets" / "fashion-mnist"), 5)
    assert train_label(fashion_mnist.load_data()) == 5                # Keras's cache folder
    write_idx_folder(str(tmp_path / "data" / "fashion-mnist"), 4)
    monkeypatch.setenv("VISUALKERAS_DATA", str(tmp_path / "data"))
    assert train_label(fashion_mnist.load_data()) == 4                # Keras's folder name is accepted
    write_idx_folder(str(tmp_path / "data" / "fashion_mnist"), 2)
    assert train_label(fashion_mnist.load_data()) == 2                # our name comes first


def test_fashion_mnist_from_the_debian_package_folder(tmp_path, isolated):
    assert DEBIAN_FASHION_MNIST[0][0] == "/usr/share/datasets/fashion-mnist"   # where dataset-fashion-mnist puts it
    system = str(tmp_path / "system" / "fashion-mnist")                        # the fixture's stand-in for it
    with pytest.raises(DatasetNotFoundError) as info:
        fashion_mnist.load_data()
    assert system in str(info.value) and "apt install dataset-fashion-mnist" in str(info.value)
    write_idx_folder(system, 6)
    assert train_label(fashion_mnist.load_data()) == 6
    write_idx_folder(str(isolated / ".cache" / "visualkeras-app" / "datasets" / "fashion_mnist"), 7)
    assert train_label(fashion_mnist.load_data()) == 7                # the caches come first


# ------------------------------------------------------------------------------------------
# Downloads


class Served:
    """Stands in for urlopen: serves local files by the URL's last part, recording the URLs asked for."""

    def __init__(self, files, content_length=None, fail_after=None):
        self.files, self.asked = files, []
        self.content_length, self.fail_after = content_length, fail_after

    def __call__(self, url, timeout):
        self.asked.append(url)
        name = url.rsplit("/", 1)[-1]
        if name not in self.files:
            raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)
        with open(self.files[name], "rb") as f:
            data = f.read()
        return _Response(data, self.content_length, self.fail_after)


class _Response(io.BytesIO):
    def __init__(self, data, content_length, fail_after):
        super().__init__(data)
        self.headers = {"Content-Length": str(content_length or len(data))}
        self.fail_after = fail_after

    def read(self, n=-1):
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise ConnectionResetError("connection reset by peer")
        return super().read(n)


def _leftovers(folder):
    return [n for n in os.listdir(folder) if n.endswith(".part")] if os.path.isdir(folder) else []


@pytest.mark.slow  # serves the real 11 MB of MNIST (0.25-0.45 s); the other download tests stay in the fast loop
def test_download_falls_back_to_idx_mirror_and_caches(tmp_path, monkeypatch, capsys, isolated, no_shipped_copy):
    fake_npz = write_npz(str(tmp_path / "served" / "mnist.npz"), 1)  # wrong bytes for the npz's SHA-256
    served = Served({"mnist.npz": fake_npz, **{n: os.path.join(SHIPPED_MNIST, n) for n in IDX_FILES}})
    monkeypatch.setattr(_loader, "_urlopen", served)

    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert y_train[:5].tolist() == [5, 0, 4, 1, 9] and y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert served.asked[0].endswith("tf-keras-datasets/mnist.npz")
    cache = isolated / ".cache" / "visualkeras-app" / "datasets"
    assert not (cache / "mnist.npz").exists()                        # the mismatching npz was not kept
    assert sorted(os.listdir(cache / "mnist")) == sorted(IDX_FILES)  # no temporary files either
    assert _leftovers(cache) == []
    err = capsys.readouterr().err
    assert "Downloading data from https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz" in err
    assert "9912422/9912422" in err and "\u2501" in err               # Keras's progress bar, on stderr

    # Now cached: works offline, without asking the network again.
    monkeypatch.setenv("VISUALKERAS_OFFLINE", "1")
    n_asked = len(served.asked)
    assert mnist.load_data()[0][1][:5].tolist() == [5, 0, 4, 1, 9]
    assert len(served.asked) == n_asked


def test_fetch_file_url_checks_sha256_atomically(tmp_path):
    src = tmp_path / "payload.bin"
    src.write_bytes(os.urandom(200_000))
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    dest_dir = tmp_path / "cache"
    dest = str(dest_dir / "payload.bin")

    with pytest.raises(ChecksumError, match="SHA-256"):
        _loader_fetch_real(src.as_uri(), dest, "0" * 64)
    assert os.listdir(dest_dir) == []                                # nothing left behind

    assert _loader_fetch_real(src.as_uri(), dest, digest) == dest
    assert open(dest, "rb").read() == src.read_bytes()
    assert os.listdir(dest_dir) == ["payload.bin"]


def _loader_fetch_real(url, dest, sha):
    """fetch() through the real urllib opener (file:// URLs need no network)."""
    import urllib.request

    saved = _loader._urlopen
    _loader._urlopen = lambda u, timeout: urllib.request.urlopen(u, timeout=timeout)
    try:
        return _loader.fetch(url, dest, sha)
    finally:
        _loader._urlopen = saved


@pytest.mark.parametrize("served_kwargs, match", [
    (dict(fail_after=65536), "connection reset"),               # the connection drops mid-way
    (dict(content_length=10_000_000), "stopped after"),         # the server sends less than announced
])
def test_interrupted_download_leaves_nothing(tmp_path, monkeypatch, served_kwargs, match):
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(300_000))
    monkeypatch.setattr(_loader, "_urlopen", Served({"big.bin": str(src)}, **served_kwargs))
    dest_dir = tmp_path / "cache"
    with pytest.raises(DownloadError, match=match):
        _loader.fetch("https://example.invalid/big.bin", str(dest_dir / "big.bin"),
                      hashlib.sha256(src.read_bytes()).hexdigest())
    assert os.listdir(dest_dir) == []


def test_download_with_custom_spec_tries_mirrors_in_order(tmp_path, monkeypatch, capsys):
    npz = write_npz(str(tmp_path / "served" / "tiny.npz"), 3)
    sha = hashlib.sha256(open(npz, "rb").read()).hexdigest()
    spec = _loader.DatasetSpec(
        name="tiny", title="Tiny", folders=("tiny",), keras_npz=None, keras_folder=None,
        downloads=((_loader.RemoteFile("tiny.npz", ("https://a.invalid/x/missing.npz", "https://b.invalid/tiny.npz"),
                                       sha),),),
    )
    served = Served({"tiny.npz": npz})
    monkeypatch.setattr(_loader, "_urlopen", served)
    monkeypatch.setenv("VISUALKERAS_CACHE", str(tmp_path / "c"))
    assert train_label(_loader.load(spec)) == 3
    assert served.asked == ["https://a.invalid/x/missing.npz", "https://b.invalid/tiny.npz"]
    assert os.listdir(tmp_path / "c" / "datasets") == ["tiny.npz"]


# ------------------------------------------------------------------------------------------
# Errors


def test_offline_error_says_where_to_put_the_files(tmp_path, monkeypatch, isolated, no_shipped_copy):
    write_idx_folder(str(tmp_path / "data" / "mnist"), 1)
    os.remove(tmp_path / "data" / "mnist" / "t10k-labels-idx1-ubyte.gz")   # an incomplete folder
    monkeypatch.setenv("VISUALKERAS_DATA", str(tmp_path / "data"))
    with pytest.raises(DatasetNotFoundError) as info:
        mnist.load_data()
    assert isinstance(info.value, OSError)
    msg = str(info.value)
    assert "network disabled in tests" in msg
    assert "VISUALKERAS_DATA" in msg and str(tmp_path / "data") in msg
    for name in IDX_FILES:
        assert f"$VISUALKERAS_DATA/mnist/{name}" in msg
    assert "$VISUALKERAS_DATA/mnist.npz" in msg
    assert str(isolated / ".keras" / "datasets" / "mnist.npz") in msg
    assert str(isolated / ".cache" / "visualkeras-app" / "datasets" / "mnist") in msg
    assert "missing: t10k-labels-idx1-ubyte.gz" in msg
    assert "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz" in msg


def test_offline_variable_skips_downloads(monkeypatch):
    calls = []
    monkeypatch.setattr(_loader, "_urlopen", lambda url, timeout: calls.append(url))
    monkeypatch.setenv("VISUALKERAS_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="VISUALKERAS_OFFLINE"):
        fashion_mnist.load_data()
    assert calls == []


def test_fashion_mnist_error_names_its_folders(isolated):
    with pytest.raises(DatasetNotFoundError) as info:
        fashion_mnist.load_data()
    msg = str(info.value)
    assert "$VISUALKERAS_DATA/fashion_mnist/train-images-idx3-ubyte.gz" in msg
    assert str(isolated / ".keras" / "datasets" / "fashion-mnist") in msg
    assert "https://storage.googleapis.com/tensorflow/tf-keras-datasets/t10k-labels-idx1-ubyte.gz" in msg


@pytest.mark.parametrize("data, match", [
    (b"\x01\x00\x08\x01" + struct.pack(">I", 2) + b"\x00\x01", "two zero bytes"),
    (b"\x00\x00\x07\x01" + struct.pack(">I", 2) + b"\x00\x01", "type code 0x07"),
    (b"\x00\x00\x08\x03" + struct.pack(">3I", 2, 28, 28) + bytes(100), "truncated"),
    (b"\x00\x00\x08\x01" + struct.pack(">I", 2) + b"\x00\x01\x02", "holds 3 bytes"),
    (b"\x00\x00\x08\x02\x00\x00", "header is cut short"),
    (b"\x00\x00", "only 2 bytes"),
    (gzip.compress(idx_bytes(np.zeros(50, np.uint8)), mtime=0)[:-12], "gzip"),  # mtime=0: the same test id in every process (pytest-xdist compares them)
])
def test_parse_idx_errors(data, match):
    with pytest.raises(IDXFormatError, match=match):
        _loader.parse_idx(data, source="f.idx")


def test_parse_idx_types():
    arr = np.arange(6, dtype=np.int32).reshape(2, 3) - 3
    out = _loader.parse_idx(gzip.compress(idx_bytes(arr, 0x0C)))
    np.testing.assert_array_equal(out, arr)
    assert out.dtype == np.int32 and out.dtype.isnative
    f = np.array([1.5, -2.0], dtype=np.float32)
    np.testing.assert_array_equal(_loader.parse_idx(idx_bytes(f, 0x0D)), f)


def test_mismatched_files_are_reported(tmp_path, monkeypatch):
    folder = write_idx_folder(str(tmp_path / "data" / "mnist"), 1)
    with open(os.path.join(folder, "train-labels-idx1-ubyte.gz"), "wb") as f:
        f.write(gzip.compress(idx_bytes(np.zeros(5, np.uint8))))
    monkeypatch.setenv("VISUALKERAS_DATA", str(tmp_path / "data"))
    with pytest.raises(IDXFormatError, match="3 training images but 5 training labels"):
        mnist.load_data()
    with open(os.path.join(folder, "train-images-idx3-ubyte.gz"), "wb") as f:
        f.write(gzip.compress(idx_bytes(np.zeros((5, 32, 32), np.uint8))))
    with pytest.raises(IDXFormatError, match=r"expected \(N, 28, 28\)"):
        mnist.load_data()


def test_bad_npz_is_reported(tmp_path, monkeypatch):
    path = tmp_path / "data" / "mnist.npz"
    path.parent.mkdir()
    np.savez(path, x=np.zeros(3))
    monkeypatch.setenv("VISUALKERAS_DATA", str(tmp_path / "data"))
    with pytest.raises(IDXFormatError, match="lacks the arrays"):
        mnist.load_data()
    path.write_bytes(b"not a zip file")
    with pytest.raises(IDXFormatError, match="not a readable Keras .npz"):
        mnist.load_data()


def test_a_decompression_bomb_is_refused_before_it_takes_the_memory(tmp_path, monkeypatch):
    folder = write_idx_folder(str(tmp_path / "data" / "mnist"), 1)
    with open(os.path.join(folder, "train-images-idx3-ubyte.gz"), "wb") as f:
        f.write(gzip.compress(idx_bytes(np.zeros((3000, 28, 28), np.uint8))))   # 2.35 MB unpacked from 2 KB
    monkeypatch.setenv("VISUALKERAS_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("VISUALKERAS_MAX_DATA_BYTES", str(1 << 20))
    with pytest.raises(IDXFormatError, match="unpacks to more than 1,048,576 bytes.*VISUALKERAS_MAX_DATA_BYTES"):
        mnist.load_data()
    monkeypatch.setenv("VISUALKERAS_MAX_DATA_BYTES", str(4 << 20))
    with pytest.raises(IDXFormatError, match="3000 training images but 3 training labels"):  # under the limit: read
        mnist.load_data()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_a_pipe_in_place_of_an_idx_file_is_refused_without_waiting(tmp_path, monkeypatch, no_shipped_copy):
    import threading

    folder = write_idx_folder(str(tmp_path / "data" / "mnist"), 1)
    pipe = os.path.join(folder, "t10k-images-idx3-ubyte.gz")
    os.remove(pipe)
    os.mkfifo(pipe)
    monkeypatch.setenv("VISUALKERAS_DATA", str(tmp_path / "data"))
    outcome = []

    def load(call):
        try:
            call()
        except (IDXFormatError, DatasetNotFoundError) as e:
            outcome.append(e)

    for call in (mnist.load_data, lambda: _loader.read_idx(pipe)):
        worker = threading.Thread(target=load, args=(call,), daemon=True)
        worker.start()
        worker.join(10)
        assert not worker.is_alive(), "waited on the pipe"
    not_found, not_regular = outcome
    assert isinstance(not_found, DatasetNotFoundError) and "missing: t10k-images-idx3-ubyte.gz" in str(not_found)
    assert isinstance(not_regular, IDXFormatError) and "not a regular file" in str(not_regular)
