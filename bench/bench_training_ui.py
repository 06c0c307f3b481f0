"""Training inside the app: event-loop stalls while training, and in-app samples/s against a headless fit.

Three ways to train the fast MNIST template (the one-click recipe: Adam + one-cycle, its batch), each on a
fresh model with the same seed and the same samples, each in a process of its own (as a user runs them):

* fit: ``model.fit`` in a script's main thread, no Qt, no listener, in the recipe's precision on torch's
  thread count (the reference);
* session: ``TrainingSession.run()`` without Qt (what the CLI does: its thread tuner included);
* app: the main window's Training panel (``TrainingWorker`` thread, live plots, progress bar) on an
  offscreen window, in Qt's event loop; in a run of its own, a 10 ms QTimer measures how late each tick
  fires (the event-loop stall).

Each process trains ``--runs`` times in a row (a second run in the app follows the first one's Results
views, which run the model on the GUI thread), and the app process once more with the stall probe (a
separate run: the probe's own timer costs the GUI thread some CPU); the modes alternate over ``--rounds``
rounds and the report gives medians and each round's ratios. Separate processes matter: a reference ``fit`` on the main thread of
the app's own process would give the GUI thread an OpenMP team and slow the training thread (see
``visualkeras_app/training_ui/threads.py``).

samples/s is timed from the end of the first batch to the end of the last (warm-up, data loading and the
test-set evaluation excluded), the same way in all three. On Linux, each run also reports the share of the
machine's CPU that other processes used meanwhile ("busy"), to tell a slow run from a shared machine.

    python bench/bench_training_ui.py                  # 20,000 training samples, 1 epoch, 3 rounds
    python bench/bench_training_ui.py --samples 60000  # the whole of MNIST
    python bench/bench_training_ui.py --mode app       # one process, one mode: prints JSON lines
    QT_QPA_PLATFORM=xcb xvfb-run -a python bench/bench_training_ui.py

Goals (issue 5): stall p99 < 50 ms; in-app samples/s >= 0.95x headless fit.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from visualkeras_app.training.recipe import RECIPE_BATCH_SIZE  # noqa: E402

MODES = ("fit", "session", "app")


class BatchClock:
    """Times batch ends: the first and the last, and how many."""

    def __init__(self):
        self.first = self.last = None
        self.n = 0

    def tick(self, *_, **__):
        now = time.perf_counter()
        if self.first is None:
            self.first = now
        self.last = now
        self.n += 1

    def samples_per_s(self, batch_size, total_samples):
        if self.n < 2:
            return float("nan")
        # All batches after the first are full except possibly the last one.
        samples = total_samples - batch_size
        return samples / (self.last - self.first)


class ForeignLoad:
    """The share of the machine's CPU time that other processes used during a ``with`` block (Linux's
    /proc; None elsewhere)."""

    def __enter__(self):
        self._start = self._read()
        return self

    def __exit__(self, *_):
        end = self._read()
        self.share = None
        if self._start is not None and end is not None:
            busy = end[0] - self._start[0]
            total = end[1] - self._start[1]
            own = end[2] - self._start[2]
            self.share = max(0.0, busy - own) / total if total > 0 else 0.0

    @staticmethod
    def _read():
        try:
            with open("/proc/stat") as f:
                v = [int(x) for x in f.readline().split()[1:]]
            with open("/proc/self/stat") as f:
                p = f.read().rsplit(")", 1)[1].split()
        except (OSError, ValueError, IndexError):
            return None
        return sum(v) - v[3] - v[4], sum(v), int(p[11]) + int(p[12])


def stall_probe(interval_ms=10):
    """A QTimer that records how late each tick fires (the event-loop stall, in ms)."""
    from PySide6.QtCore import QTimer

    timer = QTimer()
    timer.setInterval(interval_ms)
    late = []
    last = [time.perf_counter()]

    def tick():
        now = time.perf_counter()
        late.append(max(0.0, (now - last[0]) * 1000 - interval_ms))
        last[0] = now

    timer.timeout.connect(tick)
    return timer, late


def build_model(seed):
    from engine import backend

    from visualkeras_app.document.convert import document_to_model
    from visualkeras_app.document.templates import load_template

    backend.set_seed(seed)
    return document_to_model(load_template("mnist_fast_cnn"))


def headless_fit(prepared, settings):
    import engine

    from engine.optimizers.schedules import OneCycle
    from visualkeras_app.training.session import TrainingSession

    model = build_model(settings.seed)
    # The same split, optimizer and schedule as the session, then plain fit.
    s = TrainingSession(model, prepared, settings)
    clock = BatchClock()
    cb = engine.callbacks.LambdaCallback(on_train_batch_end=clock.tick)
    total = max(1, settings.epochs * s.batches_per_epoch)
    opt = engine.optimizers.Adam(learning_rate=OneCycle(float(settings.learning_rate), total))
    with engine.mixed_precision.policy_scope(model, s.policy):  # the recipe's precision (torch's thread count)
        model.compile(optimizer=opt, loss=prepared.loss, metrics=["accuracy"])
        model.fit(s.x_fit, s.y_fit, batch_size=settings.batch_size, epochs=settings.epochs, shuffle=True,
                  verbose=0, callbacks=[cb])
    return {"sps": clock.samples_per_s(settings.batch_size, len(s.x_fit)), "batches": clock.n}


def headless_session(prepared, settings):
    from visualkeras_app.training.session import TrainingSession

    clock = BatchClock()

    class Listener:
        on_batch = clock.tick

    model = build_model(settings.seed)
    s = TrainingSession(model, prepared, settings, listener=Listener())
    rec = s.run()
    return {"sps": clock.samples_per_s(settings.batch_size, len(s.x_fit)), "batches": clock.n,
            "test_accuracy": rec.test_accuracy}


class App:
    """The main window, offscreen, with the Training panel's data set already loaded."""

    def __init__(self, dataset):
        from PySide6.QtCore import QSettings
        from PySide6.QtWidgets import QApplication

        from visualkeras_app.mainwindow import MainWindow
        from visualkeras_app.training_ui import worker as worker_mod

        self.app = QApplication.instance() or QApplication([])
        tmp = tempfile.mkdtemp(prefix="vk-bench-")
        os.environ["VISUALKERAS_RECOVERY_DIR"] = tmp
        self.app.setQuitOnLastWindowClosed(False)
        win = MainWindow(settings=QSettings(os.path.join(tmp, "s.ini"), QSettings.IniFormat), offer_recovery=False)
        win.resize(1400, 900)
        win.show()
        win.start()
        win.new_from_template("mnist_fast_cnn")
        win.training.training_dock.raise_()  # the plots on screen, as when the user presses Train
        self.win, self.panel = win, win.training.panel
        worker_mod.cached_dataset = lambda name: dataset  # already loaded: time training, not parsing
        self.clock = None
        relay_on_batch = worker_mod._Relay.on_batch

        def on_batch(relay, point):
            self.clock.tick()
            relay_on_batch(relay, point)

        worker_mod._Relay.on_batch = on_batch

    def run(self, settings, probe=False):
        """One run to its results; with ``probe``, a 10 ms QTimer records how late each tick fires (its
        own slot costs the GUI thread about 2% of a core, so the throughput runs go without it)."""
        from PySide6.QtCore import QEventLoop

        self.clock = BatchClock()
        panel = self.panel
        chunks, results = [], []
        loop = QEventLoop()

        def count(chunk):
            chunks.append(len(chunk))

        def on_results(r):
            results.append(r)
            loop.quit()

        panel.worker.batches.connect(count)
        panel.results_ready.connect(on_results)
        timer, late = stall_probe(10)
        if probe:
            timer.start()
        panel.train(settings)
        loop.exec()  # the app's own event loop, as while the user watches
        timer.stop()
        panel.worker.wait()
        self.app.processEvents()
        panel.worker.batches.disconnect(count)
        panel.results_ready.disconnect(on_results)
        rec = panel.worker.last_record
        return {"sps": self.clock.samples_per_s(settings.batch_size, len(panel.worker.session.x_fit)),
                "batches": self.clock.n, "plot_updates": len(chunks), "late_ms": late,
                "test_accuracy": rec.test_accuracy if rec is not None else None}

    def close(self):
        # Nothing to save: the trained document is discarded (a "Save changes?" box would wait for a click).
        self.win.controller.undo_stack.setClean()
        self.win.session.trained_unsaved = False
        self.win.close()


def child(args):
    """One mode in this process: ``--runs`` runs, one JSON line each."""
    from visualkeras_app.training.data import load_dataset, prepare_for_model
    from visualkeras_app.training.recipe import one_click_settings

    ds = load_dataset("mnist")
    settings = one_click_settings(max_train_samples=args.samples, epochs=args.epochs, batch_size=args.batch_size)
    app = None
    if args.mode == "app":
        app = App(ds)
    else:
        prepared = prepare_for_model(ds, build_model(0), settings.loss, max_train_samples=args.samples)
    for i in range(args.runs):
        with ForeignLoad() as load:
            if app is not None:
                out = app.run(settings)
            elif args.mode == "fit":
                out = headless_fit(prepared, settings)
            else:
                out = headless_session(prepared, settings)
        out.update(mode=args.mode, run=i, busy=load.share)
        print("RESULT " + json.dumps(out), flush=True)
    if app is not None:
        with ForeignLoad() as load:
            out = app.run(settings, probe=True)
        out.update(mode="stall", run=args.runs, busy=load.share)
        print("RESULT " + json.dumps(out), flush=True)
        app.close()
    return 0


def pct(values, q):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q / 100 * (len(v) - 1))))]


def run_child(mode, args):
    cmd = [sys.executable, os.path.abspath(__file__), "--mode", mode, "--samples", str(args.samples),
           "--epochs", str(args.epochs), "--batch-size", str(args.batch_size), "--runs", str(args.runs)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    rows = [json.loads(line[7:]) for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode or len(rows) != args.runs + (mode == "app"):
        raise SystemExit(f"{mode} run failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=20000, help="training samples (default 20000; 60000 = all)")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=RECIPE_BATCH_SIZE)
    ap.add_argument("--rounds", type=int, default=3, help="alternated rounds of the three modes (medians)")
    ap.add_argument("--runs", type=int, default=2, help="runs in a row in each process")
    ap.add_argument("--mode", choices=MODES, help="run one mode in this process (JSON lines)")
    args = ap.parse_args(argv)
    if not os.environ.get("DISPLAY") and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ.setdefault("VISUALKERAS_OFFLINE", "1")
    if args.mode:
        return child(args)

    import torch

    print(f"fast MNIST CNN, {args.samples} samples, {args.epochs} epoch(s), batch {args.batch_size}, "
          f"torch threads {torch.get_num_threads()}, cores {os.cpu_count()}; {args.runs} runs per process")
    rows = {m: [] for m in MODES}
    stalls = []
    ratios = {i: [] for i in range(args.runs)}
    quiet = {i: [] for i in range(args.runs)}  # ratios of runs while others used < 5% of the CPU
    for r in range(args.rounds):
        got = {m: run_child(m, args) for m in MODES}  # alternated: a shared machine's load hits every mode
        stalls.append(got["app"].pop())
        for m in MODES:
            rows[m].extend(got[m])
        for i in range(args.runs):
            fit, ses, app = (got[m][i] for m in MODES)
            ratios[i].append(app["sps"] / fit["sps"])
            busy = max((x["busy"] or 0.0) for x in (fit, ses, app))
            if busy < 0.05:
                quiet[i].append(app["sps"] / fit["sps"])
            print(f"round {r + 1} run {i + 1}: fit {fit['sps']:6.0f} · session {ses['sps']:6.0f} · app "
                  f"{app['sps']:6.0f} samples/s · app/fit {app['sps'] / fit['sps']:.3f} · app/session "
                  f"{app['sps'] / ses['sps']:.3f} ({app['batches']} batches in {app['plot_updates']} plot "
                  f"updates; test accuracy {app['test_accuracy']:.4f}; others' CPU up to {100 * busy:.0f}%)",
                  flush=True)
    med = {m: statistics.median(x["sps"] for x in rows[m]) for m in MODES}
    print(f"headless fit:      {med['fit']:8.0f} samples/s (median of {len(rows['fit'])} runs)")
    print(f"headless session:  {med['session']:8.0f} samples/s")
    print(f"in-app (window):   {med['app']:8.0f} samples/s")
    for i in range(args.runs):
        print(f"in-app / headless fit, run {i + 1} of each process: median {statistics.median(ratios[i]):.3f}x "
              f"({', '.join(f'{x:.3f}' for x in ratios[i])})   (goal >= 0.95)")
        if quiet[i]:
            print(f"    on a quiet machine (others < 5% CPU): median {statistics.median(quiet[i]):.3f}x "
                  f"({', '.join(f'{x:.3f}' for x in quiet[i])})")
    print(f"in-app / headless session (medians): {med['app'] / med['session']:.3f}x")
    late = [v for x in stalls for v in x["late_ms"]]
    print(f"in-app with the stall probe running: {statistics.median(x['sps'] for x in stalls):.0f} samples/s")
    print(f"event-loop stall over {len(late)} ticks of 10 ms: p50 {pct(late, 50):.1f} ms, p99 {pct(late, 99):.1f} ms, "
          f"max {max(late) if late else float('nan'):.1f} ms   (goal p99 < 50 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
