"""A model with its own train_step trains under torchrun (two gloo processes on the CPU) to the same
weights and history as one process with the same global batch: optimizer.apply averages the gradients
over the processes, BatchNormalization uses the global batch's statistics, and the logs are averaged."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPT = os.path.join(HERE, "custom_step_distributed_script.py")


def _run(args, out):
    env = dict(os.environ, KERAS_BACKEND="torch", OMP_NUM_THREADS="1",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for k in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(k, None)
    os.makedirs(out)
    result = subprocess.run([sys.executable] + args + [SCRIPT, str(out)], capture_output=True, text=True,
                            timeout=300, env=env, cwd=str(out))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    lines = [open(os.path.join(out, name)).read() for name in sorted(os.listdir(out)) if name.startswith("process_")]
    with open(os.path.join(out, "history.json")) as f:
        history = json.load(f)
    with np.load(os.path.join(out, "weights.npz")) as f:
        return lines, history, [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]


@pytest.mark.slow  # two torchrun launches: about 30 s
def test_custom_train_step_under_torchrun_trains_as_one_process(tmp_path):
    one_lines, one_history, one = _run([], tmp_path / "single")
    two_lines, two_history, two = _run(["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"],
                                       tmp_path / "dist")
    assert one_lines == ["PROCESS rank=0 world=1 epochs=3"]
    assert two_lines == ["PROCESS rank=0 world=2 epochs=3", "PROCESS rank=1 world=2 epochs=3"]
    assert len(one) == len(two) == 7  # Dense kernel, BatchNorm four, Dense kernel and bias
    for a, b in zip(one, two):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    # The logs are the global batch's: the processes' averaged by their shares.
    np.testing.assert_allclose(two_history["loss"], one_history["loss"], rtol=1e-5)
