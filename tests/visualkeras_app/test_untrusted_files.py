"""Hostile files opened in the window (issue 18): a plain message naming the file, never a crash, a
hang or a traceback; the window keeps working afterwards."""
import json
import math
import os
import threading

import pytest

pytest.importorskip("pytestqt")

from tests.visualkeras_app.test_mainwindow import dialogs, make_window, window  # noqa: E402,F401
from visualkeras_app.document.project import save_project  # noqa: E402
from visualkeras_app.document.templates import load_template  # noqa: E402


def nan_project(tmp_path):
    path = tmp_path / "nan.vkproj"
    save_project(load_template("seed_mlp"), path)
    data = json.loads(path.read_text())
    data["nodes"][1]["pos"] = [math.nan, 0.0]
    path.write_text(json.dumps(data))  # JSON's NaN, as Python writes it
    return path


def test_a_nan_position_is_refused_and_fit_to_view_still_works(window, dialogs, tmp_path):
    path = nan_project(tmp_path)
    assert window.open_file(path) is False
    (call,) = dialogs.of("critical")
    assert "nan.vkproj" in call[2] and "position of layer 'dense'" in call[2] and "Traceback" not in call[2]
    window.new_from_template("seed_mlp")
    window.act_fit.trigger()  # with a NaN position this killed the window (signal 11)
    assert all(math.isfinite(v) for n in window.controller.document.nodes.values() for v in n.pos)


def test_pasting_layers_with_a_nan_position_is_refused(window, dialogs):
    window.new_from_template("seed_mlp")
    text = window.controller.copy_nodes(list(window.controller.document.nodes)[1:2])
    data = json.loads(text)
    data["nodes"][0]["pos"] = [math.inf, math.nan]
    before = len(window.controller.document.nodes)
    assert window.controller.paste(json.dumps(data)) == []
    assert len(window.controller.document.nodes) == before
    window.act_fit.trigger()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_fifo_named_like_a_project_is_refused_without_hanging(window, dialogs, tmp_path):
    fifo = tmp_path / "x.json"
    os.mkfifo(fifo)
    done = threading.Event()

    def unblock():  # if the window were stuck reading, a writer would free it (and the test fails)
        if not done.wait(10):
            with open(fifo, "w") as f:
                f.write("{}")

    threading.Thread(target=unblock, daemon=True).start()
    assert window.open_file(fifo) is False
    done.set()
    (call,) = dialogs.of("critical")
    assert "x.json" in call[2] and "not a regular file" in call[2]
