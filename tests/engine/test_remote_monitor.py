"""engine.callbacks.RemoteMonitor posts each epoch's logs to a loopback HTTP server, as a form field
holding JSON (Keras's default) or as a JSON body, with the given headers; an unreachable server warns."""
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest

import engine


@pytest.fixture
def server():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, dict(self.headers), body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    # A short poll interval: shutdown() waits up to one interval (0.5 s by default) for the loop to notice.
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", received
    httpd.shutdown()
    httpd.server_close()


def _fit(callback, epochs=2):
    model = engine.Sequential([engine.Input((3,)), engine.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x = np.ones((8, 3), "float32")
    return model.fit(x, np.zeros((8, 1), "float32"), epochs=epochs, batch_size=4, verbose=0, callbacks=[callback]).history


def test_posts_a_form_field_holding_json_each_epoch(server):
    root, received = server
    history = _fit(engine.callbacks.RemoteMonitor(root=root, headers={"X-Run": "7"}))
    assert [r[0] for r in received] == ["/publish/epoch/end/"] * 2
    for epoch, (_, headers, body) in enumerate(received):
        assert headers["Content-Type"] == "application/x-www-form-urlencoded" and headers["X-Run"] == "7"
        form = urllib.parse.parse_qs(body.decode())
        sent = json.loads(form["data"][0])
        assert sent["epoch"] == epoch and sorted(sent) == ["epoch", "loss", "mae"]
        assert sent["loss"] == pytest.approx(history["loss"][epoch], rel=1e-6)


def test_posts_a_json_body(server):
    root, received = server
    _fit(engine.callbacks.RemoteMonitor(root=root, path="/events", send_as_json=True), epochs=1)
    (path, headers, body), = received
    assert path == "/events" and headers["Content-Type"] == "application/json"
    assert sorted(json.loads(body)) == ["epoch", "loss", "mae"]


def test_an_unreachable_server_warns_and_training_goes_on(server):
    root, received = server
    port = int(root.rsplit(":", 1)[1])
    # A port nothing listens on (the fixture's own server is on `port`).
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    assert free != port
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor root server"):
        history = _fit(engine.callbacks.RemoteMonitor(root=f"http://127.0.0.1:{free}", timeout=2), epochs=1)
    assert len(history["loss"]) == 1 and received == []
