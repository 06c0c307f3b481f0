"""fit/evaluate/predict and train_on_batch/test_on_batch under torchrun: two gloo processes on the CPU
against one process."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from engine import distribute
from engine.trainers import data_adapter as da

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPT = os.path.join(HERE, "distributed_script.py")


def _run(args, out, global_batch, optimizer):
    env = dict(os.environ, KERAS_BACKEND="torch", OMP_NUM_THREADS="1", GLOBAL_BATCH=str(global_batch),
               OPTIMIZER=optimizer,
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for k in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(k, None)
    os.makedirs(out)
    result = subprocess.run([sys.executable] + args + [SCRIPT, str(out)], capture_output=True, text=True,
                            timeout=300, env=env, cwd=str(out))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    procs = [json.loads(line[len("PROCESS "):]) for line in result.stdout.splitlines()
             if line.startswith("PROCESS ")]
    return {p["rank"]: p for p in procs}, result.stdout


def _weights(path):
    import engine

    return [np.asarray(w) for w in engine.models.load_model(str(path)).get_weights()]


# 51: the last batch of each epoch has 1 sample, so one process has none and runs a stand-in.
@pytest.mark.slow
@pytest.mark.parametrize("global_batch,optimizer", [(32, "adam"), (51, "sgd")])
def test_two_processes_under_torchrun_train_as_one(tmp_path, global_batch, optimizer):
    single, _ = _run([], tmp_path / "single", global_batch, optimizer)
    dist, stdout = _run(["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"],
                        tmp_path / "dist", global_batch, optimizer)
    assert sorted(dist) == [0, 1]

    # The same final weights (moving statistics included) as one process with the same global batch.
    one, two = _weights(tmp_path / "single" / "final.keras"), _weights(tmp_path / "dist" / "final.keras")
    assert len(one) == len(two)
    for a, b in zip(one, two):
        np.testing.assert_allclose(a, b, atol=1e-5)
    # Both processes ended with the same model.
    assert dist[0]["digest"] == dist[1]["digest"]

    # History, evaluate and predict describe the whole data, as one process's do.
    r1 = json.loads((tmp_path / "single" / "results.json").read_text())
    r2 = json.loads((tmp_path / "dist" / "results.json").read_text())
    assert r2["world_size"] == 2 and r1["world_size"] == 1
    assert r1["history"].keys() == r2["history"].keys() == {"loss", "accuracy", "val_loss", "val_accuracy"}
    for key in r1["history"]:
        np.testing.assert_allclose(r1["history"][key], r2["history"][key], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(r1["evaluate"], r2["evaluate"], rtol=1e-5)
    assert dist[0]["evaluate"] == dist[1]["evaluate"]
    np.testing.assert_allclose(np.array(r1["predict"]), np.array(r2["predict"]), atol=1e-5)
    assert np.array(r2["predict"]).shape == (37, 3)

    # train_on_batch from weights that differ per process: rank 0's weights everywhere, each process
    # computing its share of every batch, the same updates and logs as one process.
    def on_batch(name, rank):
        return json.loads((tmp_path / f"on-batch-{name}-{rank}.json").read_text())

    ob1, ob2 = on_batch("single", 0), [on_batch("dist", r) for r in (0, 1)]
    for a, b, c in zip(ob1["weights"], ob2[0]["weights"], ob2[1]["weights"]):
        np.testing.assert_allclose(a, b, atol=1e-5)
        np.testing.assert_array_equal(b, c)
    for want, got in zip(ob1["logs"] + [ob1["test"]], ob2[0]["logs"] + [ob2[0]["test"]]):
        assert want.keys() == got.keys()
        np.testing.assert_allclose([want[k] for k in want], [got[k] for k in want], rtol=1e-5, atol=1e-6)
    assert ob2[0]["logs"] == ob2[1]["logs"] and ob2[0]["test"] == ob2[1]["test"]
    assert ob1["rows"][:4] == [41, 41, 41, 1] and ob2[0]["rows"][:4] == [21, 21, 21, 1]
    assert ob2[1]["rows"][:4] == [20, 20, 20, 1]  # the last: a stand-in sample, counted nowhere
    assert ob1["rows"][4] == 37 and ob2[0]["rows"][4] + ob2[1]["rows"][4] == 37

    # Only rank 0 wrote in the output folder: the CSV log, the checkpoint, the model, the results.
    out = str(tmp_path / "dist")
    written = {r: {os.path.basename(p) for p in dist[r]["writes"] if p.startswith(out)} for r in dist}
    assert written[1] == set(), written[1]
    assert {"log.csv", "results.json"} <= written[0]
    assert any(n.startswith(".final.keras.") for n in written[0]) and any(n.startswith(".best.keras.")
                                                                          for n in written[0])
    assert sorted(os.listdir(out)) == ["best.keras", "final.keras", "log.csv", "results.json"]
    assert (tmp_path / "dist" / "log.csv").read_text().count("\n") == 4  # header + 3 epochs, once
    # Only rank 0 printed the progress bar.
    assert stdout.count("Epoch 1/3") == 1


@pytest.mark.slow
def test_a_script_ending_on_a_collective_exits_cleanly(tmp_path):
    # Gloo's threads release a finished collective's tensors after the caller has moved on; at exit that
    # raced with the interpreter's teardown and aborted the process (exit -6) about one run in eight.
    env = dict(os.environ, KERAS_BACKEND="torch", OMP_NUM_THREADS="1",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for k in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(k, None)
    for _ in range(4):
        result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                                 os.path.join(HERE, "distributed_exit_script.py")], capture_output=True, text=True,
                                timeout=300, env=env, cwd=str(tmp_path))
        assert result.returncode == 0, result.stderr[-3000:]


def test_one_process_is_not_distributed(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert not distribute.is_distributed() and distribute.context() is None
    assert distribute.is_chief() and distribute.rank() == 0 and distribute.world_size() == 1


def test_a_launcher_without_rendezvous_gets_a_clear_error(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    for k in ("MASTER_ADDR", "MASTER_PORT", "RANK"):
        monkeypatch.delenv(k, raising=False)
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        pytest.skip("a process group is already running")
    with pytest.raises(RuntimeError, match="torchrun --nproc_per_node"):
        distribute.initialize()
    distribute.set_enabled(False)
    try:
        assert not distribute.is_distributed()
    finally:
        distribute.set_enabled(True)


@pytest.mark.parametrize("n,batch,world", [(10, 4, 2), (9, 4, 3), (5, 5, 2), (7, 3, 4)])
def test_each_global_batch_is_split_across_processes(n, batch, world):
    x = torch.arange(n, dtype=torch.float32).reshape(n, 1)
    whole = list(da.ArrayBatches(x, x, batch_size=batch).epoch())
    per_rank = []
    for r in range(world):
        shard = da.ShardedBatches(da.ArrayBatches(x, x, batch_size=batch), r, world)
        per_rank.append([(xs, ys, shard.local_size, shard.global_size) for _, xs, ys, _ in shard.epoch()])
        assert len(per_rank[-1]) == len(whole) == len(shard)
    for k, (_, xb, _, _) in enumerate(whole):
        kept = []
        for r in range(world):
            xs, ys, local, glob = per_rank[r][k]
            assert glob == len(xb) and local == len(range(r, len(xb), world))
            if local:
                assert torch.equal(xs, xb[r::world]) and torch.equal(ys, xb[r::world])
                kept += xs.flatten().tolist()
            else:  # a stand-in sample that counts nowhere
                assert xs.shape[0] == 1
        assert sorted(kept) == xb.flatten().tolist()
