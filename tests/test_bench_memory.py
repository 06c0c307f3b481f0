"""bench/bench_memory.py runs both trainings in fresh processes and prints their peaks and the ratio."""
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_memory_bench_prints_both_peaks_and_the_ratio():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "bench_memory.py"), "--repeat", "1",
                          "--max-train-samples", "256", "--threads", "1"],
                         capture_output=True, text=True, timeout=600, env=dict(os.environ, KERAS_BACKEND="torch"))
    assert out.returncode in (0, 1), out.stderr[-2000:]  # 1: the ratio is over the target
    peaks = {kind: float(mib) for kind, mib in re.findall(r"(one-click|hand-written): peak +([\d.]+) MiB", out.stdout)}
    assert set(peaks) == {"one-click", "hand-written"} and all(p > 50 for p in peaks.values()), out.stdout
    ratio = float(re.search(r"ratio ([\d.]+)x", out.stdout).group(1))
    assert ratio == pytest.approx(peaks["one-click"] / peaks["hand-written"], abs=0.01)
