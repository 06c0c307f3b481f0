"""The thread tuner: each candidate count timed over its batches (begin to end), the fastest kept, a new probe
after RETUNE_S seconds of batches (sooner after a close verdict); a CPU run uses it and gives torch its thread count back after."""
import dataclasses

import pytest
import torch

from visualkeras_app.training import thread_tuner
from visualkeras_app.training.thread_tuner import SAMPLE, SETTLE, ThreadTuner, candidates


class Machine:
    """A clock whose batches take ``per_batch[threads]`` seconds on the thread count last set."""

    def __init__(self, per_batch):
        self.per_batch = per_batch
        self.now = 0.0
        self.threads = None
        self.set_calls = []

    def set_threads(self, n):
        self.threads = n
        self.set_calls.append(n)

    def clock(self):
        return self.now

    def run_batches(self, tuner, count, paused_s=0.0):
        for b in range(count):
            tuner.on_train_batch_begin(b)
            self.now += self.per_batch[self.threads]
            tuner.on_train_batch_end(b)
            self.now += paused_s  # between batches (a pause, validation): not timed


def test_candidates():
    assert candidates(1) == [1] and candidates(2) == [1, 2] and candidates(16) == [1, 8, 16]
    assert candidates(3) == [1, 3]


def test_the_fastest_count_is_kept_and_probed_again_later():
    m = Machine({4: 0.030, 2: 0.010, 1: 0.020})
    tuner = ThreadTuner(4, m.set_threads, clock=m.clock)
    tuner.on_train_begin()
    per_candidate = SETTLE + SAMPLE
    m.run_batches(tuner, 3 * per_candidate - 1, paused_s=5.0)  # pauses between batches change nothing
    assert tuner.chosen is None and m.set_calls == [1, 2, 4]
    m.run_batches(tuner, 1)
    assert tuner.chosen == 2 and m.threads == 2
    assert tuner.probes == [{4: pytest.approx(0.030), 2: pytest.approx(0.010), 1: pytest.approx(0.020)}]
    # The machine gets busy: one thread becomes fastest; the next probe finds it.
    m.per_batch = {4: 0.5, 2: 0.2, 1: 0.05}
    m.run_batches(tuner, int(thread_tuner.RETUNE_S / 0.2) + 1)
    assert len(tuner.probes) == 1 and m.set_calls[-1] == 1  # a new probe began with one thread
    m.run_batches(tuner, per_candidate + 4)  # 2 and 4 threads take over 3x one's batch: two batches each
    assert tuner.chosen == 1 and m.threads == 1 and len(tuner.probes) == 2
    assert tuner.probes[1] == {1: pytest.approx(0.05), 2: pytest.approx(0.2), 4: pytest.approx(0.5)}
    tuner.on_train_begin()  # "more epochs": the chosen count at once
    assert m.set_calls[-1] == 1


def _gaps_between_probes(m, tuner, count):
    """Seconds of training between each probe's end and the next probe's start, for ``count`` gaps."""
    gaps, probing, ended = [], True, None
    while len(gaps) < count:
        m.run_batches(tuner, 1)
        if probing and not tuner._queue:
            probing, ended = False, m.now
        elif not probing and tuner._queue:
            probing = True
            gaps.append(m.now - ended)
    return gaps


def test_a_close_verdict_is_checked_sooner_a_clear_one_after_retune_s():
    first, full = thread_tuner.FIRST_RETUNE_S, thread_tuner.RETUNE_S
    m = Machine({2: 0.010, 1: 0.011})  # close: one thread within CLOSE of two
    tuner = ThreadTuner(2, m.set_threads, clock=m.clock)
    tuner.on_train_begin()
    assert _gaps_between_probes(m, tuner, 7) == pytest.approx(
        [first, 2 * first, 4 * first, 8 * first, 16 * first, full, full], abs=0.05)
    m = Machine({2: 0.010, 1: 0.020})  # clear
    tuner = ThreadTuner(2, m.set_threads, clock=m.clock)
    tuner.on_train_begin()
    assert _gaps_between_probes(m, tuner, 2) == pytest.approx([full, full], abs=0.05)


def test_one_slow_batch_alone_does_not_drop_a_count():
    """A single batch far slower than the fastest count's (a neighbour's moment) is left out; two in a row
    drop the count."""
    m = Machine({2: 0.010, 1: 0.020})
    tuner = ThreadTuner(2, m.set_threads, clock=m.clock)
    tuner.on_train_begin()
    m.run_batches(tuner, SETTLE + SAMPLE)  # one thread timed
    assert m.threads == 2
    m.per_batch[2] = 0.5
    m.run_batches(tuner, 1)  # one hiccup
    m.per_batch[2] = 0.010
    m.run_batches(tuner, SETTLE + SAMPLE)
    assert tuner.chosen == 2 and tuner.probes == [{1: pytest.approx(0.020), 2: pytest.approx(0.010)}]

    tuner = ThreadTuner(2, m.set_threads, clock=m.clock)
    tuner.on_train_begin()
    m.run_batches(tuner, SETTLE + SAMPLE)
    m.per_batch[2] = 0.5
    m.run_batches(tuner, 2)  # two in a row: the count is dropped
    assert tuner.chosen == 1 and tuner.probes[0][2] == pytest.approx(0.5)


def test_a_tie_keeps_fewer_threads():
    m = Machine({2: 10, 1: 10})  # exact: the same median on both
    tuner = ThreadTuner(2, m.set_threads, clock=m.clock)
    tuner.on_train_begin()
    m.run_batches(tuner, 2 * (SETTLE + SAMPLE))
    assert tuner.chosen == 1


@pytest.mark.torch_threads
@pytest.mark.skipif(torch.get_num_threads() < 2, reason="one torch thread: nothing to tune")
def test_a_cpu_run_tunes_its_threads_and_gives_them_back():
    import engine
    from engine import layers
    from visualkeras_app.training.data import load_dataset, prepare_for_model
    from visualkeras_app.training.session import TrainingSession
    from visualkeras_app.training.settings import TrainSettings

    ds = load_dataset("mnist")
    ds = dataclasses.replace(ds, x_train=ds.x_train[:400], y_train=ds.y_train[:400], x_test=ds.x_test[:50],
                             y_test=ds.y_test[:50])
    engine.utils.set_random_seed(0)
    model = engine.Sequential([layers.Input((28, 28, 1)), layers.Flatten(), layers.Dense(10, activation="softmax")])
    before = torch.get_num_threads()
    session = TrainingSession(model, prepare_for_model(ds, model, "auto"),
                              TrainSettings(batch_size=8, validation_split=0.0))  # 50 batches: one probe
    assert session.run().stopped_reason == "finished"
    assert session.thread_tuner.chosen in candidates(before) and len(session.thread_tuner.probes) == 1
    assert torch.get_num_threads() == before
    quiet = TrainingSession(model, prepare_for_model(ds, model, "auto"), TrainSettings(batch_size=8),
                            tune_threads=False)
    quiet.run()
    assert quiet.thread_tuner is None
