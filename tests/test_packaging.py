"""The wheel carries everything an installed app needs: templates, icons, MNIST with its license and
digests, the project's license; and nothing of the checkout that is not the product (tests, benchmarks)."""
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
               "t10k-labels-idx1-ubyte.gz")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The project's wheel, built offline from the checkout (the test extra brings a setuptools that can)."""
    # From a copy without build/ and *.egg-info: setuptools never clears build/, so a module deleted since an
    # earlier build would still be packed.
    src = tmp_path_factory.mktemp("src") / "visualkeras-app"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__",
                                                             ".pytest_cache", ".venv", "venv"))
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                           "--no-index", "-w", str(out), str(src)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (name,) = [n for n in os.listdir(out) if n.endswith(".whl")]
    with zipfile.ZipFile(out / name) as zf:
        yield zf


@pytest.mark.slow
def test_the_wheel_carries_the_apps_files(wheel):
    names = set(wheel.namelist())
    templates = sorted(n for n in os.listdir(os.path.join(REPO, "resources", "templates")) if n.endswith(".json"))
    assert templates
    for t in templates:
        assert f"visualkeras_app/resources/templates/{t}" in names
    assert "visualkeras_app/resources/icons/visualkeras-app.svg" in names
    assert "visualkeras_app/resources/palette.json" in names  # the Layers panel's list at launch, before torch
    assert "visualkeras_app/cli.py" in names and "engine/layers/core.py" in names
    assert not [n for n in names if n.startswith(("tests/", "bench/", "scripts/", ".ci/"))]
    licenses = [n for n in names if n.endswith(".dist-info/licenses/LICENSE") or n.endswith(".dist-info/LICENSE")]
    assert licenses, sorted(n for n in names if "dist-info" in n)
    assert "MIT License" in wheel.read(licenses[0]).decode()


@pytest.mark.slow
def test_the_wheel_carries_mnist_with_its_license_and_digests(wheel):
    folder = "engine/datasets/mnist/"
    sums = dict(reversed(line.split()) for line in wheel.read(folder + "SHA256SUMS").decode().splitlines() if line)
    assert sorted(sums) == sorted(MNIST_FILES)
    for name in MNIST_FILES:
        assert hashlib.sha256(wheel.read(folder + name)).hexdigest() == sums[name], name
    text = wheel.read(folder + "LICENSE.txt").decode()
    assert "Yann LeCun" in text and "Corinna Cortes" in text and "CC BY-SA 3.0" in text
    assert folder + "__init__.py" in wheel.namelist()
    size = sum(wheel.getinfo(folder + n).file_size for n in MNIST_FILES)
    assert 11_000_000 < size < 12_000_000  # the four original files, about 11 MB
