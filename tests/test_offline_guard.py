"""The guard in tests/conftest.py: a test that reaches for another machine fails at once (nothing is
sent), while this machine's loopback, which torchrun's rendezvous uses, still works."""
import socket

import pytest

from tests.conftest import NetworkAccessInTests


def test_connections_and_look_ups_off_this_machine_fail():
    with pytest.raises(NetworkAccessInTests, match="192.0.2.1"):
        socket.create_connection(("192.0.2.1", 80), timeout=1)  # TEST-NET-1: refused before any packet
    with pytest.raises(NetworkAccessInTests, match="example.invalid"):
        socket.getaddrinfo("example.invalid", 443)
    import urllib.request

    with pytest.raises(OSError):  # urllib wraps the guard's error in URLError, an OSError
        urllib.request.urlopen("https://example.invalid/", timeout=1)


def test_loopback_still_works():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        client = socket.create_connection(server.getsockname(), timeout=5)
        conn, _ = server.accept()
        client.sendall(b"ok")
        assert conn.recv(2) == b"ok"
        conn.close()
        client.close()
    finally:
        server.close()
    assert socket.getaddrinfo("localhost", 80)
