import os

# Real Keras (the interop reference) must run on torch; set before anything imports keras.
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_names_and_seed():
    from engine import backend

    backend.clear_session()
    backend.set_seed(1234)
    yield


@pytest.fixture
def keras():
    """Real Keras 3 on torch, for comparisons; the test is skipped where it is not installed."""
    k = pytest.importorskip("keras")
    if k.backend.backend() != "torch":
        pytest.skip("Keras is not on its torch backend (set KERAS_BACKEND=torch)")
    return k


def data_dir():
    """The folder with mnist/ (VISUALKERAS_DATA, else ../shared/data beside the checkout)."""
    env = os.environ.get("VISUALKERAS_DATA")
    if env:
        return env
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(os.path.dirname(here), "shared", "data")
