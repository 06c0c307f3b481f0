"""MultiOptimizer and OptimizerMap, as Keras 3's: different optimizers for different weights."""
from __future__ import annotations

import re
from collections.abc import MutableMapping

from engine.optimizers.base_optimizer import Optimizer
from engine.optimizers.loss_scale_optimizer import LossScaleOptimizer
from engine.optimizers.serialization import deserialize, serialize, serialize_object


def _path(variable):
    return str(getattr(variable, "path", None) or getattr(variable, "keras_path", None)
               or getattr(variable, "keras_name", None) or "")


class OptimizerMap(MutableMapping):
    """Which optimizer updates which weight: ``{pattern: optimizer}``, a pattern being a weight path
    (``"dense/kernel"``) or a regular expression matching whole paths; other weights get
    ``default_optimizer``.

    Args:
        default_optimizer: the optimizer of weights no pattern matches.
        optimizer_map: ``{pattern: optimizer}`` (optional).
    """

    def __init__(self, default_optimizer, optimizer_map=None):
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError(f"default_optimizer must be an engine Optimizer instance. Received: {default_optimizer}")
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(f"optimizer_map must be a dictionary. Received: {optimizer_map}")
        self._default_optimizer = default_optimizer
        self._optimizer_map = {}
        for key, optimizer in (optimizer_map or {}).items():
            self[key] = optimizer

    @property
    def default_optimizer(self):
        return self._default_optimizer

    def __getitem__(self, key):
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matching = [pattern for pattern in self._optimizer_map if re.fullmatch(pattern, key)]
        if len(matching) > 1:
            raise ValueError(f"Multiple optimizers assigned to variable {key}.")
        return self._optimizer_map[matching[0]] if matching else self._default_optimizer

    def __setitem__(self, key, optimizer):
        if key in self._optimizer_map:
            raise ValueError(f"'{key}' already exists in the OptimizerMap with value {self._optimizer_map[key]}. "
                             "Please make sure to not use duplicated keys.")
        if not isinstance(key, str):
            raise ValueError(f"key must be a string. Received: {key}")
        if not isinstance(optimizer, Optimizer):
            raise ValueError(f"optimizer must be an engine Optimizer instance. Received: {optimizer}")
        if isinstance(optimizer, (LossScaleOptimizer, MultiOptimizer)):
            raise ValueError(f"optimizer cannot be {type(optimizer).__name__}.")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key):
        del self._optimizer_map[key]

    def __len__(self):
        return len(self._optimizer_map)

    def __iter__(self):
        return iter(self._optimizer_map)

    def __call__(self, variable):
        return self[_path(variable)]

    def get_config(self):
        return {"default_optimizer": serialize(self._default_optimizer),
                "optimizer_map": {k: serialize(v) for k, v in self._optimizer_map.items()}}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        def opt(value):
            return value if isinstance(value, Optimizer) else deserialize(value, custom_objects=custom_objects)

        return cls(opt(config["default_optimizer"]),
                   {k: opt(v) for k, v in (config.get("optimizer_map") or {}).items()})


class MultiOptimizer(Optimizer):
    """Updates each weight with the optimizer an ``OptimizerMap`` (or any callable ``fn(variable) ->
    optimizer``) gives it, e.g. a smaller learning rate for a pretrained base. Its state is its own
    step count followed by each inner optimizer's state, as Keras stores it.

    Args:
        optimizer_map: an ``OptimizerMap`` or a callable from a weight to its optimizer.
        loss_scale_factor: passed on to every inner optimizer.
        name: the optimizer's name.
    """

    def __init__(self, optimizer_map, loss_scale_factor=None, name=None):
        super().__init__(learning_rate=0.0, name=name)
        self._optimizer_map = optimizer_map
        self._inner_optimizers = []
        if hasattr(optimizer_map, "values"):
            for opt in optimizer_map.values():
                if opt not in self._inner_optimizers:
                    self._inner_optimizers.append(opt)
        default = getattr(optimizer_map, "default_optimizer", None)
        if default is not None and default not in self._inner_optimizers:
            self._inner_optimizers.append(default)
        self.loss_scale_factor = loss_scale_factor

    def __setattr__(self, key, value):
        super().__setattr__(key, value)
        if key == "loss_scale_factor":  # the inner optimizers unscale the gradients
            for opt in self.__dict__.get("_inner_optimizers", []):
                opt.loss_scale_factor = value

    def build(self, var_list):
        if self.built:
            return
        var_list = list(var_list)
        groups = [[] for _ in self._inner_optimizers]
        self._owner = {}
        for var in var_list:
            opt = self._optimizer_map(var)
            if not isinstance(opt, Optimizer):
                raise ValueError(f"Optimizer for variable {_path(var)} is not an Optimizer instance.")
            if isinstance(opt, (LossScaleOptimizer, MultiOptimizer)):
                raise ValueError(f"{type(opt).__name__} cannot be used inside a MultiOptimizer.")
            if opt not in self._inner_optimizers:
                opt.loss_scale_factor = self.loss_scale_factor
                self._inner_optimizers.append(opt)
                groups.append([])
            i = self._inner_optimizers.index(opt)
            self._owner[id(var)] = i
            groups[i].append(var)
        for opt, variables in zip(self._inner_optimizers, groups):
            if variables:
                opt.build(variables)
        super().build(var_list)

    @property
    def optimizers(self):
        return self._inner_optimizers

    @property
    def learning_rate(self):
        raise AttributeError("Learning rate cannot be accessed on a MultiOptimizer. Access the learning rate on the "
                             "individual sub-optimizers instead (optimizer.optimizers).")

    @learning_rate.setter
    def learning_rate(self, value):
        raise AttributeError("Learning rate cannot be set on a MultiOptimizer. Set the learning rate on the "
                             "individual sub-optimizers instead (optimizer.optimizers).")

    lr = learning_rate

    def scale_loss(self, loss):
        return loss * self.loss_scale_factor if self.loss_scale_factor is not None else loss

    def _apply(self, grads, variables):
        if not grads:
            return
        if not self.built:
            self.build(variables)
        groups = [([], []) for _ in self._inner_optimizers]
        for g, v in zip(grads, variables):
            try:
                i = self._owner[id(v)]
            except KeyError:
                raise ValueError("Unknown variable: this optimizer can only be called for the variables it was "
                                 "originally built with.") from None
            groups[i][0].append(g)
            groups[i][1].append(v)
        for opt, (sub_grads, sub_vars) in zip(self._inner_optimizers, groups):
            if sub_vars:
                opt._apply(sub_grads, sub_vars)
        self._iterations += 1

    def finalize_variable_values(self, var_list):
        for opt in self._inner_optimizers:
            opt.finalize_variable_values(var_list)

    @property
    def variable_names(self):
        names = super().variable_names
        for opt in self._inner_optimizers:
            names = names + opt.variable_names
        return names

    def get_state(self):
        state = super().get_state()
        for opt in self._inner_optimizers:
            if opt.built:
                state = state + opt.get_state()
        return state

    def set_state(self, values):
        values = list(values)
        own = len(super().get_state())
        if len(values) != len(self.get_state()):
            raise ValueError(f"Optimizer {self.name!r} has {len(self.get_state())} variables but received "
                             f"{len(values)} values.")
        super().set_state(values[:own])
        k = own
        for opt in self._inner_optimizers:
            if opt.built:
                n = len(opt.get_state())
                opt.set_state(values[k:k + n])
                k += n

    def get_config(self):
        mapping = self._optimizer_map
        mapping = {"module": "keras.optimizers", "class_name": "OptimizerMap", "config": mapping.get_config(),
                   "registered_name": None} if isinstance(mapping, OptimizerMap) else serialize_object(mapping)
        return {"optimizer_map": mapping, "loss_scale_factor": self.loss_scale_factor, "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        mapping = config["optimizer_map"]
        if isinstance(mapping, dict) and mapping.get("class_name") == "OptimizerMap":
            mapping = OptimizerMap.from_config(mapping.get("config") or {}, custom_objects=custom_objects)
        elif isinstance(mapping, dict):
            raise ValueError("MultiOptimizer: only an OptimizerMap can come from a config (a function would be code "
                             f"stored in the file). Received: {mapping.get('class_name')!r}")
        config["optimizer_map"] = mapping
        return cls(**config)

    def __repr__(self):
        return f"<MultiOptimizer name={self.name!r} optimizers={self._inner_optimizers!r}>"
