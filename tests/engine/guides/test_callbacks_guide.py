"""keras.io "Writing your own callbacks" (Keras 3), on the engine and on Keras 3 in the same test: every
hook of fit/evaluate/predict is called in Keras's order with Keras's log keys (validation in fit runs
the test hooks, as Keras's fit calls evaluate); the guide's EarlyStoppingAtMinLoss and
CustomLearningRateScheduler give Keras's histories."""
import numpy as np
import pytest

import engine

_HOOKS = ["on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_test_begin", "on_test_end",
          "on_predict_begin", "on_predict_end", "on_train_batch_begin", "on_train_batch_end",
          "on_test_batch_begin", "on_test_batch_end", "on_predict_batch_begin", "on_predict_batch_end"]

rng = np.random.default_rng(0)
X = rng.random((64, 784)).astype("float32")
Y = rng.random((64,)).astype("float32")


def _model(K):
    K.utils.set_random_seed(0)
    model = K.Sequential([K.Input((784,)), K.layers.Dense(1, kernel_initializer="zeros")])
    model.compile(optimizer=K.optimizers.RMSprop(learning_rate=0.1), loss="mean_squared_error",
                  metrics=["mean_absolute_error"])
    return model


def _recorder(K, events):
    def hook(name):
        if "batch" in name:
            def method(self, batch, logs=None):
                events.append((name, batch, sorted(logs or {})))
        elif "epoch" in name:
            def method(self, epoch, logs=None):
                events.append((name, epoch, sorted(logs or {})))
        else:
            def method(self, logs=None):
                events.append((name, None, sorted(logs or {})))
        return method

    return type("CustomCallback", (K.callbacks.Callback,), {name: hook(name) for name in _HOOKS})()


@pytest.mark.slow
def test_every_hook_runs_in_keras_order_with_keras_logs(keras):
    sequences = []
    for K in (engine, keras):
        events = []
        model = _model(K)
        model.fit(X, Y, batch_size=32, epochs=2, verbose=0, validation_split=0.5, callbacks=[_recorder(K, events)])
        model.evaluate(X, Y, batch_size=32, verbose=0, callbacks=[_recorder(K, events)])
        model.predict(X, batch_size=32, verbose=0, callbacks=[_recorder(K, events)])
        sequences.append(events)
    assert sequences[0] == sequences[1]


@pytest.mark.slow
def test_guide_early_stopping_and_learning_rate_schedule(keras):
    def run(K):
        class EarlyStoppingAtMinLoss(K.callbacks.Callback):
            def __init__(self, patience=0):
                super().__init__()
                self.patience = patience
                self.best_weights = None

            def on_train_begin(self, logs=None):
                self.wait, self.stopped_epoch, self.best = 0, 0, np.inf

            def on_epoch_end(self, epoch, logs=None):
                current = logs.get("loss")
                if np.less(current, self.best):
                    self.best, self.wait = current, 0
                    self.best_weights = self.model.get_weights()
                else:
                    self.wait += 1
                    if self.wait >= self.patience:
                        self.stopped_epoch = epoch
                        self.model.stop_training = True
                        self.model.set_weights(self.best_weights)

        class CustomLearningRateScheduler(K.callbacks.Callback):
            def __init__(self, schedule):
                super().__init__()
                self.schedule = schedule

            def on_epoch_begin(self, epoch, logs=None):
                lr = self.model.optimizer.learning_rate
                self.model.optimizer.learning_rate = self.schedule(epoch, lr)

        schedule = [(3, 0.05), (6, 0.01), (9, 0.005), (12, 0.001)]

        def lr_schedule(epoch, lr):
            if epoch < schedule[0][0] or epoch > schedule[-1][0]:
                return lr
            for when, value in schedule:
                if epoch == when:
                    return value
            return lr

        model = _model(K)
        stopper = EarlyStoppingAtMinLoss(patience=1)
        history = model.fit(X, Y, batch_size=16, epochs=15, verbose=0, shuffle=False,
                            callbacks=[stopper, CustomLearningRateScheduler(lr_schedule)]).history
        return history, stopper.stopped_epoch, [np.asarray(w) for w in model.get_weights()]

    (ours, our_stop, our_w), (theirs, their_stop, their_w) = run(engine), run(keras)
    assert our_stop == their_stop
    assert len(theirs["loss"]) < 15  # the guide's callback did stop training early
    assert sorted(ours) == sorted(theirs)
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-4, err_msg=key)
    for a, b in zip(our_w, their_w):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
