"""The one-click MNIST recipe: the fast template, Adam with a one-cycle schedule, batch 128, one epoch, in
mixed bfloat16 where the device multiplies bfloat16 in hardware (precision "auto").

On the ``mnist_fast_cnn`` template it reaches 99% test accuracy in one epoch on a 2-core CPU
(``bench/bench_mnist_fast.py`` measures it). "Train on MNIST" and ``visualkeras-app train`` use it.
"""
from __future__ import annotations

from visualkeras_app.training.settings import TrainSettings

TEMPLATE = "mnist_fast_cnn"
# The one-cycle peak rate and the batch; chosen with bench/bench_mnist_fast.py on the full 60k MNIST. The
# template's 16-32-48 filters (BatchNormalization momentum 0.9) at batch 128 and peak 0.035, in mixed
# bfloat16 (precision "auto" on a CPU with AMX): one epoch gave 99.10-99.19% test accuracy on each of seeds
# 0-9 on 2 threads, twice (--seeds 0-9), and 98.98-99.25% on one thread (9 of 10 at 99.0% or more; --clock
# cpu --seeds 0-9). Peak 0.04 with Keras's momentum 0.99 gave 10 of 10 on one thread but 8 or 9 of 10 on two
# (98.89-99.15%); the earlier 8-24-48 filters at batch 128 reached 99% on 8 or 9 of 10 on one thread. Half
# the steps of batch 64, and on 2 cores the wider filters cost no more time: multiples of 16 suit oneDNN's
# bfloat16 kernels, and BatchNormalization on them runs on both threads.
RECIPE_MAX_LR = 3.5e-2
RECIPE_BATCH_SIZE = 128


def one_click_settings(**overrides) -> TrainSettings:
    """The recipe's settings. Every training sample trains (no validation split): one epoch on all
    60,000 images is what reaches 99%; a 10% hold-out costs accuracy and time."""
    base = dict(dataset="mnist", loss="auto", optimizer="adam", learning_rate=RECIPE_MAX_LR, epochs=1,
                batch_size=RECIPE_BATCH_SIZE, validation_split=0.0, seed=0, device="cpu", schedule="one_cycle", precision="auto")
    base.update(overrides)
    return TrainSettings(**base)


def settings_for(doc, **overrides) -> TrainSettings:
    """The ``TrainSettings`` a document trains with outside the window (``visualkeras-app train``, the
    exported training script): the one-click recipe, then the keys the document saved
    (``doc.training``), then ``overrides`` that are not None. Raises ValueError naming a bad value."""
    base = one_click_settings().to_dict()
    saved = TrainSettings.from_dict(doc.training).to_dict() if doc.training else {}
    # A saved dict only overrides the recipe where it names a key (TrainSettings' defaults are not choices).
    base.update({k: v for k, v in saved.items() if k in (doc.training or {})})
    base.update({k: v for k, v in overrides.items() if v is not None})
    return TrainSettings(**base)


def build_template_model(key=TEMPLATE, seed=0):
    """A fresh engine model of template ``key`` with weights initialized from ``seed``."""
    from engine import backend
    from visualkeras_app.document.convert import document_to_model
    from visualkeras_app.document.templates import load_template

    doc = load_template(key)
    backend.set_seed(seed)
    return document_to_model(doc, name=key)


def one_click_session(model=None, settings=None, listener=None, dataset=None, name=None, verbose=0):
    """A ready ``TrainingSession`` for the recipe: the template model unless ``model`` is given,
    MNIST (loaded unless ``dataset`` is given) prepared for it. Call ``.run()`` on it."""
    from visualkeras_app.training.data import load_dataset, prepare_for_model
    from visualkeras_app.training.session import TrainingSession

    settings = settings or one_click_settings()
    if model is None:
        model = build_template_model(seed=settings.seed)
    dataset = dataset if dataset is not None else load_dataset(settings.dataset)
    prepared = prepare_for_model(dataset, model, settings.loss, max_train_samples=settings.max_train_samples)
    return TrainingSession(model, prepared, settings, listener=listener, name=name or "One-click MNIST",
                           verbose=verbose)
