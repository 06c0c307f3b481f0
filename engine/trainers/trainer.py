"""The training loop: ``compile``, ``fit``, ``evaluate``, ``predict`` and the ``*_on_batch`` methods.

The step is kept as lean as a hand-written PyTorch loop: one forward, one loss, ``backward``, the
optimizer's fused update, metric updates that stay on the device. Per-batch logs (Python floats) are
only made when a callback asks for them.
"""
from __future__ import annotations

import inspect
import math
import warnings

import numpy as np
import torch

from torch.nn.parallel import DistributedDataParallel

from engine import backend, distribute, losses, metrics as metrics_mod, mixed_precision, optimizers
from engine.callbacks import CallbackList
from engine.layers import layer as layer_mod
from engine.layers.node import flatten
from engine.metrics import Metric
from engine.trainers import data_adapter as da
from engine.trainers.data_adapter import DataError


_set_grad_enabled = torch._C._set_grad_enabled


class Trainer:
    def __init__(self):
        self.optimizer = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._compile_args = None
        self._resolved = False

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, weighted_metrics=None,
                run_eagerly=False, steps_per_execution=1, jit_compile="auto", auto_scale_loss=True, **kwargs):
        """Configure training: an optimizer, a loss (per output if several) and metrics.

        Each may be given as a string (``"adam"``, ``"categorical_crossentropy"``, ``"accuracy"``), a
        class, an instance or (losses and metrics) a function.
        """
        unknown = set(kwargs) - {"sample_weight_mode", "target_tensors", "experimental_run_tf_function"}
        if unknown:
            raise TypeError(f"compile() got unexpected keyword argument(s) {sorted(unknown)}.")
        self.optimizer = optimizers.get(optimizer)
        if auto_scale_loss and self.__dict__.get("_dtype") == "mixed_float16" \
                and not isinstance(self.optimizer, optimizers.LossScaleOptimizer):
            # float16 gradients underflow without it; Keras wraps the optimizer the same way
            self.optimizer = optimizers.LossScaleOptimizer(self.optimizer, name="loss_scale_optimizer")
        # Resolve names now so that a typo fails at compile time, as in Keras.
        for spec in flatten(loss) if not isinstance(loss, dict) else list(loss.values()):
            if spec is not None:
                losses.get(spec)
        for spec in _flat_metric_specs(metrics) + _flat_metric_specs(weighted_metrics):
            if not isinstance(spec, str) or spec.lower() not in ("accuracy", "acc", "crossentropy", "ce"):
                metrics_mod.get(spec)
        self._compile_args = dict(loss=loss, metrics=metrics, loss_weights=loss_weights,
                                  weighted_metrics=weighted_metrics)
        self.loss = loss
        self._loss_tracker = metrics_mod.Mean(name="loss")
        if jit_compile not in (True, False, "auto"):
            raise ValueError(f"compile(jit_compile=...) takes True, False or 'auto'. Received: {jit_compile!r}")
        # "auto" is eager, as Keras 3 resolves it on the torch backend; True runs the model's forward pass
        # (and so its backward) through torch.compile in fit, evaluate and predict.
        self.jit_compile = jit_compile is True
        if isinstance(steps_per_execution, bool) or not isinstance(steps_per_execution, (int, np.integer)) \
                or steps_per_execution < 1:
            raise ValueError(f"compile(steps_per_execution=...) takes an integer >= 1 (the batches run between "
                             f"two calls of the batch callbacks). Received: steps_per_execution={steps_per_execution!r}")
        # Keras's meaning: the batch hooks (on_*_batch_begin/end) and the per-batch logs come once per
        # `steps_per_execution` batches, numbered as Keras's EpochIterator numbers them.
        self.steps_per_execution = int(steps_per_execution)
        # What get_compile_config writes, as Keras: jit_compile resolved ("auto" is False on torch; run_eagerly
        # turns it off).
        self._compile_args.update(run_eagerly=bool(run_eagerly), steps_per_execution=self.steps_per_execution,
                                  jit_compile=bool(jit_compile is True and not run_eagerly))
        self.__dict__.pop("_jit", None)
        self.compiled = True
        self._resolved = False

    def _assert_compiled(self):
        if not self.compiled or self.optimizer is None:
            raise RuntimeError("You must compile your model before training/testing. "
                               "Use `model.compile(optimizer, loss)`.")

    def _no_loss_error(self):
        return ValueError("No loss to compute. Provide a `loss` argument in `compile()`, "
                          "e.g. model.compile(optimizer='adam', loss='categorical_crossentropy'), or add "
                          "loss terms with Layer.add_loss().")

    def _overrides(self, method):
        """Whether the model's class replaces ``train_step``/``test_step``/``predict_step`` (Keras's
        customizing-fit pattern): then the loops call it on each batch. A ``compute_loss`` override
        counts for the train and test steps: Keras's default steps call it."""
        if method in ("train_step", "test_step") and self._overrides("compute_loss"):
            return True
        return getattr(type(self), method) is not getattr(Trainer, method)

    @property
    def _n_outputs(self):
        outs = getattr(self, "outputs", None)
        return len(outs) if outs else 1

    def _output_names(self):
        names = list(getattr(self, "output_names", None) or [])
        return names if len(names) == self._n_outputs else [f"output_{i}" for i in range(self._n_outputs)]

    def _per_output(self, spec, what):
        names = self._output_names()
        n = len(names)
        if isinstance(spec, dict):
            unknown = set(spec) - set(names)
            if unknown:
                raise ValueError(f"compile(): {what} names {sorted(unknown)} are not outputs of the model; "
                                 f"its outputs are {names}.")
            return [spec.get(nm) for nm in names]
        if isinstance(spec, (list, tuple)) and n > 1:
            if len(spec) != n:
                raise ValueError(f"compile(): the model has {n} outputs {names} but {len(spec)} {what} were given.")
            return list(spec)
        return [spec] * n

    def _resolve(self, y, y_pred_shapes):
        """Bind losses and metrics to outputs, once the shapes of the targets are known."""
        args = self._compile_args
        names = self._output_names()
        multi = len(names) > 1
        y_flat = _flat_targets(y, self)
        self._losses = [losses.get(s) if s is not None else None for s in self._per_output(args["loss"], "losses")]
        lw = args["loss_weights"]
        self._loss_weights = [1.0 if w is None else float(w)
                              for w in (self._per_output(lw, "loss weights") if lw is not None else [None] * len(names))]
        for loss, yt, ps, nm in zip(self._losses, y_flat, y_pred_shapes, names):
            if loss is not None and yt is not None:
                sample = yt[:1024].detach().cpu().numpy() if isinstance(yt, torch.Tensor) else np.asarray(yt)[:1024]
                losses.check_targets(loss, sample, tuple(ps), output_name=nm if multi else None)
        # the one-kernel-chain loss of a softmax classifier with integer labels (None: the general path)
        self._fused_loss = losses.fused_step_loss(self._losses[0]) \
            if len(names) == 1 and self._loss_weights == [1.0] and self._losses[0] is not None else None
        self._metrics = []  # (output index, metric, weighted)
        for kind, spec in (("metrics", args["metrics"]), ("weighted_metrics", args["weighted_metrics"])):
            if spec is None:
                continue
            per = _metrics_per_output(spec, names)
            for i, specs in enumerate(per):
                for s in specs:
                    yt = y_flat[i]
                    m = metrics_mod.get(s, y_true=tuple(yt.shape) if yt is not None else None,
                                        y_pred=tuple(y_pred_shapes[i]))
                    if multi:
                        m.name = f"{names[i]}_{m.name}"
                    self._metrics.append((i, m, kind == "weighted_metrics"))
        self._resolved = True
        self._reset_metrics()

    @property
    def metrics(self):
        """The loss tracker (a ``Mean`` named ``"loss"``, once compiled), then the compiled metrics."""
        tracker = self.__dict__.get("_loss_tracker")
        out = ([tracker] if tracker is not None else []) + [m for _, m, _ in getattr(self, "_metrics", [])]
        # Metrics kept as attributes of the model (a tracker a compute_loss override updates), as Keras
        # tracks them.
        out += [v for k, v in self.__dict__.items() if isinstance(v, Metric) and k != "_loss_tracker"
                and all(v is not m for m in out)]
        return out

    @property
    def metrics_names(self):
        names = ["loss"]
        if self._n_outputs > 1 and self._resolved:
            names += [f"{n}_loss" for n, l in zip(self._output_names(), self._losses) if l is not None]
        return names + [m.name for _, m, _ in getattr(self, "_metrics", [])]

    def _reset_metrics(self):
        dev = self._device() or torch.device("cpu")
        self._sums = _LossSums(dev, self._n_outputs)
        for m in self.metrics:
            m.reset_state()

    def reset_metrics(self):
        self._reset_metrics()

    # ------------------------------------------------------------------ the step
    def _compute_loss(self, y, y_pred, sample_weight, batch_size, track=True, scale=None):
        """The loss to minimise; its value times ``batch_size`` is added to the epoch's sums when
        ``track``. With ``scale`` (a distributed step) the returned value has its per-sample terms
        multiplied by ``scale`` and the weight penalties not, so that DistributedDataParallel's
        gradient average is the gradient of the global batch's loss."""
        fused = self.__dict__.get("_fused_loss")
        if fused is not None and sample_weight is None and scale is None and not layer_mod.add_loss_used() \
                and not self.__dict__.get("_has_regularizers", True) and not self.__dict__.get("_activity_penalties"):
            total = fused(y, y_pred)
            if total is not None:
                if track:
                    self._sums.add(total.detach(), batch_size)
                return total
        y_list = _flat_targets(y, self)
        p_list = y_pred if isinstance(y_pred, (list, tuple)) else [y_pred]
        if isinstance(y_pred, dict):
            p_list = [y_pred[n] for n in self._output_names()]
        total = None
        multi = len(p_list) > 1
        for i, (loss, w, yt, yp) in enumerate(zip(self._losses, self._loss_weights, y_list, p_list)):
            if loss is None:
                continue
            if yt is None:
                raise DataError(f"No target data for output {self._output_names()[i]!r}; pass y to fit/evaluate.")
            value = loss(yt, yp, sample_weight=sample_weight)
            if multi and track:
                self._sums.per_output[i].add_(value.detach(), alpha=batch_size)
            value = value * w if w != 1.0 else value
            total = value if total is None else total + value
        weight_penalties = list(self.losses) if self._has_regularizers or layer_mod.add_loss_used() else []
        if total is None:
            if not weight_penalties and not self.__dict__.get("_activity_penalties"):
                raise self._no_loss_error()
            dev = self._device() or torch.device("cpu")
            total = torch.zeros((), device=dev)
        activity = self.__dict__.get("_activity_penalties")
        if activity:  # left by this step's forward pass (a model with activity regularizers)
            self._activity_penalties = []
        else:
            activity = []
        if scale is None:
            for penalty in weight_penalties + activity:
                total = total + penalty
            backward = total
        else:
            for penalty in activity:  # per-sample terms, like the outputs' losses
                total = total + penalty
            backward = total * scale
            for penalty in weight_penalties:
                total = total + penalty
                backward = backward + penalty
        if track:
            self._sums.add(total.detach(), batch_size)
        return backward

    def _update_metrics(self, y, y_pred, sample_weight):
        if not self._metrics:
            return
        y_list = _flat_targets(y, self)
        p_list = y_pred if isinstance(y_pred, (list, tuple)) else [y_pred]
        for i, m, weighted in self._metrics:
            m.update_state(y_list[i], p_list[i], sample_weight=sample_weight if weighted else None)

    def _forward(self, x, training):
        autocast = self.__dict__.get("_autocast")
        if autocast is not None:  # layers with a mixed dtype policy (engine.mixed_precision)
            with torch.autocast(device_type=autocast[0], dtype=autocast[1]):
                if self.__dict__.get("jit_compile"):
                    return self._jit_forward(x, training)
                return self._eager_forward(x, training)
        if self.__dict__.get("jit_compile"):
            return self._jit_forward(x, training)
        return self._eager_forward(x, training)

    def _jit_forward(self, x, training):
        """The forward pass through ``torch.compile`` (compile(jit_compile=True)). Models it cannot serve
        (masks, activity regularizers or add_loss terms, which ride on tensor attributes and side effects)
        and a failed compilation run eagerly, after a one-line message."""
        jit = self.__dict__.get("_jit")
        if jit is None:
            reason = None
            if self._overrides("train_step") or self._overrides("test_step"):
                reason = "the model has its own train/test step"
            elif hasattr(self, "_needs_slow_path") and self._needs_slow_path():
                reason = "the model has masks or activity regularizers"
            elif layer_mod.add_loss_used() and any(
                    not type(m).__module__.startswith("engine.") for m in self.modules() if isinstance(m, layer_mod.Layer)):
                # add_loss has run in this process, and this model has code of the user's that may call it
                # (the engine's own layers never do): its terms ride on side effects torch.compile drops.
                reason = "the model has layers of your own that may add_loss terms"
            if reason is None:
                try:
                    jit = torch.compile(self._eager_forward)
                except Exception as e:  # noqa: BLE001 - no compiler for this platform, an old torch
                    reason = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
            if reason is not None:
                return self._jit_fallback(reason, x, training)
            self.__dict__["_jit"] = jit
            self.__dict__["_jit_checked"] = set()
        checked = self.__dict__["_jit_checked"]
        if training in checked:
            return jit(x, training)
        try:
            out = jit(x, training)
        except Exception as e:  # noqa: BLE001 - compilation failed: eager gives the result (or the real error)
            first = str(e).strip().splitlines()
            return self._jit_fallback(f"{type(e).__name__}: {first[0][:200] if first else ''}", x, training)
        checked.add(training)
        return out

    def _jit_fallback(self, reason, x, training):
        print(f"jit_compile: torch.compile cannot run model {self.name!r} ({reason}); it runs eagerly.")
        self.jit_compile = False
        self.__dict__.pop("_jit", None)
        return self._eager_forward(x, training)

    def _eager_forward(self, x, training):
        if layer_mod.add_loss_used():  # a new forward pass: the add_loss terms of the last one go
            self._clear_losses()
            with layer_mod.outermost_call():
                return self.call(x, training=training) if self._takes_training() else self.call(x)
        # A subclassed model's call may leave out `training`, as Keras allows.
        return self.call(x, training=training) if self._takes_training() else self.call(x)

    # ------------------------------------------------------------------ Keras's overridable steps
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss of ``y_pred`` against ``y`` plus the model's ``losses`` (add_loss terms and
        weight penalties), as a scalar tensor: what a custom ``train_step`` backpropagates."""
        self._assert_compiled()
        if not self._resolved:
            preds = y_pred if isinstance(y_pred, (list, tuple)) else [y_pred]
            self._resolve(y, [(None,) + tuple(p.shape[1:]) for p in preds])
        n = len(flatten(y_pred)[0]) if y_pred is not None else 0
        return self._compute_loss(y, y_pred, sample_weight, n, track=False)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Update the compiled metrics with this batch and return every metric's result (``loss``
        included) as a dict, as Keras's ``compute_metrics`` does."""
        if not self._resolved:
            preds = y_pred if isinstance(y_pred, (list, tuple)) else [y_pred]
            self._resolve(y, [(None,) + tuple(p.shape[1:]) for p in preds])
        with torch.no_grad():
            self._update_metrics(y, _detach(y_pred), sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self):
        """Each metric's current result, by name (a metric returning a dict is merged in)."""
        out = {}
        for m in self.metrics:
            r = m.result()
            out.update(r if isinstance(r, dict) else {m.name: r})
        return out

    def train_step(self, data):
        """One training step on ``data`` (``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``); returns the
        logs. Override it to customize ``fit`` (Keras's torch guide); the default is fit's own step."""
        x, y, sw = da.unpack(data)
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sw)
        self._loss_tracker.update_state(loss.detach(), sample_weight=da.num_samples(x))
        self.optimizer.scale_loss(loss).backward()  # loss_scale_factor / LossScaleOptimizer, as Keras
        params = self._trainable_params()
        with torch.no_grad():
            self.optimizer.apply([p.grad for p in params], params)
        return self.compute_metrics(x, y, y_pred, sample_weight=sw)

    def test_step(self, data):
        """One evaluation step on ``data``; returns the logs. Override it to customize ``evaluate``."""
        x, y, sw = da.unpack(data)
        y_pred = self(x, training=False)
        # An override written before Keras 3.3 may not take `training`, as Keras allows.
        extra = {"training": False} if "training" in inspect.signature(self.compute_loss).parameters else {}
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sw, **extra)
        self._loss_tracker.update_state(loss.detach(), sample_weight=da.num_samples(x))
        return self.compute_metrics(x, y, y_pred, sample_weight=sw)

    def predict_step(self, data):
        """The model's output for one batch ``data``. Override it to customize ``predict``."""
        x, _, _ = da.unpack(data)
        return self(x, training=False)

    def _custom_step(self, method, x, y, sw):
        """Run an overridden step on one batch, as Keras passes it, and keep its logs as Python floats."""
        data = (x,) if y is None else (x, y) if sw is None else (x, y, sw)
        logs = getattr(self, method)(data)
        self._custom_logs = _pythonify(logs)

    def _apply_gradients(self, loss, params):
        """Backpropagate ``loss``, step the optimizer over ``params``, then apply the weight constraints."""
        for p in params:
            p.grad = None
        self.optimizer.scale_loss(loss).backward()  # loss_scale_factor / LossScaleOptimizer, as Keras
        self.optimizer.step(params)
        if self._constrained:
            with torch.no_grad():
                for p in self._constrained:
                    p.copy_(p.constraint(p))

    def _train_step(self, x, y, sw, params):
        batch_size = da.num_samples(x)
        y_pred = self._forward(x, True)
        self._apply_gradients(self._compute_loss(y, y_pred, sw, batch_size), params)
        if self._metrics:
            # torch.no_grad() as a context manager costs several microseconds of Python per step
            _set_grad_enabled(False)
            try:
                self._update_metrics(y, _detach(y_pred), sw)
            finally:
                _set_grad_enabled(True)

    def _train_step_distributed(self, ddp, x, y, sw, params, local_size, global_size, world):
        # Each process's loss is weighted by its share of the global batch (times the process count,
        # which DDP's average divides out): the averaged gradient is the global batch's.
        with distribute.sync_batch_statistics(1.0 if local_size else 0.0):
            y_pred = ddp(x, training=True) if ddp is not None else self._forward(x, True)
        loss = self._compute_loss(y, y_pred, sw, local_size, track=local_size > 0,
                                  scale=world * local_size / global_size)
        self._apply_gradients(loss, params)
        if local_size:
            with torch.no_grad():
                self._update_metrics(y, _detach(y_pred), sw)

    def _test_step(self, x, y, sw):
        batch_size = da.num_samples(x)
        y_pred = self._forward(x, False)
        self._compute_loss(y, y_pred, sw, batch_size)
        self._update_metrics(y, y_pred, sw)

    def _logs(self):
        if self.__dict__.get("_custom_logs") is not None:
            return dict(self._custom_logs)
        ctx = getattr(self, "_dist_ctx", None)
        if ctx is not None:
            return self._reduced_logs(ctx)
        return self._local_logs()

    def _reduced_logs(self, ctx):
        """The logs over all processes: loss sums, counts and metric states (all sums) added up."""
        sums = self._sums
        dev = sums.loss.device
        states = [v for _, m, _ in self._metrics for v in m.variables]
        parts = [sums.loss.reshape(1), torch.tensor([float(sums.count)], dtype=torch.float64, device=dev)]
        parts += [s.reshape(1).to(dev, torch.float64) for s in sums.per_output]
        parts += [v.reshape(-1).to(dev, torch.float64) for v in states]
        total = ctx.all_reduce_sum(torch.cat(parts))
        saved_states = [v.clone() for v in states]
        try:
            k = 2 + len(sums.per_output)
            self._sums = _LossSums.of(total[0], int(round(float(total[1]))), list(total[2:k]))
            for v in states:
                v.copy_(total[k:k + v.numel()].reshape(v.shape).to(v.dtype))
                k += v.numel()
            return self._local_logs()
        finally:
            self._sums = sums
            for v, old in zip(states, saved_states):
                v.copy_(old)

    def _local_logs(self):
        logs = {}
        sums = self._sums
        count = max(sums.count, 1)
        logs["loss"] = float(sums.loss) / count
        if self._n_outputs > 1:
            for n, s, l in zip(self._output_names(), sums.per_output, self._losses):
                if l is not None:
                    logs[f"{n}_loss"] = float(s) / count
        for _, m, _ in self._metrics:
            logs[m.name] = float(m.result())
        return logs

    # ------------------------------------------------------------------ preparation
    def _prepare(self, x, build_only=False):
        """Build the model from data if needed and move it to the compute device."""
        if not self.built:
            xt = da.to_tensor(x) if not isinstance(x, torch.Tensor) else x
            self._build_from_data(xt)
        dev = backend.get_device()
        if self._device() not in (None, dev):
            self.to(dev)
        elif self._device() is None:
            self.to(dev)
        self._has_regularizers = any(True for _ in self._iter_regularized())
        low = mixed_precision.autocast_dtype(self)
        self.__dict__["_autocast"] = (dev.type, low) if low is not None else None
        self._constrained = [p for p in self.parameters() if getattr(p, "constraint", None) is not None]
        return dev

    def _iter_regularized(self):
        stack = [self]
        while stack:
            l = stack.pop()
            if l.weight_regularizers:
                yield l
            stack.extend(l.sublayers())

    def build_optimizer(self):
        """Build the optimizer on the weights training updates, on the device training uses (what the first
        step of ``fit`` does), so that a saved optimizer state has somewhere to go."""
        self.to(backend.get_device())
        self.optimizer.build(self._trainable_params())

    def _trainable_params(self):
        seen, out = set(), []
        for p in self.trainable_weights:
            if p.requires_grad and id(p) not in seen:
                seen.add(id(p))
                out.append(p)
        return out

    def _check_inputs(self, x):
        """Compare data shapes with the model's inputs and say how to fix a mismatch."""
        inputs = getattr(self, "inputs", None)
        if not inputs:
            return
        flat = x if isinstance(x, (list, tuple)) else ([x[n] for n in self.input_names] if isinstance(x, dict) else [x])
        if len(flat) != len(inputs):
            raise DataError(f"Model {self.name!r} expects {len(inputs)} input(s) {self.input_names} but received "
                            f"{len(flat)} array(s).")
        sizes_from_data = self.__dict__.get("_input_sizes_from_data", False)
        for i, (t, spec) in enumerate(zip(flat, inputs)):
            got = tuple(t.shape)
            want = spec.shape
            if sizes_from_data:  # only the first batch's sizes, not declared ones: the rank must agree
                want = (None,) * len(want)
            ok = len(got) == len(want) and all(w is None or w == g for w, g in zip(want[1:], got[1:]))
            if ok:
                continue
            hint = ""
            want_tail = tuple(want[1:])
            got_tail = got[1:]
            if None not in want_tail and math.prod(want_tail) == math.prod(got_tail):
                hint = (f" The sizes agree: reshape the data with x = x.reshape((-1,) + {want_tail}), "
                        f"or start the model with Reshape({want_tail}).")
            elif len(got) == len(want) - 1 and want[-1] == 1:
                hint = " Add the channel axis: x = x[..., None] (e.g. MNIST images (N, 28, 28) -> (N, 28, 28, 1))."
            raise DataError(f"Input {i} of model {self.name!r} ({spec.keras_history.operation.name!r}) expects "
                            f"data of shape {want}, but received an array of shape {got}.{hint}")

    def _array_data(self, x, y, sample_weight, class_weight=None):
        x = da.to_tensor(x, "x")
        y = da.to_tensor(y, "y")
        sample_weight = da.to_tensor(sample_weight, "sample_weight")
        if x is None:
            raise DataError("No input data: pass x to fit/evaluate/predict.")
        da.check_lengths(x, y, sample_weight)
        if class_weight is not None:
            cw = da.class_weight_to_sample_weight(y, class_weight)
            sample_weight = cw if sample_weight is None else sample_weight * cw
        return x, y, sample_weight

    def _batches(self, x, y, sample_weight, batch_size, shuffle, steps, device, class_weight=None):
        if da.is_generator_like(x):
            if y is not None:
                raise DataError("When x is a generator or Sequence, it yields the targets too: do not pass y.")
            if class_weight is not None:
                raise DataError("class_weight is not supported with generators; yield sample weights instead.")
            return da.GeneratorBatches(x, steps=steps, shuffle=shuffle, device=device)
        x, y, sample_weight = self._array_data(x, y, sample_weight, class_weight)
        return da.ArrayBatches(x, y, sample_weight, batch_size=batch_size or 32, shuffle=shuffle, steps=steps,
                               device=device)

    def _ensure_ready(self, batches, for_training):
        """Build, check input shapes and resolve losses/metrics from the first data."""
        if isinstance(batches, da.ArrayBatches):
            x0, y0 = batches.x, batches.y
        else:
            first = next(iter(batches.epoch()), None) if not batches.is_sequence else \
                batches._prepare(0, batches.data[0])
            if first is None:
                raise DataError("The data generator yielded no batches.")
            _, x0, y0, _ = first
            if not batches.is_sequence and not getattr(batches, "restartable", False):
                # The first batch was consumed: feed it back in front of the rest.
                batches = _Prepend(batches, first)
        dev = self._prepare(x0)
        self._check_inputs(x0)
        if for_training or self.compiled:
            self._assert_compiled()
            if not self._resolved:
                outs = getattr(self, "outputs", None)
                shapes = outs and [t.shape for t in outs]
                if not shapes:
                    with torch.no_grad():
                        out = self._forward(da.move(da.take(x0, slice(0, 2)), dev), False)
                    shapes = [(None,) + tuple(o.shape[1:]) for o in (out if isinstance(out, (list, tuple)) else [out])]
                self._resolve(y0, shapes)
        return batches, dev

    # ------------------------------------------------------------------ several processes
    def _shard(self, batches, ctx):
        """Under torchrun: rank 0's shuffled order everywhere, then this process's share of each batch."""
        if ctx is None:
            return batches
        inner = batches.inner if isinstance(batches, _Prepend) else batches
        inner.order_sync = ctx.broadcast
        return da.ShardedBatches(batches, ctx.rank, ctx.world)

    def _ddp(self, ctx, params):
        """This model wrapped in DistributedDataParallel (which also copies rank 0's weights to all)."""
        if not params:
            return None
        dev = self._device()
        unused = any(l is None for l in self._losses) or any(
            not getattr(l, "trainable", True) for l in getattr(self, "layers", []))
        # Buffers (BatchNorm's moving statistics) are equal everywhere (the statistics are synchronised):
        # copied from rank 0 once at the start, not before every forward.
        no_forward_sync = ({"forward_sync_buffers": False} if "forward_sync_buffers" in
                           inspect.signature(DistributedDataParallel.__init__).parameters else
                           {"broadcast_buffers": False})
        return DistributedDataParallel(self, device_ids=[dev.index] if dev is not None and dev.type == "cuda"
                                       else None, find_unused_parameters=unused, **no_forward_sync)

    # ------------------------------------------------------------------ fit
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1, **kwargs):
        """Train for ``epochs`` epochs; returns a ``History`` whose ``.history`` holds the per-epoch logs."""
        if "nb_epoch" in kwargs:  # Keras 1 spelling, still in old tutorials
            epochs = kwargs.pop("nb_epoch")
        if kwargs:
            raise TypeError(f"fit() got unexpected keyword argument(s) {sorted(kwargs)}.")
        self._assert_compiled()
        verbose = 1 if verbose == "auto" else int(verbose)
        ctx = distribute.context()
        if validation_split and validation_data is None:
            if da.is_generator_like(x):
                raise DataError("validation_split is only supported for arrays; pass validation_data instead.")
            xa, ya, swa = self._array_data(x, y, sample_weight, class_weight)
            (x, y, sample_weight), validation_data = da.split_validation(xa, ya, swa, validation_split)
            class_weight = None
        dev = backend.get_device()
        train = self._batches(x, y, sample_weight, batch_size, shuffle, steps_per_epoch, None, class_weight)
        train, dev = self._ensure_ready(train, for_training=True)
        train = self._shard(_on_device(train, dev), ctx)
        val = None
        if validation_data is not None:
            vx, vy, vsw = da.unpack(validation_data) if isinstance(validation_data, (tuple, list)) else \
                (validation_data, None, None)
            val = self._batches(vx, vy, vsw, validation_batch_size or batch_size, False, validation_steps, None)
            self._check_inputs(val.x) if isinstance(val, da.ArrayBatches) else None
            val = self._shard(_on_device(val, dev), ctx)

        cbs = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self, verbose=verbose,
                           epochs=epochs, steps=len(train) if train.steps is not None else None)
        batch_logs = cbs.needs_batch_logs()
        params = self._trainable_params()
        ddp = self._ddp(ctx, params) if ctx is not None else None
        self.stop_training = False
        custom_train = self._overrides("train_step")
        spe = self.__dict__.get("steps_per_execution", 1)
        self.train()
        self._dist_ctx = ctx
        self._custom_logs = None
        try:
            cbs.on_train_begin()
            # BackupAndRestore sets the epoch to resume from, as in Keras.
            initial_epoch = self.__dict__.pop("_initial_epoch", None) or initial_epoch
            logs = {}
            for epoch in range(initial_epoch, epochs):
                self._reset_metrics()
                self._custom_logs = None
                cbs.on_epoch_begin(epoch)
                steps_run = 0
                for step, xb, yb, swb in train.epoch():
                    steps_run += 1
                    # Batch `step` is number `at` of its execution (steps_per_execution batches).
                    at = (steps_run - 1) % spe
                    if at == 0:
                        begin = step
                        if batch_logs:
                            cbs.on_train_batch_begin(step)
                    if custom_train and ctx is None:
                        self._custom_step("train_step", xb, yb, swb)
                    elif custom_train:
                        # Each process runs the step on its share; optimizer.apply averages the gradients,
                        # BatchNormalization uses the global batch, and the logs are averaged by share.
                        share = train.local_size / train.global_size
                        with distribute.sync_batch_statistics(1.0 if train.local_size else 0.0), \
                                distribute.sync_custom_step_gradients(ctx, share):
                            self._custom_step("train_step", xb, yb, swb)
                        self._custom_logs = _global_logs(self._custom_logs, ctx, share)
                    elif ctx is None:
                        self._train_step(xb, yb, swb, params)
                    else:
                        self._train_step_distributed(ddp, xb, yb, swb, params, train.local_size,
                                                     train.global_size, ctx.world)
                    if at < spe - 1:  # the execution goes on
                        continue
                    if batch_logs:
                        cbs.on_train_batch_end(step, self._logs())
                        if ctx is not None:  # a callback's stop must stop every process at the same batch
                            self.stop_training = ctx.any(self.stop_training, self._sums.loss.device)
                    if self.stop_training:
                        break
                else:
                    if steps_run % spe and batch_logs:  # the epoch ended inside an execution: Keras's end number
                        cbs.on_train_batch_end(begin + spe - 1, self._logs())
                        if ctx is not None:
                            self.stop_training = ctx.any(self.stop_training, self._sums.loss.device)
                if not steps_run and not self.stop_training:
                    if epoch > initial_epoch and isinstance(train, (da.GeneratorBatches, _Prepend)):
                        # A generator used up by the earlier epochs: Keras stops training with this warning.
                        warnings.warn("Your input ran out of data; interrupting training. Make sure that your "
                                      "dataset or generator can generate at least `steps_per_epoch * epochs` "
                                      "batches.", UserWarning, stacklevel=2)
                        break
                    # Keras refuses it too: an epoch without a batch would report a loss of 0 as a result.
                    raise DataError("fit() received no data: the training set is empty (0 samples or 0 steps).")
                logs = self._end_epoch(epoch, val, validation_freq, cbs, ctx)
                if self.stop_training:
                    break
            optimizer = getattr(self, "optimizer", None)
            if epochs > 0 and hasattr(optimizer, "finalize_variable_values"):
                optimizer.finalize_variable_values(self.trainable_weights)  # Keras: EMA weights replace the weights
            cbs.on_train_end(logs)
        finally:
            self._dist_ctx = None
            self._custom_logs = None
        self.eval()
        return self.history

    def _end_epoch(self, epoch, val, validation_freq, cbs, ctx):
        logs = self._logs()
        if val is not None and (epoch + 1) % validation_freq == 0:
            train_logs = self._custom_logs
            self._custom_logs = None
            logs.update({"val_" + k: v for k, v in self._run_eval(val, cbs).items()})
            self._custom_logs = train_logs
            self.train()
        if not math.isfinite(logs.get("loss", 0.0)):
            warnings.warn(
                f"The loss became {logs['loss']} in epoch {epoch + 1}: training stopped. Lower the learning "
                "rate, scale the inputs (e.g. x / 255.0) and check the data for NaN or infinite values.",
                RuntimeWarning, stacklevel=3)
            self.stop_training = True
        cbs.on_epoch_end(epoch, logs)
        if ctx is not None:
            self.stop_training = ctx.any(self.stop_training, self._sums.loss.device)
        return logs

    def _run_eval(self, batches, cbs=None):
        """fit's validation pass; with ``cbs``, its on_test_* hooks run as Keras runs them in fit."""
        self._reset_metrics()
        self.eval()
        sharded = isinstance(batches, da.ShardedBatches)
        custom = self._overrides("test_step")
        batch_hooks = cbs is not None and bool(cbs.listeners("on_test_batch_begin")
                                               or cbs.listeners("on_test_batch_end"))
        spe = self.__dict__.get("steps_per_execution", 1)
        at = spe - 1
        if cbs is not None:
            cbs.on_test_begin()
        with torch.no_grad():
            for n, (step, xb, yb, swb) in enumerate(batches.epoch()):
                at = n % spe
                if at == 0:
                    begin = step
                    if batch_hooks:
                        cbs.on_test_batch_begin(step)
                if custom:
                    self._custom_step("test_step", xb, yb, swb)
                elif not sharded or batches.local_size:
                    self._test_step(xb, yb, swb)
                if batch_hooks and at == spe - 1:
                    cbs.on_test_batch_end(step, self._logs())
            if batch_hooks and at < spe - 1:  # the last execution was cut short by the end of the data
                cbs.on_test_batch_end(begin + spe - 1, self._logs())
        logs = self._logs()
        self._custom_logs = None
        if cbs is not None:
            cbs.on_test_end(logs)
        return logs

    # ------------------------------------------------------------------ evaluate / predict
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False, **kwargs):
        """Loss and metrics on the given data: a scalar, a list ``[loss, *metrics]`` or a dict."""
        self._assert_compiled()
        verbose = 1 if verbose == "auto" else int(verbose)
        batches = self._batches(x, y, sample_weight, batch_size, False, steps, None)
        ctx = distribute.context()
        batches, dev = self._ensure_ready(batches, for_training=False)
        batches = self._shard(_on_device(batches, dev), ctx)
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
                           steps=len(batches) if batches.steps is not None else None)
        batch_logs = cbs.needs_batch_logs() or verbose != 0
        self._dist_ctx = ctx
        custom = self._overrides("test_step")
        self._custom_logs = None
        try:
            cbs.on_test_begin()
            self._reset_metrics()
            self.eval()
            steps_run = 0
            spe = self.__dict__.get("steps_per_execution", 1)
            with torch.no_grad():
                for step, xb, yb, swb in batches.epoch():
                    steps_run += 1
                    at = (steps_run - 1) % spe
                    if at == 0:
                        begin = step
                        if batch_logs:
                            cbs.on_test_batch_begin(step)
                    if custom:
                        self._custom_step("test_step", xb, yb, swb)
                    elif ctx is None or batches.local_size:
                        self._test_step(xb, yb, swb)
                    if batch_logs and at == spe - 1:
                        cbs.on_test_batch_end(step, self._logs())
                if batch_logs and steps_run % spe:  # the last execution was cut short by the end of the data
                    cbs.on_test_batch_end(begin + spe - 1, self._logs())
            if not steps_run:  # a loss and an accuracy of 0 would read as a result
                raise DataError("evaluate() received no data: the test set is empty (0 samples or 0 steps).")
            logs = self._logs()
        finally:
            self._dist_ctx = None
            self._custom_logs = None
        cbs.on_test_end(logs)
        if return_dict:
            return logs
        if custom:
            values = list(logs.values())
            return values[0] if len(values) == 1 else values
        values = [logs[n] for n in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None, **kwargs):
        """Model outputs for ``x`` as NumPy arrays (a list of them for several outputs)."""
        verbose = 1 if verbose == "auto" else int(verbose)
        if da.is_generator_like(x):
            batches = da.GeneratorBatches(x, steps=steps)
        else:
            xt = da.to_tensor(x, "x")
            batches = da.ArrayBatches(xt, batch_size=batch_size or 32, steps=steps)
        if isinstance(batches, da.ArrayBatches):
            dev = self._prepare(batches.x)
            self._check_inputs(batches.x)
        else:
            dev = None
        ctx = distribute.context()
        batches = self._shard(batches, ctx)
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
                           steps=len(batches) if batches.steps is not None else None)
        cbs.on_predict_begin()
        outs, sizes, dict_keys = [], [], None
        # In-memory data of known length (one process): each batch's outputs are written into result
        # arrays made at the first batch, so that a large predict holds its results once, not twice.
        rows = min(batches.n, batches.steps * batches.batch_size) \
            if isinstance(batches, da.ArrayBatches) and ctx is None else None
        stream, filled = None, 0
        spe = self.__dict__.get("steps_per_execution", 1)
        execution = []  # the outputs of the batches of this execution (steps_per_execution batches)
        self.eval()
        with torch.no_grad():
            for n_run, (step, xb, _, _) in enumerate(batches.epoch()):
                if dev is None:
                    dev = self._prepare(xb)
                at = n_run % spe
                if at == 0:
                    begin, execution = step, []
                    cbs.on_predict_batch_begin(step)
                if self._overrides("predict_step"):
                    y = self.predict_step((da.move(xb, dev),))
                else:
                    y = self._forward(da.move(xb, dev), False)
                keep = batches.local_size if ctx is not None else None
                if isinstance(y, dict):  # dict outputs come back as a dict, as in Keras
                    dict_keys, y = sorted(y), [y[k] for k in sorted(y)]
                parts = [_numpy_ready(t.detach()[:keep].cpu()) for t in (y if isinstance(y, (list, tuple)) else [y])]
                n = da.num_samples(xb)
                if rows is not None and (stream is not None or not outs) and filled + n <= rows and all(
                        p.dim() >= 1 and p.shape[0] == n for p in parts) and (stream is None or all(
                        tuple(p.shape[1:]) == b.shape[1:] and p.numpy().dtype == b.dtype for p, b in zip(parts, stream))):
                    if stream is None:
                        stream = [np.empty((rows,) + tuple(p.shape[1:]), dtype=p.numpy().dtype) for p in parts]
                    for buf, p in zip(stream, parts):
                        buf[filled:filled + n] = p.numpy()
                    filled += n
                else:
                    if stream is not None:  # outputs that are not one row per sample after all: concatenate
                        outs, stream = [[torch.from_numpy(b[:filled]) for b in stream]], None
                    rows = None
                    outs.append(parts)
                if ctx is not None:
                    sizes.append(batches.global_size)
                if spe == 1:
                    cbs.on_predict_batch_end(step, {"outputs": y})
                    continue
                execution.append(y)
                if at == spe - 1:  # as Keras, the callbacks get the execution's outputs joined
                    cbs.on_predict_batch_end(step, {"outputs": _join_outputs(execution)})
            if spe > 1 and execution and at < spe - 1:  # the data ended inside an execution
                cbs.on_predict_batch_end(begin + spe - 1, {"outputs": _join_outputs(execution)})
        cbs.on_predict_end()
        if not outs and stream is None:
            raise DataError("predict() received no data.")
        if stream is not None:
            result = [buf[:filled] for buf in stream]
        else:
            result = [torch.cat(parts) for parts in zip(*outs)]
            if ctx is not None:
                result = [_gather_predictions(ctx, r, sizes) for r in result]
            result = [r.numpy() for r in result]
        if dict_keys is not None:
            return dict(zip(dict_keys, result))
        return result[0] if len(result) == 1 and not isinstance(getattr(self, "_outputs_struct", None), list) \
            else result

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, reset_metrics=True,
                       return_dict=False):
        """One gradient update on one batch; returns its loss (and metrics).

        Under torchrun the batch is a global batch, as in `fit`: every process passes the same one, each
        computes the gradients of its share, and the update (like the returned logs) is the whole batch's.
        """
        self._assert_compiled()
        x, y, sw = self._array_data(x, y, sample_weight, class_weight)
        batch, ctx = self._one_batch(x, y, sw, for_training=True)
        if reset_metrics:
            self._reset_metrics()
        params = self._trainable_params()
        self.train()
        for _, xb, yb, swb in batch.epoch():  # one step
            if ctx is None:
                self._train_step(xb, yb, swb, params)
            else:
                self._train_step_distributed(self._batch_ddp(ctx, params), xb, yb, swb, params, batch.local_size,
                                             batch.global_size, ctx.world)
        self.eval()
        return self._batch_result(return_dict, ctx)

    def test_on_batch(self, x, y=None, sample_weight=None, reset_metrics=True, return_dict=False):
        """Loss (and metrics) on one batch; under torchrun, split across the processes as in `evaluate`."""
        self._assert_compiled()
        x, y, sw = self._array_data(x, y, sample_weight)
        batch, ctx = self._one_batch(x, y, sw, for_training=False)
        if reset_metrics:
            self._reset_metrics()
        self.eval()
        with torch.no_grad():
            for _, xb, yb, swb in batch.epoch():  # one step
                if ctx is None or batch.local_size:
                    self._test_step(xb, yb, swb)
        return self._batch_result(return_dict, ctx)

    def _one_batch(self, x, y, sw, for_training):
        """``(x, y, sw)`` as batches of one step on the model's device (under torchrun, this process's share
        of it), and the distribution context (None: one process)."""
        ctx = distribute.context()
        batches, dev = self._ensure_ready(da.ArrayBatches(x, y, sw, batch_size=max(1, da.num_samples(x))),
                                          for_training)
        return self._shard(_on_device(batches, dev), ctx), ctx

    def _batch_ddp(self, ctx, params):
        """The DistributedDataParallel wrapper for `train_on_batch`, made once (which copies rank 0's
        weights to every process) and kept while the trainable weights stay the same."""
        key = (id(torch.distributed.group.WORLD), tuple(id(p) for p in params))
        cached = self.__dict__.get(distribute.WRAPPER_ATTR)
        if cached is None or cached[0] != key:
            self.__dict__.pop(distribute.WRAPPER_ATTR, None)  # the old wrapper goes before a new one is made
            cached = (key, self._ddp(ctx, params))
            # In __dict__, not as a submodule: the wrapper holds this model, not the other way round.
            self.__dict__[distribute.WRAPPER_ATTR] = cached
            distribute.hold_wrapper(self)
        return cached[1]

    def predict_on_batch(self, x):
        return self.predict(x, batch_size=max(1, da.num_samples(da.to_tensor(x))), verbose=0)

    def _batch_result(self, return_dict, ctx=None):
        self._dist_ctx = ctx
        try:
            logs = self._logs()
        finally:
            self._dist_ctx = None
        if return_dict:
            return logs
        values = [logs[n] for n in self.metrics_names]
        return values[0] if len(values) == 1 else values


class _LossSums:
    """The running sums behind the loss logs: sample-weighted loss totals (on the compute device, read
    once per log) and the sample count. A plain object, so that the training step's updates are in-place
    adds and never pass through ``nn.Module.__setattr__`` (which costs more than a small step's math)."""

    __slots__ = ("_loss", "count", "per_output", "_pending", "_sizes")

    def __init__(self, device, n_outputs):
        self._loss = torch.zeros((), dtype=torch.float64, device=device)
        self.count = 0
        self.per_output = [torch.zeros((), dtype=torch.float64, device=device) for _ in range(n_outputs)]
        self._pending, self._sizes = [], []

    @classmethod
    def of(cls, loss, count, per_output):
        sums = cls.__new__(cls)
        sums._loss, sums.count, sums.per_output = loss, count, per_output
        sums._pending, sums._sizes = [], []
        return sums

    @property
    def loss(self):
        """The weighted loss total (a float64 tensor on the device)."""
        if self._pending:
            self._flush()
        return self._loss

    def add(self, value, batch_size):
        # A step only keeps its (detached, 0-d) loss; they are added up in one go when a log reads the
        # total or every 256 steps: one kernel per step less than an in-place add each time.
        self._pending.append(value)
        self._sizes.append(batch_size)
        self.count += batch_size
        if len(self._pending) >= 256:
            self._flush()

    def _flush(self):
        values = torch.stack(self._pending).to(torch.float64)
        sizes = self._sizes
        if min(sizes) == max(sizes):
            self._loss.add_(values.sum(), alpha=sizes[0])
        else:
            self._loss.add_((values * torch.tensor(sizes, dtype=torch.float64, device=values.device)).sum())
        self._pending, self._sizes = [], []


class _Prepend:
    """A generator's batches with an already-read first batch put back in front."""

    def __init__(self, inner, first):
        self.inner, self.first = inner, first
        self.steps = inner.steps
        self.is_sequence = False

    def __len__(self):
        return self.inner.steps

    def epoch(self):
        first, self.first = self.first, None
        if first is not None:
            dev = self.inner.device
            yield (first[0],) + tuple(da.move(t, dev) for t in first[1:]) if dev is not None else first
            rest = self.inner.epoch()
            if self.inner.steps is not None:
                self.inner.steps -= 1
                try:
                    for step, x, y, sw in rest:
                        yield step + 1, x, y, sw
                finally:
                    self.inner.steps += 1
                return
            for step, x, y, sw in rest:
                yield step + 1, x, y, sw
            return
        yield from self.inner.epoch()


def _gather_predictions(ctx, local, sizes):
    """Every process's rows of a sharded predict, put back in the order of the data."""
    counts = [[len(range(r, g, ctx.world)) for g in sizes] for r in range(ctx.world)]
    longest = max(sum(c) for c in counts)
    padded = torch.zeros((longest,) + tuple(local.shape[1:]), dtype=local.dtype)
    padded[:local.shape[0]] = local
    parts = ctx.all_gather(padded)
    out = torch.empty((sum(sizes),) + tuple(local.shape[1:]), dtype=local.dtype)
    offsets = [0] * ctx.world
    start = 0
    for k, g in enumerate(sizes):
        for r in range(ctx.world):
            c = counts[r][k]
            out[start + r:start + g:ctx.world] = parts[r][offsets[r]:offsets[r] + c]
            offsets[r] += c
        start += g
    return out


def _on_device(batches, dev):
    """Put in-memory data on an accelerator once (when it fits) instead of copying every batch."""
    if isinstance(batches, da.ArrayBatches):
        if dev.type != "cpu":
            size = sum(t.numel() * t.element_size() for t in flatten([batches.x, batches.y, batches.sw])
                       if t is not None)
            if size < 2 * 1024**3:
                batches.x, batches.y, batches.sw = (da.move(batches.x, dev), da.move(batches.y, dev),
                                                    da.move(batches.sw, dev))
            else:
                batches.device = dev
    elif isinstance(batches, _Prepend):
        batches.inner.device = dev
    else:
        batches.device = dev
    return batches


def _join_outputs(outputs):
    """The outputs of several predict batches (tensors, or lists/tuples/dicts of them) joined on the batch axis."""
    first = outputs[0]
    if len(outputs) == 1:
        return first
    if isinstance(first, dict):
        return {k: _join_outputs([o[k] for o in outputs]) for k in first}
    if isinstance(first, (list, tuple)):
        return type(first)(_join_outputs(list(parts)) for parts in zip(*outputs))
    return torch.cat(outputs)


def _flat_targets(y, model):
    if y is None:
        return [None] * model._n_outputs
    if isinstance(y, dict):
        return [y.get(n) for n in model._output_names()]
    if isinstance(y, (list, tuple)):
        if model._n_outputs == 1 and len(y) != 1:
            return [y]
        return list(y)
    return [y]


def _numpy_ready(t):
    """A predict output NumPy can hold: bfloat16 (a mixed_bfloat16 model's output) becomes float32."""
    return t.float() if t.dtype == torch.bfloat16 else t


def _detach(y):
    if isinstance(y, torch.Tensor):
        return y.detach()
    if isinstance(y, (list, tuple)):
        return [t.detach() for t in y]
    if isinstance(y, dict):
        return {k: v.detach() for k, v in y.items()}
    return y


def _flat_metric_specs(spec):
    if spec is None:
        return []
    if isinstance(spec, dict):
        out = []
        for v in spec.values():
            out.extend(_flat_metric_specs(v))
        return out
    if isinstance(spec, (list, tuple)):
        out = []
        for v in spec:
            out.extend(_flat_metric_specs(v))
        return out
    return [spec]


def _metrics_per_output(spec, names):
    n = len(names)
    if isinstance(spec, dict):
        unknown = set(spec) - set(names)
        if unknown:
            raise ValueError(f"compile(metrics=...) names {sorted(unknown)} are not outputs; outputs are {names}.")
        return [_as_list(spec.get(nm)) for nm in names]
    spec = _as_list(spec)
    if n > 1 and len(spec) == n and all(isinstance(s, (list, tuple)) or s is None for s in spec):
        return [_as_list(s) for s in spec]
    return [list(spec) for _ in range(n)]


def _as_list(s):
    if s is None:
        return []
    return list(s) if isinstance(s, (list, tuple)) else [s]


def _global_logs(logs, ctx, share):
    """A custom train_step's logs under torchrun: each number the average over the processes, weighted by
    their shares of the global batch (exact for per-batch means and for running means of equal shares)."""
    if not logs:
        return logs
    keys = sorted(k for k, v in logs.items() if isinstance(v, float))
    if not keys:
        return logs
    local = torch.tensor([logs[k] * share if share else 0.0 for k in keys], dtype=torch.float64)
    summed = ctx.all_reduce_sum(local).tolist()
    return {**logs, **dict(zip(keys, summed))}


def _pythonify(logs):
    """A step's returned logs as a flat dict of Python floats (nested dicts merged, as Keras does)."""
    out = {}
    for k, v in (logs or {}).items():
        if isinstance(v, dict):
            out.update(_pythonify(v))
        elif isinstance(v, torch.Tensor) and v.numel() == 1:
            out[k] = float(v.detach())
        elif isinstance(v, (int, float, np.floating, np.integer)):
            out[k] = float(v)
        else:
            out[k] = v
    return out
