"""The editor's document on 300-layer models: open time and re-inference time after one edit.

Targets (issue 4): a model opens (``model_to_document`` + first shape inference) in under 1 s, and
shapes are re-inferred after one edit in under 20 ms. Prints each time and its ratio to the target.

    python bench/bench_editor.py [--blocks 75] [--repeat 20]

Two models of ``4 * blocks`` layers (300 by default) after an Input:

* ``residual``: blocks Dense(64) -> BatchNormalization -> ReLU -> Add (a skip connection around each
  block): branches and merges all the way down. Its blocks are alike, so inference probes each kind
  of layer once and answers the rest from its cache.
* ``distinct``: a chain of blocks Dense(32 + i) -> BatchNormalization -> ReLU -> Dropout: every layer
  has its own config or input shape, so the first inference probes all 300 layers (the worst case).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def build_model(blocks, kind="residual"):
    import engine
    from engine import layers

    inp = engine.Input(shape=(64,), name="input")
    x = inp
    for i in range(blocks):
        if kind == "residual":
            y = layers.Dense(64, name=f"dense_{i}")(x)
            y = layers.BatchNormalization(name=f"bn_{i}")(y)
            y = layers.ReLU(name=f"relu_{i}")(y)
            x = layers.Add(name=f"add_{i}")([x, y])
        else:
            x = layers.Dense(32 + i, name=f"dense_{i}")(x)
            x = layers.BatchNormalization(name=f"bn_{i}")(x)
            x = layers.ReLU(name=f"relu_{i}")(x)
            x = layers.Dropout(0.1, name=f"dropout_{i}")(x)
    return engine.Model(inp, x)


def timed(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), max(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--blocks", type=int, default=75)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    import engine  # noqa: F401

    print(f"engine import: {time.perf_counter() - t0:.2f} s (not counted below)")
    for kind in ("residual", "distinct"):
        bench_model(kind, args)


def bench_model(kind, args):
    from visualkeras_app.document import inference
    from visualkeras_app.document.convert import model_to_document
    from visualkeras_app.document.project import open_any

    model = build_model(args.blocks, kind)
    n_layers = len(model.layers) - 1
    print(f"\n{kind} model: {n_layers} layers + Input, {model.count_params():,} params")

    t0 = time.perf_counter()
    doc = model_to_document(model)
    t_open = time.perf_counter() - t0
    assert doc.result is not None and not doc.result.errors, doc.result.errors
    print(f"open  (model_to_document + first inference): {t_open * 1e3:8.1f} ms   target 1000 ms   "
          f"ratio {t_open / 1.0:.3f}")

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "model.keras")
        model.save(path)
        t0 = time.perf_counter()
        open_any(path)
        t_file = time.perf_counter() - t0
    print(f"open  a .keras file (load_model + document + inference): {t_file * 1e3:8.1f} ms")

    ids = {n.name: nid for nid, n in doc.nodes.items()}
    mid = ids[f"dense_{args.blocks // 2}"]
    # The residual model's Dense must keep 64 units (the Add needs equal shapes): edit its activation
    # (one layer re-probed). The chain's Dense can change width: that re-probes it and the next layer.
    if kind == "residual":
        key, fresh_values, seen = "activation", ["tanh", "elu", "selu", "gelu"], ["relu", "sigmoid"]
    else:
        key, fresh_values, seen = "units", [80, 96, 112, 128], [65, 64]
    state = {"i": 0}

    def edit_seen():
        # Alternate between two values: after the first round both are cached, as when a user
        # tries a value and goes back (undo/redo).
        state["i"] += 1
        doc.set_param(mid, key, seen[state["i"] % 2])

    fresh = []
    for value in fresh_values:
        t0 = time.perf_counter()
        doc.set_param(mid, key, value)
        fresh.append(time.perf_counter() - t0)
        assert doc.result.ok
    t_fresh = statistics.median(fresh)
    med, lo, hi = timed(edit_seen, args.repeat)
    print(f"edit  {key} of a middle Dense, new value (cache miss): {t_fresh * 1e3:8.2f} ms   target 20 ms   "
          f"ratio {t_fresh / 0.020:.3f}")
    print(f"edit  {key} of a middle Dense, value seen before:      {med * 1e3:8.2f} ms   (min {lo * 1e3:.2f}, "
          f"max {hi * 1e3:.2f})   ratio {med / 0.020:.3f}")

    names = iter(range(10 ** 6))
    med_r, _, _ = timed(lambda: doc.rename(mid, f"renamed_{next(names)}"), args.repeat)
    print(f"edit  rename a layer:                                 {med_r * 1e3:8.2f} ms   ratio {med_r / 0.020:.3f}")

    def cold():
        inference.forget(doc)  # forget every probe: what the first inference of a document costs
        doc.infer()

    med_c, _, _ = timed(cold, 3)
    print(f"infer with an empty cache (every layer probed again):  {med_c * 1e3:8.1f} ms")


if __name__ == "__main__":
    main()
