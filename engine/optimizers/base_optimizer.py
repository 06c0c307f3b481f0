"""The ``Optimizer`` base class: Keras 3's optimizer API over torch tensors.

One training step does what Keras's ``BaseOptimizer.apply`` does, in the same order: drop the
variables without a gradient, unscale (``loss_scale_factor``), accumulate (``gradient_accumulation_steps``),
clip (``clipnorm`` / ``global_clipnorm`` / ``clipvalue``), apply decoupled weight decay, run the update
rule, count the iteration. Update rules work on whole lists of tensors with ``torch._foreach_*`` ops,
as Keras's own torch backend does, so a step costs a handful of kernel launches, not one per weight.

Optimizer state ("variables") is kept in Keras's order so that ``.keras`` files and resumed training
line up with real Keras: ``iteration``, ``learning_rate`` (only when it is a float), then the slots in
the order the optimizer's ``build`` creates them (Keras interleaves several slots per weight, e.g.
Adam's ``momentum, velocity`` for weight 0, then for weight 1...).
"""
from __future__ import annotations

import contextlib
import itertools
import math
import operator
import re
import warnings

import numpy as np
import torch

from engine import backend, distribute, initializers
from engine.optimizers import schedules as schedules_module

_NONES = itertools.repeat(None)
_set_grad_enabled = torch._C._set_grad_enabled

# Keys that tf.keras 2.x wrote into optimizer configs and that carry no meaning here.
_KERAS2_IGNORED_KWARGS = ("jit_compile", "is_legacy_optimizer")


class _ScalarState:
    """A scalar kept as a Python number on the optimizer but saved as one of its variables."""

    __slots__ = ("attr", "dtype")

    def __init__(self, attr, dtype):
        self.attr = attr
        self.dtype = dtype


def _to_float(value, arg_name):
    """A hyperparameter as a Python float; refuses strings, booleans and arrays with the value."""
    if isinstance(value, bool) or isinstance(value, str):
        raise ValueError(f"Argument `{arg_name}` must be a number. Received: {arg_name}={value!r}")
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"Argument `{arg_name}` must be a scalar. Received a tensor of shape "
                             f"{tuple(value.shape)}.")
        return float(value.item())
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"Argument `{arg_name}` must be a number. Received: {arg_name}={value!r}") from None


def _optional_non_negative(value, arg_name):
    if value is None:
        return None
    value = _to_float(value, arg_name)
    if value < 0:
        raise ValueError(f"Argument `{arg_name}` must be >= 0. Received: {arg_name}={value}")
    return value


def _to_numpy(value):
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if not isinstance(value, np.ndarray) and hasattr(value, "numpy"):  # a keras.Variable or tf tensor
        return np.asarray(value.numpy())
    return np.asarray(value)


def _check_range(value, arg_name, low=0.0, high=1.0):
    """A hyperparameter as a float in [low, high]; the error names the argument and the value received."""
    value = _to_float(value, arg_name)
    if not low <= value <= high:
        raise ValueError(f"Argument `{arg_name}` must be a float between [{low:g}, {high:g}]. "
                         f"Received: {arg_name}={value}")
    return value


def _epsilon(value):
    """Keras 2 allowed `epsilon=None`, meaning the backend's fuzz factor."""
    if value is None:
        return backend.epsilon()
    return _check_range(value, "epsilon", 0.0, math.inf)


class Optimizer:
    """Base class for optimizers, with Keras 3's constructor arguments and API.

    Subclasses create their slots in ``build`` (``add_optimizer_variables``) and implement the update
    rule either for all weights at once in ``_update_all(grads, variables, idx, learning_rate)`` (the
    built-in optimizers) or, Keras style, per weight in ``update_step(gradient, variable, learning_rate)``.

    Args:
        learning_rate: A float, a `engine.optimizers.schedules.LearningRateSchedule` (evaluated at
            `iterations` each step), or a callable with no arguments returning the rate.
        weight_decay: Float. If set, decoupled weight decay: each weight is multiplied by
            `1 - weight_decay * learning_rate` before the update.
        clipnorm: Float. If set, the gradient of each weight is clipped to this norm.
        clipvalue: Float. If set, each gradient is clipped to `[-clipvalue, clipvalue]`.
        global_clipnorm: Float. If set, all gradients are scaled so that their global norm is at most this.
        use_ema: keep an exponential moving average of the weights (Keras's Polyak averaging): updated
            after every step, copied into the weights at the end of `fit` and, with the callback
            `SwapEMAWeights`, used for evaluation.
        ema_momentum: the average's momentum (0.99).
        ema_overwrite_frequency: every this many steps, also copy the averages into the weights.
        loss_scale_factor: Float or `None`. Gradients are divided by it before anything else.
        gradient_accumulation_steps: Int >= 2 or `None`. Weights are updated every this many steps with
            the mean of the gradients accumulated since the last update.
        name: String. Defaults to the snake-case class name made unique (`"adam"`, `"adam_1"`...).
        lr: Keras 2 alias of `learning_rate`.
        decay: Keras 2 time-based decay: the rate used at step `t` is
            `learning_rate / (1 + decay * t)`. The `learning_rate` property still returns the base rate,
            as Keras 2's `optimizer.lr` did.
    """

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        if "lr" in kwargs:
            # Keras 2 spelling, still in many tutorials; it wins over the signature default.
            learning_rate = kwargs.pop("lr")
        decay = kwargs.pop("decay", None)
        for key in _KERAS2_IGNORED_KWARGS:
            kwargs.pop(key, None)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}. {type(self).__name__} accepts Keras 3's "
                             "arguments plus Keras 2's `lr` and `decay`.")
        ema_momentum = _to_float(ema_momentum, "ema_momentum")
        if not 0.0 <= ema_momentum <= 1.0:
            raise ValueError(f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={ema_momentum}")
        if use_ema and ema_overwrite_frequency is not None and (
                isinstance(ema_overwrite_frequency, bool) or not isinstance(ema_overwrite_frequency, int)
                or ema_overwrite_frequency < 1):
            raise ValueError("`ema_overwrite_frequency` must be an integer >= 1 or None. Received: "
                             f"ema_overwrite_frequency={ema_overwrite_frequency!r}")
        if gradient_accumulation_steps is not None:
            if (isinstance(gradient_accumulation_steps, bool) or not isinstance(gradient_accumulation_steps, int)
                    or gradient_accumulation_steps < 2):
                raise ValueError("`gradient_accumulation_steps` must be an integer >= 2. "
                                 f"Received: gradient_accumulation_steps={gradient_accumulation_steps!r}")
        clipnorm = _optional_non_negative(clipnorm, "clipnorm")
        clipvalue = _optional_non_negative(clipvalue, "clipvalue")
        global_clipnorm = _optional_non_negative(global_clipnorm, "global_clipnorm")
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                             f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}")
        decay = 0.0 if decay is None else _to_float(decay, "decay")
        if decay < 0:
            raise ValueError(f"Argument `decay` must be >= 0. Received: decay={decay}")

        self.name = name if name is not None else backend.unique_name(backend.to_snake_case(type(self).__name__))
        self.weight_decay = None if weight_decay is None else _to_float(weight_decay, "weight_decay")
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = bool(use_ema)
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = None if loss_scale_factor is None else _to_float(loss_scale_factor,
                                                                                  "loss_scale_factor")
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.decay = decay
        self._learning_rate = self._standardize_learning_rate(learning_rate)
        self._iterations = 0
        self.built = False
        self._variables = []        # slot tensors and _ScalarState entries, in Keras's order
        self._variable_names = []
        self._trainable_variables = []
        self._index_by_id = {}
        self._exclude_ids = set()
        self._exclude_pattern = None
        self._decayed_variables = None   # weights that get weight decay, for the all-weights fast path
        self._accumulated_gradients = []
        self._cpu_scalars = False
        self._scalar_dtype = torch.float32
        self._constants = {}

    # ------------------------------------------------------------------ learning rate and iterations
    @staticmethod
    def _standardize_learning_rate(learning_rate):
        if isinstance(learning_rate, schedules_module.LearningRateSchedule):
            return learning_rate
        if isinstance(learning_rate, dict):
            return schedules_module.deserialize(learning_rate)
        if callable(learning_rate) and not isinstance(learning_rate, torch.Tensor):
            return learning_rate
        try:
            return _to_float(learning_rate, "learning_rate")
        except ValueError:
            raise ValueError(
                "Argument `learning_rate` should be a float, a LearningRateSchedule, or a callable that "
                f"returns the learning rate. Received instead: learning_rate={learning_rate!r}") from None

    def _base_learning_rate(self):
        return self.learning_rate_at(self._iterations)

    def _step_learning_rate(self):
        """The rate this step uses: the base rate with Keras 2's time-based ``decay`` applied."""
        lr = self._base_learning_rate()
        if self.decay:
            lr = lr / (1.0 + self.decay * self._iterations)
        return lr

    @property
    def learning_rate(self):
        """The current learning rate as a Python float (a schedule is evaluated at `iterations`)."""
        return self._base_learning_rate()

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        if isinstance(learning_rate, schedules_module.LearningRateSchedule) or (
                callable(learning_rate) and not isinstance(learning_rate, torch.Tensor)):
            self._learning_rate = learning_rate
            return
        if isinstance(self._learning_rate, schedules_module.LearningRateSchedule):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its `learning_rate` "
                "constructor argument, hence its learning rate is not settable. If you need the learning "
                "rate to be settable, you should instantiate the optimizer with a float `learning_rate`.")
        self._learning_rate = _to_float(learning_rate, "learning_rate")

    # Keras 2 name, still read and written by tutorials and old callbacks.
    lr = learning_rate

    @property
    def learning_rate_schedule(self):
        """What the rate comes from when it is not a constant: the `LearningRateSchedule` (or callable)
        given as ``learning_rate``; None for a constant rate."""
        lr = self._learning_rate
        return None if type(lr) is float else lr

    def learning_rate_at(self, step):
        """The rate (a float, before Keras 2's ``decay``) of update ``step``, counted from 0 as
        `iterations` counts: a schedule evaluated there, a callable's answer, or the constant."""
        lr = self._learning_rate
        if type(lr) is float:
            return lr
        if isinstance(lr, schedules_module.LearningRateSchedule):
            return float(lr(step))
        return _to_float(lr(), "learning_rate")

    @contextlib.contextmanager
    def frozen_learning_rate(self):
        """Within: a scheduled rate is held as the constant its schedule gave the last update (the first,
        before any), and ``get_config`` records that number; the schedule is back afterwards. For writing
        a file that readers without the schedule's class (Keras itself, for an app's own schedule) load."""
        schedule = self._learning_rate
        if type(schedule) is not float:
            self._learning_rate = float(self.learning_rate_at(max(self._iterations - 1, 0)))
        try:
            yield self
        finally:
            self._learning_rate = schedule

    @property
    def iterations(self):
        """The number of update steps done (with gradient accumulation: the number of real updates)."""
        if self.gradient_accumulation_steps:
            return self._iterations // self.gradient_accumulation_steps
        return self._iterations

    @iterations.setter
    def iterations(self, value):
        self._iterations = int(value)

    # ------------------------------------------------------------------ building slots
    def build(self, var_list):
        """Create the optimizer's state for `var_list` (the trainable weights). Subclasses extend it."""
        if self.built:
            return
        var_list = list(var_list)
        self._trainable_variables = var_list
        self._index_by_id = {id(v): i for i, v in enumerate(var_list)}
        if self.use_ema:  # Keras's "average" slots come first, before the accumulators
            self._model_variables_moving_average = self.add_optimizer_variables(var_list, "average")
        if self.gradient_accumulation_steps:
            self._accumulated_gradients = self.add_optimizer_variables(var_list, "gradient_accumulator")
        self._decayed_variables = None
        # On CPU, torch's foreach ops with a Python scalar wrap it into a tensor once per weight, which
        # costs more than the arithmetic on small weights; a 0-d tensor (or a list of them) avoids that.
        # CUDA/MPS take the scalar overloads on their fast multi-tensor path instead.
        self._cpu_scalars = bool(var_list) and all(v.device.type == "cpu" for v in var_list)
        self._scalar_dtype = var_list[0].dtype if var_list else torch.float32
        self._constants = {}
        self.built = True

    def add_variable(self, shape, initializer="zeros", dtype=None, name=None, device=None):
        """Add a state tensor (Keras's `add_variable`), tracked in `variables`."""
        shape = tuple(int(s) for s in shape)
        dtype = backend.torch_dtype(dtype)
        device = device if device is not None else backend.get_device()
        value = self._initial_value(initializer, shape, dtype, device)
        self._track(value, name or "variable")
        return value

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        """Add a state tensor with the shape, dtype and device of `reference_variable`."""
        ref = reference_variable
        ref_name = getattr(ref, "keras_path", None) or getattr(ref, "keras_name", None) or "variable"
        full_name = f"{str(ref_name).replace('/', '_')}_{name or 'var'}"
        if isinstance(initializer, str) and initializer == "zeros":
            value = torch.zeros_like(ref, memory_format=torch.preserve_format).detach()
        else:
            value = self._initial_value(initializer, tuple(ref.shape), ref.dtype, ref.device)
        self._track(value, full_name)
        return value

    def add_optimizer_variables(self, trainable_variables, name, initializer="zeros"):
        """One slot per weight for each name in `name`; several names are interleaved per weight, as Keras."""
        names = [name] if isinstance(name, str) else list(name)
        inits = initializer if isinstance(initializer, (list, tuple)) else [initializer] * len(names)
        if len(inits) != len(names):
            raise ValueError("The number of provided names must match the number of provided initializers. "
                             f"Received name={name!r}, initializer={initializer!r}")
        out = tuple([] for _ in names)
        for variable in trainable_variables:
            for i, (slot_name, init) in enumerate(zip(names, inits)):
                out[i].append(self.add_variable_from_reference(variable, slot_name, init))
        return out[0] if isinstance(name, str) else out

    def _add_scalar_variable(self, attr, dtype="float32", name="variable"):
        """Save the Python number in `self.<attr>` as one of the optimizer's variables (at this position)."""
        self._variables.append(_ScalarState(attr, dtype))
        self._variable_names.append(name)

    def _track(self, value, name):
        self._variables.append(value)
        self._variable_names.append(name)

    @staticmethod
    def _initial_value(initializer, shape, dtype, device):
        if isinstance(initializer, (int, float)) and not isinstance(initializer, bool):
            return torch.full(shape, float(initializer), dtype=dtype, device=device)
        if isinstance(initializer, initializers.Constant):
            return torch.full(shape, float(initializer.value), dtype=dtype, device=device)
        init = initializers.get(initializer)
        value = init(shape, dtype=dtype)
        if not isinstance(value, torch.Tensor):
            value = torch.as_tensor(np.asarray(value), dtype=dtype)
        return value.to(device=device, dtype=dtype)

    def _get_variable_index(self, variable):
        return self._index_by_id[id(variable)]

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Exclude weights from weight decay: these objects, or those whose name contains one of `var_names`.

        Must be called before the optimizer is built (before the first step).
        """
        if self.built:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before the optimizer is built.")
        self._exclude_ids = {id(v) for v in (var_list or [])}
        self._exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None

    def _use_weight_decay(self, variable):
        if id(variable) in self._exclude_ids:
            return False
        if self._exclude_pattern is not None:
            name = getattr(variable, "keras_path", None) or getattr(variable, "keras_name", None) or ""
            if self._exclude_pattern.search(str(name)) is not None:
                return False
        return True

    # ------------------------------------------------------------------ Keras-style helpers for update_step
    def assign(self, variable, value):
        variable.copy_(value)

    def assign_add(self, variable, value):
        variable.add_(value)

    def assign_sub(self, variable, value):
        variable.sub_(value)

    def update_step(self, gradient, variable, learning_rate):
        """The update rule for one weight (Keras's extension point for custom optimizers)."""
        raise NotImplementedError(f"{type(self).__name__} must implement `update_step` or `_update_all`.")

    def _update_all(self, grads, variables, idx, learning_rate):
        """Update every weight in `variables` at once. `idx` maps them to build order (None: all, in order)."""
        raise NotImplementedError(f"{type(self).__name__} must implement `update_step` or `_update_all`.")

    @staticmethod
    def _pick(slots, idx):
        return slots if idx is None else [slots[i] for i in idx]

    # Scalar arithmetic on tensor lists in the form the fastest foreach overload takes (see `build`).
    def _scalar(self, value):
        """`value` for one step: a fresh 0-d tensor on CPU, else the float."""
        if self._cpu_scalars:
            return torch.scalar_tensor(value, dtype=self._scalar_dtype)
        return value

    def _const(self, value):
        """Like `_scalar` for a hyperparameter that stays the same every step (cached)."""
        if not self._cpu_scalars:
            return value
        t = self._constants.get(value)
        if t is None:
            t = self._constants[value] = torch.scalar_tensor(value, dtype=self._scalar_dtype)
        return t

    def _foreach_mul_scalar_(self, tensors, value, constant=True):
        torch._foreach_mul_(tensors, self._const(value) if constant else self._scalar(value))

    def _foreach_add_scalar(self, tensors, value):
        """`[t + value for t in tensors]` (new tensors); `value` is a constant."""
        if self._cpu_scalars:
            return torch._foreach_add(tensors, [self._const(value)] * len(tensors))
        return torch._foreach_add(tensors, value)

    def _foreach_add_scalar_(self, tensors, value):
        if self._cpu_scalars:
            torch._foreach_add_(tensors, [self._const(value)] * len(tensors))
        else:
            torch._foreach_add_(tensors, value)

    # ------------------------------------------------------------------ applying gradients
    def step(self, params):
        """Apply the gradients in `p.grad` to `params` (the trainable parameters, the same list each call).

        Parameters whose `.grad` is None are left alone. Builds the state on the first call.
        """
        # torch.no_grad() as a context manager costs several microseconds of Python per call.
        grad_mode = torch.is_grad_enabled()
        if grad_mode:
            _set_grad_enabled(False)
        try:
            self._apply([p.grad for p in params], params)
        finally:
            if grad_mode:
                _set_grad_enabled(True)

    def apply_gradients(self, grads_and_vars):
        """Keras's API: apply a list of `(gradient, variable)` pairs. Returns `iterations`."""
        grads, variables = [], []
        for g, v in grads_and_vars:
            grads.append(g)
            variables.append(v)
        self.apply(grads, variables)
        return self._iterations

    def apply(self, grads, trainable_variables=None):
        """Keras's API: update `trainable_variables` (default: the weights it was built with) with `grads`.

        Unlike `step`, this also applies each weight's `constraint`, as Keras's `apply` does.
        """
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError("When passing `grads` without `variables`, the optimizer must already be built "
                                 "on a list of variables. Call `optimizer.build(trainable_variables)` first.")
            if len(grads) != len(self._trainable_variables):
                raise ValueError(f"Received a list of {len(grads)} gradients, but the optimizer is tracking "
                                 f"{len(self._trainable_variables)} trainable variables.")
            variables = self._trainable_variables
        else:
            variables = list(trainable_variables)
            if len(grads) != len(variables):
                raise ValueError(f"Received {len(grads)} gradients for {len(variables)} variables; "
                                 "pass one gradient per variable.")
        for i, (g, v) in enumerate(zip(grads, variables)):
            if g is not None and (not isinstance(g, torch.Tensor) or g.dtype != v.dtype or g.device != v.device):
                grads[i] = torch.as_tensor(np.asarray(g) if not isinstance(g, torch.Tensor) else g,
                                           dtype=v.dtype, device=v.device)
        sync = distribute.custom_step_gradient_sync()
        if sync is not None:  # a custom train_step under torchrun: the global batch's gradients
            grads = sync(grads, variables)
        with torch.no_grad():
            self._apply(grads, variables)
            for v in variables:
                constraint = getattr(v, "constraint", None)
                if constraint is not None:
                    v.copy_(constraint(v))

    def _apply(self, grads, variables):
        if not grads:
            return  # Keras: nothing to apply is a no-op, the iteration is not counted
        if not self.built:
            self.build(variables)
        tv = self._trainable_variables
        # map/operator run these per-step checks in C: this is the hot path of every training step.
        if len(variables) == len(tv) and all(map(operator.is_, variables, tv)):
            idx = None
        else:
            try:
                idx = [self._index_by_id[id(v)] for v in variables]
            except KeyError:
                raise ValueError(
                    "Unknown variable: this optimizer can only be called for the variables it was originally "
                    "built with. When working with a new set of variables, create a new optimizer instance."
                ) from None
        if not all(map(operator.is_not, grads, _NONES)):
            keep = [i for i, g in enumerate(grads) if g is not None]
            if not keep:
                raise ValueError("No gradients provided for any variable.")
            missing = [getattr(variables[i], "keras_name", f"#{i}") for i, g in enumerate(grads) if g is None]
            warnings.warn(f"Gradients do not exist for variables {missing} when minimizing the loss. If using "
                          "`model.compile()`, did you forget to provide a `loss` argument?", stacklevel=3)
            idx = [keep_i if idx is None else idx[keep_i] for keep_i in keep]
            grads = [grads[i] for i in keep]
            variables = [variables[i] for i in keep]
        if self.loss_scale_factor is not None:
            grads = torch._foreach_div(grads, self.loss_scale_factor)
        steps = self.gradient_accumulation_steps
        if steps:
            acc = self._pick(self._accumulated_gradients, idx)
            if (self._iterations + 1) % steps == 0:
                grads = torch._foreach_add(grads, acc)
                torch._foreach_div_(grads, float(steps))
                self._update(grads, variables, idx)
                torch._foreach_zero_(self._accumulated_gradients)
            else:
                torch._foreach_add_(acc, grads)
        else:
            self._update(grads, variables, idx)
        if self.use_ema:
            self._update_moving_averages()
        self._iterations += 1

    def _update_moving_averages(self):
        """Keras's EMA of the weights after each step (the first step copies them), and every
        ``ema_overwrite_frequency`` steps the weights replaced by their averages."""
        momentum = self.ema_momentum if self._iterations != 0 else 0.0
        for var, average in zip(self._trainable_variables, self._model_variables_moving_average):
            average.mul_(momentum).add_(var.detach(), alpha=1.0 - momentum)
        if self.ema_overwrite_frequency and (self._iterations + 1) % self.ema_overwrite_frequency == 0:
            self._overwrite_with_averages(self._trainable_variables)

    def _overwrite_with_averages(self, var_list):
        var_list = list(var_list)
        if len(var_list) != len(self._model_variables_moving_average):
            raise ValueError(f"The length of model variables ({len(var_list)}) to override does not match the "
                             "length of model variables stored in the optimizer "
                             f"({len(self._model_variables_moving_average)}). Please check if the optimizer was "
                             "called on your model.")
        with torch.no_grad():
            for var, average in zip(var_list, self._model_variables_moving_average):
                var.copy_(average)

    def _update(self, grads, variables, idx):
        grads = self._clip_gradients(grads)
        lr = self._step_learning_rate()
        if self.weight_decay is not None:
            self._apply_weight_decay(variables, idx, lr)
        if type(self).update_step is not Optimizer.update_step:
            # A Keras-style custom optimizer (possibly subclassing a built-in one): its rule wins.
            for g, v in zip(grads, variables):
                self.update_step(g, v, lr)
        else:
            self._update_all(grads, variables, idx, lr)

    def _clip_gradients(self, grads):
        if self.clipnorm:
            # Keras: g * clipnorm / max(||g||, clipnorm), per weight.
            c = self.clipnorm
            factors = torch._foreach_norm(grads)
            torch._foreach_clamp_min_(factors, c)
            torch._foreach_reciprocal_(factors)
            self._foreach_mul_scalar_(factors, c)
            return torch._foreach_mul(grads, factors)
        if self.global_clipnorm:
            c = self.global_clipnorm
            total = global_norm(grads)
            # Keras's form: a NaN/inf norm turns every gradient into NaN instead of silently passing it.
            scale = c * torch.clamp(1.0 / total, max=1.0 / c) + (total - total)
            return torch._foreach_mul(grads, scale)
        if self.clipvalue:
            v = self.clipvalue
            out = torch._foreach_clamp_max(grads, v)
            torch._foreach_clamp_min_(out, -v)
            return out
        return grads

    def _apply_weight_decay(self, variables, idx, lr):
        if idx is None:
            if self._decayed_variables is None:
                self._decayed_variables = [v for v in self._trainable_variables if self._use_weight_decay(v)]
            decayed = self._decayed_variables
        else:
            decayed = [v for v in variables if self._use_weight_decay(v)]
        if decayed:
            self._foreach_mul_scalar_(decayed, 1.0 - self.weight_decay * lr, constant=False)

    # ------------------------------------------------------------------ Keras extras
    def scale_loss(self, loss):
        """Multiply `loss` by `loss_scale_factor` (when set) before computing gradients."""
        if self.loss_scale_factor is not None:
            return loss * self.loss_scale_factor
        return loss

    def moving_average_pairs(self):
        """``[(variable, its moving average)]`` with ``use_ema`` once built (the SwapEMAWeights callback
        swaps them); empty otherwise."""
        if not (self.use_ema and self.built):
            return []
        return list(zip(self._trainable_variables, self._model_variables_moving_average))

    def finalize_variable_values(self, var_list):
        """Called at the end of `fit`: with `use_ema`, the weights take their moving averages (as Keras)."""
        if self.use_ema and self.built:
            self._overwrite_with_averages(var_list)

    # ------------------------------------------------------------------ state: save and resume
    def _lr_is_variable(self):
        return type(self._learning_rate) is float

    @property
    def variable_names(self):
        """Names of the entries of `variables`, as Keras names them (`iteration`, `learning_rate`, ...)."""
        head = ["iteration"] + (["learning_rate"] if self._lr_is_variable() else [])
        return head + list(self._variable_names)

    def get_state(self):
        """The optimizer's state as numpy arrays, in the order of Keras 3's `optimizer.variables`."""
        out = [np.array(self._iterations, dtype=np.int32)]
        if self._lr_is_variable():
            out.append(np.array(self._learning_rate, dtype=np.float32))
        for v in self._variables:
            if isinstance(v, _ScalarState):
                out.append(np.array(getattr(self, v.attr), dtype=v.dtype))
            else:
                out.append(v.detach().cpu().numpy().copy())
        return out

    @property
    def variables(self):
        """The state as a list of numpy arrays (see `get_state`)."""
        return self.get_state()

    def set_state(self, values):
        """Restore a list from `get_state` (or Keras's `optimizer.variables`). Build the optimizer first."""
        values = list(values)
        n_head = 2 if self._lr_is_variable() else 1
        expected = n_head + len(self._variables)
        if len(values) != expected:
            hint = ("" if self.built else " The optimizer is not built yet: call "
                    "`optimizer.build(model.trainable_weights)` before restoring its state.")
            raise ValueError(f"Optimizer {self.name!r} has {expected} variables but received {len(values)} "
                             f"values.{hint}")
        arrays = [_to_numpy(v) for v in values]
        for i, v in enumerate(self._variables):
            a = arrays[n_head + i]
            shape = () if isinstance(v, _ScalarState) else tuple(v.shape)
            if tuple(a.shape) != shape:
                raise ValueError(f"Optimizer variable {self.variable_names[n_head + i]!r} has shape {shape}, "
                                 f"not compatible with the provided value of shape {tuple(a.shape)}.")
        self._iterations = int(arrays[0])
        # A file holds the rate as float32: when it is the configured rate rounded, the exact Python float
        # stays, so that a resumed run computes exactly what the original would.
        if n_head == 2 and np.float32(arrays[1]) != np.float32(self._learning_rate):
            self._learning_rate = float(arrays[1])
        with torch.no_grad():
            for i, v in enumerate(self._variables):
                a = arrays[n_head + i]
                if isinstance(v, _ScalarState):
                    setattr(self, v.attr, float(a))
                else:
                    v.copy_(torch.as_tensor(a, dtype=v.dtype))

    def set_weights(self, weights):
        """Keras's name for `set_state`."""
        if not self.built:
            raise ValueError("You are calling `set_weights()` on an optimizer that has not yet been built. "
                             "Call `optimizer.build(trainable_variables)` first.")
        self.set_state(weights)

    def get_weights(self):
        return self.get_state()

    def save_own_variables(self, store):
        """Write the state into `store` under "0", "1", ... (the `.keras` file's `optimizer/vars`)."""
        for i, value in enumerate(self.get_state()):
            store[str(i)] = value

    def load_own_variables(self, store):
        """Read the state written by `save_own_variables` (or by Keras); skips with a warning on a mismatch."""
        n = len(self.get_state())
        if len(store.keys()) != n:
            msg = (f"Skipping variable loading for optimizer '{self.name}', because it has {n} variables whereas "
                   f"the saved optimizer has {len(store.keys())} variables. ")
            if not self.built:
                msg += "This is likely because the optimizer has not been called/built yet."
            warnings.warn(msg, stacklevel=2)
            return
        self.set_state([np.asarray(store[str(i)]) for i in range(n)])

    # ------------------------------------------------------------------ config
    def get_config(self):
        """The constructor arguments, with Keras 3's keys (a schedule is serialized as a dict)."""
        lr = self._learning_rate
        if isinstance(lr, schedules_module.LearningRateSchedule):
            lr = schedules_module.serialize(lr)
        elif type(lr) is not float:
            lr = self._base_learning_rate()
        config = {
            "name": self.name,
            "learning_rate": lr,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }
        if self.decay:
            # Keras 3 has no such key (it ignores it with a warning); written only when used.
            config["decay"] = self.decay
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild an optimizer from `get_config()` output (Keras 3 or tf.keras 2 configs)."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules_module.deserialize(config["learning_rate"])
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} learning_rate={self.learning_rate:g}>"


def global_norm(tensors):
    """The L2 norm of all `tensors` together (None entries are skipped), as a 0-d tensor."""
    norms = torch._foreach_norm([t for t in tensors if t is not None])
    return torch.linalg.vector_norm(torch.stack([n.float() for n in norms]))
