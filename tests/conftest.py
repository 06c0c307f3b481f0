"""Test set-up shared by every test: Keras on torch, Qt offscreen, no network, and the markers.

The tests need nothing beside the checkout: MNIST ships inside the package (engine/datasets/mnist/),
other data is made on the fly, and any attempt to reach another machine fails the test that made it.
"""
import ipaddress
import os
import socket
import sys

# Real Keras (the interop reference) must run on torch; set before anything imports keras.
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


class NetworkAccessInTests(OSError):
    """A test tried to reach another machine; the tests must pass offline."""


def _is_local(host):
    if host in ("localhost", "", None):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse_network():
    """Connections and name look-ups go only to this machine (torchrun's loopback rendezvous still works)."""
    real_connect, real_connect_ex, real_getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

    def check(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
            raise NetworkAccessInTests(f"the tests run offline, but a test connected to {address!r}")

    def connect(self, address):
        check(self, address)
        return real_connect(self, address)

    def connect_ex(self, address):
        check(self, address)
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if not _is_local(host.decode() if isinstance(host, bytes) else host):
            raise NetworkAccessInTests(f"the tests run offline, but a test looked up the address of {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo


def pytest_configure(config):
    _refuse_network()


def pytest_collection_modifyitems(config, items):
    # Every test that takes the `keras` fixture compares with real Keras: `-m keras` / `-m "not keras"`.
    for item in items:
        if "keras" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.keras)


@pytest.fixture(autouse=True)
def _fresh_names_and_seed():
    from engine import backend

    backend.clear_session()
    backend.set_seed(1234)
    yield


@pytest.fixture(autouse=True)
def _one_torch_thread_in_fast_tests(request):
    """Fast tests run torch on one intra-op thread: their tensors are tiny, and on busy cores a second OpenMP
    thread makes every op wait for a free core (a 5-epoch MLP: 0.1 s on one thread, 2.5 s on two). Slow tests
    and tests marked `torch_threads` keep torch's own count, so CI runs the threaded paths too."""
    torch = sys.modules.get("torch")
    if torch is None or request.node.get_closest_marker("slow") or request.node.get_closest_marker("torch_threads"):
        yield
        return
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


@pytest.fixture
def keras():
    """Real Keras 3 on torch, for comparisons; the test is skipped where it is not installed."""
    k = pytest.importorskip("keras")
    if k.backend.backend() != "torch":
        pytest.skip("Keras is not on its torch backend (set KERAS_BACKEND=torch)")
    return k
