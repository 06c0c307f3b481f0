"""image_dataset_from_directory throughput: a folder of photo-sized JPEGs read into 256x256 batches.

Makes (once, in --folder) N JPEGs of 500x375 with smooth content and noise, then times, interleaved
over --rounds (these machines are noisy):
  - Pillow decoding alone (one thread): the floor for any loader that decodes with Pillow,
  - the engine's dataset iterated with 1, 2, ... worker threads (decode + resize + batch),
and the first scan (listing + header check). Also reports the peak memory of one pass (tracemalloc)
against what all the decoded images would take.

    python bench/bench_image_folder.py [--files 400] [--rounds 3] [--workers 1 2 4]
"""
from __future__ import annotations

import argparse
import glob
import os
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from engine.utils import image_dataset_from_directory  # noqa: E402


def make_folder(folder, files, classes=4):
    if len(glob.glob(os.path.join(folder, "*", "*.jpg"))) >= files:
        return
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:375, 0:500].astype(np.float32)
    for i in range(files):
        sub = os.path.join(folder, f"class_{i % classes}")
        os.makedirs(sub, exist_ok=True)
        a, b, c = rng.uniform(-20, 20, 3)
        img = np.stack([128 + 100 * np.sin(a * yy / 375 + b * xx / 500 + c + k) for k in range(3)], -1)
        img += rng.normal(0, 10, img.shape)
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(os.path.join(sub, f"{i}.jpg"), quality=90)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--folder", default="/tmp/bench_image_folder")
    ap.add_argument("--files", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = ap.parse_args()
    make_folder(args.folder, args.files)
    paths = sorted(glob.glob(os.path.join(args.folder, "*", "*.jpg")))[:args.files]
    print(f"{len(paths)} JPEGs of 500x375 -> batches of 32 at 256x256; {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    best, cpu = {}, {}  # images/s (wall clock), CPU ms per image (all threads; steadier on a busy machine)
    for _ in range(args.rounds):
        t, c = time.perf_counter(), time.process_time()
        for p in paths:
            with Image.open(p) as im:
                np.asarray(im.convert("RGB"))
        key = "pillow decode only"
        best[key] = max(best.get(key, 0), len(paths) / (time.perf_counter() - t))
        cpu[key] = min(cpu.get(key, 1e9), (time.process_time() - c) / len(paths) * 1e3)
        for w in args.workers:
            t = time.perf_counter()
            ds = image_dataset_from_directory(args.folder, image_size=(256, 256), seed=1, verbose=False, workers=w)
            scan = time.perf_counter() - t
            t, c = time.perf_counter(), time.process_time()
            n = sum(len(x) for x, _ in ds)
            key = f"dataset, {w} worker threads"
            best[key] = max(best.get(key, 0), n / (time.perf_counter() - t))
            cpu[key] = min(cpu.get(key, 1e9), (time.process_time() - c) / n * 1e3)
            best["scan"] = min(best.get("scan", 1e9), scan)
    print(f"  {'':32s} {'images/s':>9s} {'CPU ms/image':>13s}")
    for k, v in best.items():
        if k == "scan":
            print(f"  first scan (list + headers)      {v:8.2f} s")
        else:
            print(f"  {k:32s} {v:9.1f} {cpu[k]:13.2f}")
    ds = image_dataset_from_directory(args.folder, image_size=(256, 256), seed=1, verbose=False)
    tracemalloc.start()
    for x, _ in ds:
        del x
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    all_images = len(ds.file_paths) * 256 * 256 * 3 * 4
    print(f"  peak memory of one pass {peak / 2**20:.1f} MiB (all decoded images: {all_images / 2**20:.0f} MiB)")


if __name__ == "__main__":
    main()
