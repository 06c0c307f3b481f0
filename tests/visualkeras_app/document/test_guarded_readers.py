"""Readers with the model loader's guards (issue 18, "Why" 5): the project's weights file refuses HDF5
links and decompression bombs, and only regular files are read (a FIFO must not hang anything)."""
import contextlib
import json
import os
import threading

import h5py
import numpy as np
import pytest

from visualkeras_app.document.convert import document_to_model, model_to_document
from visualkeras_app.document.project import ProjectError, load_project, open_any, save_project
from visualkeras_app.document.templates import load_template

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")


def trained_project(tmp_path):
    """A project with weights, its hash left out (as older projects): the weights file's own guards
    must refuse what follows, not only the hash check."""
    path = tmp_path / "mlp.vkproj"
    save_project(model_to_document(document_to_model(load_template("seed_mlp"))), path)
    data = json.loads(path.read_text())
    del data["weights_sha256"]
    path.write_text(json.dumps(data))
    return path, tmp_path / data["weights"]


def test_an_external_link_in_the_weights_file_is_refused(tmp_path):
    path, weights = trained_project(tmp_path)
    other = tmp_path / "secret.h5"
    with h5py.File(other, "w") as f:
        f["numbers"] = np.full((100, 64), 7.0, np.float32)  # another file's numbers, shaped as a kernel
    with h5py.File(weights, "a") as f:
        del f["layers/0/0"]
        f["layers/0/0"] = h5py.ExternalLink(os.fspath(other), "numbers")
    with pytest.raises(ProjectError, match="external link"):
        load_project(path)


def test_a_soft_link_in_the_weights_file_is_refused(tmp_path):
    path, weights = trained_project(tmp_path)
    with h5py.File(weights, "a") as f:
        del f["layers/1"]
        f["layers/1"] = h5py.SoftLink("/layers/0")
    with pytest.raises(ProjectError, match="soft link"):
        load_project(path)


def test_a_decompression_bomb_in_the_weights_file_is_refused_before_reading(tmp_path):
    path, weights = trained_project(tmp_path)
    with h5py.File(weights, "a") as f:
        del f["layers/0/0"]
        # 512 MiB declared, almost nothing stored: reading it would allocate all of it.
        f.create_dataset("layers/0/0", shape=(2**27,), dtype="f4", compression="gzip", chunks=(2**20,))
    assert os.path.getsize(weights) < 1 << 20
    with pytest.raises(ProjectError, match="bomb"):
        load_project(path)


@contextlib.contextmanager
def fifo_at(path):
    """A named pipe at ``path``; if a reader still blocks on it after 10 s, a writer frees it (and the
    test then fails on what was read instead of hanging)."""
    os.mkfifo(path)
    done = threading.Event()

    def unblock():
        if not done.wait(10):
            with open(path, "w") as f:
                f.write("{}")

    threading.Thread(target=unblock, daemon=True).start()
    try:
        yield path
    finally:
        done.set()


@needs_fifo
@pytest.mark.parametrize("name", ["x.json", "x.vkproj", "x.h5", "x.keras"])
def test_a_fifo_is_refused_at_once(tmp_path, name):
    with fifo_at(tmp_path / name) as path:
        with pytest.raises(ProjectError, match="not a regular file"):
            open_any(path)


@needs_fifo
def test_the_cli_refuses_a_fifo_with_a_message(tmp_path, capsys):
    from visualkeras_app.cli import main

    with fifo_at(tmp_path / "x.json") as path:
        code = main(["summary", os.fspath(path)])
    err = capsys.readouterr().err
    assert code != 0 and "x.json" in err and "not a regular file" in err and "Traceback" not in err


@needs_fifo
def test_the_engine_loader_refuses_a_fifo(tmp_path):
    from engine.saving import ModelFileError, load_model

    with fifo_at(tmp_path / "m.h5") as path:
        with pytest.raises(ModelFileError, match="not a regular file"):
            load_model(path)
