"""Keras 3 configs for layers and models: ``get_config``/``from_config``, ``to_json``/``model_from_json``.

Classes come only from the layer registry: a name in a config is looked up, never imported, so a
config cannot make the engine run code.
"""
from __future__ import annotations

import collections
import inspect
import json
import os

import numpy as np

from engine import backend, ops
from engine.layers import registry
from engine.layers.input_layer import InputLayer
from engine.layers.layer import Layer, WEIGHT_BUDGET
from engine.layers.node import KerasTensor, flatten
from engine.object_registration import get_registered_name, visible_custom_objects
from engine.object_registration import loading_custom_objects, loading_with_custom_objects  # noqa: F401 - re-exported
from engine.utils.progress_utils import report


class ModelFileError(ValueError):
    """A model file or config that cannot be read: malformed, truncated, hostile or not a Keras model.

    Every problem found while loading a file ends in this one exception type; its message names the
    file (when there is one) and the problem.
    """


class ConfigError(ModelFileError):
    """A model config that cannot be turned into a model (unknown class, broken graph, bad values)."""


# The model classes a config names ("Sequential", "Functional"): engine.models registers them when it loads
# (engine.models imports engine.saving, never the other way round). A model config is read into these.
MODEL_CLASSES: dict = {}


def register_model_class(name, cls):
    """Make ``cls`` the class a model config naming ``name`` is built as (``engine.models`` calls it)."""
    MODEL_CLASSES[name] = cls
    return cls


def model_class(name):
    """The registered model class for ``name`` ("Sequential" or "Functional")."""
    try:
        return MODEL_CLASSES[name]
    except KeyError:
        raise ConfigError(f"No model class {name!r} is registered: import engine.models first.") from None


def config_kind(obj):
    """The registered model class ``obj`` is an instance of (a file holds its config), or None: a layer,
    or a subclassed Model whose architecture is Python code."""
    for cls in MODEL_CLASSES.values():
        if isinstance(obj, cls):
            return cls
    return None


def serialize_layer(layer, with_build_config=True):
    if config_kind(layer) is not None:
        return serialize_model(layer)
    cls = type(layer)
    # (keras_class_name: where Keras exports a class under another name than its own; keras_module: where
    # Keras's class lives outside keras.layers, e.g. the applications' LayerScale, so that Keras finds it.)
    out = {"module": cls.keras_module, "class_name": cls.keras_class_name or cls.__name__,
           "config": layer.get_config(), "registered_name": None}
    if not cls.__module__.startswith("engine.") and not (
            registry.is_registered(cls.__name__) and registry.get_class(cls.__name__) is cls):
        # The user's own class: Keras writes its module and registered name ("package>Name").
        registered = get_registered_name(cls)
        out["module"] = None if cls.__module__ == "__main__" else cls.__module__
        out["registered_name"] = registered
    if with_build_config and not isinstance(layer, InputLayer):
        bc = layer.get_build_config()
        if bc is not None:
            out["build_config"] = bc
    return out


class _SavedOp:
    """A node of a Keras file that is an operation (``x + y`` in the model code, saved with module
    ``keras.src.ops.*``), not a layer. It is rebuilt by calling the ``engine.ops`` function of the same
    name on the restored tensors; only ``engine.ops`` functions are reachable, looked up by name, so a
    file cannot make the engine run anything else."""

    def __init__(self, fn, name, extra):
        self.fn, self.name, self.extra = fn, name, extra
        self.calls = 0


def _called_like_an_op(config):
    nodes = config.get("inbound_nodes")
    if not isinstance(nodes, list) or not nodes:
        return False
    return all(isinstance(n, dict) and isinstance(n.get("args"), list) and len(n["args"]) > 1 for n in nodes) \
        or (isinstance(config.get("class_name"), str) and not registry.is_registered(config["class_name"])
            and all(isinstance(n, dict) for n in nodes))


def _user_class(config):
    """Whether a layer config names one of the user's own classes (registered, in a custom_object_scope or
    passed in custom_objects): Keras writes registered classes with no module, like legacy ops."""
    custom = visible_custom_objects(loading_custom_objects())
    registered, name = config.get("registered_name"), config.get("class_name")
    return (isinstance(registered, str) and registered in custom) or (isinstance(name, str) and name in custom)


def _saved_op(config):
    module = config.get("module")
    inner = config.get("config") or {}
    if module is None and isinstance(inner, dict) and "dtype" not in inner and "trainable" not in inner \
            and _called_like_an_op(config) and not _user_class(config):
        # Legacy .h5 configs carry no module: every Keras layer writes its dtype and takes one positional
        # argument (a list for merge layers); an operation such as `x + y` writes neither.
        module = "keras.src.ops (legacy .h5 config)"
    elif not (isinstance(module, str) and module.startswith("keras.src.ops.")):
        return None
    class_name = config["class_name"]
    if not isinstance(class_name, str) or not class_name.isidentifier() or not isinstance(inner, dict):
        raise ConfigError(f"Unreadable operation in the model config: {config!r:.200}")
    fn = getattr(ops, backend.to_snake_case(class_name), None)
    if fn is None or not hasattr(fn, "__wrapped_op__"):
        raise ConfigError(f"The model uses the operation {class_name!r} ({module}), which engine.ops does not have.")
    extra = {k: v for k, v in inner.items() if k != "name"}
    return _SavedOp(fn, inner.get("name") or config.get("name") or backend.to_snake_case(class_name), extra)


def deserialize_layer(config):
    if not isinstance(config, dict) or "class_name" not in config:
        raise ConfigError(f"A layer config must be a dict with 'class_name' and 'config'. Received: {config!r:.200}")
    op = _saved_op(config)
    if op is not None:
        return op
    name = config["class_name"]
    if name in ("Sequential", "Functional", "Model"):
        return model_from_config(config)
    if name in ("Lambda", "TFOpLambda", "SlicingOpLambda"):
        lname = (config.get("config") or {}).get("name") if isinstance(config.get("config"), dict) else None
        raise ConfigError(f"The model contains a {name} layer {lname!r}, which stores Python code. Loading it "
                          "would run that code, so it is refused. Rebuild the model without Lambda layers "
                          "(write a Layer subclass and pass it in custom_objects).")

    # The user's registered classes, custom_object_scope blocks and custom_objects: only what their code
    # put there, looked up by the file's registered name, then class name.
    custom = visible_custom_objects(loading_custom_objects())
    if not isinstance(name, str):
        raise ConfigError(f"A layer's 'class_name' must be a string. Received: {name!r:.100}")
    registered = config.get("registered_name")
    cls = custom.get(registered) if isinstance(registered, str) else None
    if cls is None:
        cls = custom.get(name)
    if cls is not None and not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise ConfigError(f"custom_objects[{name!r}] must be a Layer subclass. Received: {cls!r}")
    if cls is None:
        try:
            cls = registry.get_class(name)
        except ValueError as e:
            raise ConfigError(f"{e} Pass your own layer classes in custom_objects={{name: class}}.") from None
    inner = config.get("config") or {}
    if not isinstance(inner, dict):
        raise ConfigError(f"The config of layer class {name!r} must be an object. Received: {inner!r:.100}")
    try:
        return cls.from_config(dict(inner))
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        raise ConfigError(f"Cannot create layer {name!r} from its config: {e}") from None


def serialize_model(model):
    """A Sequential or functional model as Keras 3 writes it: the class's header (module, class name,
    registered name), the config its class makes (``get_config``) and the build config."""
    cls = config_kind(model)
    if cls is None:
        raise NotImplementedError(
            f"Model {model.name!r} is a subclassed Model; its architecture is Python code and has no config. "
            "Use save_weights() or build it as Sequential/functional.")
    # The registered class's config, even for a subclass that overrides get_config (the file is Keras's).
    out = {"module": cls.keras_module, "class_name": cls.keras_class_name, "config": cls.get_config(model),
           "registered_name": cls.keras_registered_name}
    bc = model.get_build_config()
    if bc is not None:
        out["build_config"] = bc
    return out


class WeightBudget:
    """Caps the weights a config may ask for, checked before each weight is allocated: 2**31 values (8 GiB
    of float32), or what 80% of the memory available now holds if that is less; ``VISUALKERAS_MAX_PARAMS``
    sets the cap instead (the file is then trusted that far)."""

    MAX_PARAMS = 2**31
    MIN_PARAMS = 1 << 24  # never less than 16M weights: a small model opens even on a busy computer

    def __init__(self, limit=None):
        env = os.environ.get("VISUALKERAS_MAX_PARAMS")
        self.memory = None
        if limit is not None:
            self.limit = int(limit)
        elif env:
            try:
                self.limit = int(env)
            except ValueError:
                raise ConfigError(f"VISUALKERAS_MAX_PARAMS must be a whole number of weights. Received: {env!r:.40}") \
                    from None
        else:
            self.limit = self.MAX_PARAMS
            from engine.utils import memory_utils  # start-up time: import engine does not load it otherwise

            free = memory_utils.available_memory_bytes()
            if free is not None and int(free * 0.8) // 4 < self.limit:
                self.limit = max(self.MIN_PARAMS, int(free * 0.8) // 4)
                self.memory = free
        self.used = 0

    def spend(self, shape, layer_name):
        n = 1
        for d in shape:
            n *= int(d)
        self.used += n
        if self.used > self.limit:
            why = (f"this computer has {self.memory / 2**30:.1f} GiB of memory free, room for about "
                   f"{self.limit:,} weights" if self.memory is not None else f"the limit is {self.limit:,}")
            raise ConfigError(
                f"The model config asks for more than {self.limit:,} weights (layer {layer_name!r} alone wants "
                f"{n:,}, shape {tuple(shape)}) and {why}; it is refused before any memory is taken. Close other "
                "programs, or set VISUALKERAS_MAX_PARAMS to a larger number if the model really is that big.")


def model_from_config(config, custom_objects=None):
    """Build a Sequential or functional model from a Keras 3 (or Keras 2) config dict.

    Classes come from the layer registry, or from ``custom_objects`` (``{name: Layer subclass}``).
    The weights the config asks for are capped (``WeightBudget``) before they are allocated.
    """
    if WEIGHT_BUDGET.get() is None:
        token = WEIGHT_BUDGET.set(WeightBudget())
        try:
            return model_from_config(config, custom_objects=custom_objects)
        finally:
            WEIGHT_BUDGET.reset(token)
    if custom_objects:
        with loading_with_custom_objects(custom_objects):
            return model_from_config(config)
    if not isinstance(config, dict):
        raise ConfigError(f"A model config must be a JSON object. Received: {type(config).__name__}")
    class_name = config.get("class_name")
    inner = config.get("config", config)
    if isinstance(inner, list):  # Keras 1/2.0-2.2 Sequential: "config" is the list of layers
        inner = {"layers": inner}
    if not isinstance(inner, dict):
        raise ConfigError(f"A model's 'config' must be an object. Received: {type(inner).__name__}")
    if class_name == "Sequential" or (class_name is None and "layers" in inner and "input_layers" not in inner):
        return _sequential_from_config(inner)
    if class_name in ("Functional", "Model") or (class_name is None and "input_layers" in inner):
        return _functional_from_config(inner)
    raise ConfigError(f"Unknown model class {class_name!r}: expected 'Sequential' or 'Functional'.")


def _sequential_from_config(cfg):
    Sequential = model_class("Sequential")
    layer_cfgs = cfg.get("layers")
    if not isinstance(layer_cfgs, list):
        raise ConfigError("A Sequential config needs a 'layers' list.")
    model = Sequential(name=cfg.get("name"))
    for i, lc in enumerate(layer_cfgs):
        model.add(deserialize_layer(lc))
        report("Building layers", i + 1, len(layer_cfgs))
    if not model.built and cfg.get("build_input_shape"):
        model.build(tuple(cfg["build_input_shape"]))
    return model


def _functional_from_config(cfg):
    Functional = model_class("Functional")
    layer_cfgs = cfg.get("layers")
    if not isinstance(layer_cfgs, list):
        raise ConfigError("A functional model config needs a 'layers' list.")
    created, pending = {}, []
    for lc in layer_cfgs:
        if not isinstance(lc, dict):
            raise ConfigError(f"Each layer config must be an object. Received: {lc!r:.100}")
        layer = deserialize_layer(lc)
        name = lc.get("name", layer.name)
        if isinstance(layer, Layer) and isinstance(name, str) and name and layer.name != name:
            layer.name = name  # a get_config without "name" (the serialization guide's CustomLayer)
        created[name] = layer
        nodes = lc.get("inbound_nodes") or []
        pending.append((layer, nodes))
    # Output tensors per (layer name, node index) as they get made.
    tensors = {}
    for name, layer in created.items():
        if isinstance(layer, InputLayer):
            tensors[(name, 0)] = [layer.output_tensor]

    def lookup(ref):
        lname, node_index, tensor_index = ref[0], int(ref[1]), int(ref[2])
        outs = tensors.get((lname, node_index))
        if outs is None:
            return None
        return outs[tensor_index]

    def resolve_args(a):
        if isinstance(a, dict) and a.get("class_name") == "__keras_tensor__":
            return lookup(a["config"]["keras_history"])
        if isinstance(a, list) and len(a) >= 3 and isinstance(a[0], str) and isinstance(a[1], int):
            return lookup(a)  # Keras 2 [name, node, tensor, kwargs]
        if isinstance(a, list):
            return [resolve_args(x) for x in a]
        return a

    def node_inputs(node):
        if isinstance(node, dict):  # Keras 3
            args = node.get("args", [])
            kwargs = node.get("kwargs", {}) or {}
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise ConfigError(f"Unreadable inbound node: {node!r:.100}")
            inputs = resolve_args(args[0]) if args else None
            return inputs, kwargs
        if isinstance(node, list):  # Keras 2: [[name, node, tensor, kwargs], ...]
            ins = [resolve_args(r) for r in node]
            kwargs = node[0][3] if node and len(node[0]) > 3 and isinstance(node[0][3], dict) else {}
            return (ins[0] if len(ins) == 1 else ins), kwargs
        raise ConfigError(f"Unreadable inbound node: {node!r:.100}")

    # A worklist, linear in the number of layers whatever their order in the file: a call whose input
    # tensor is not made yet waits on that tensor's (layer, node) key and is woken when it is made.
    done = [0] * len(pending)
    waiting = {}
    queue = collections.deque(range(len(pending)))

    def made(key):
        queue.extend(waiting.pop(key, ()))

    finished = 0
    while queue:
        i = queue.popleft()
        layer, nodes = pending[i]
        name = layer.name
        while done[i] < len(nodes):
            idx = done[i]
            blocker = next((k for k in _tensor_refs(nodes[idx]) if k not in tensors), None)
            if blocker is not None:
                waiting.setdefault(blocker, []).append(i)
                break
            if isinstance(layer, _SavedOp):
                node = nodes[idx]
                if not isinstance(node, dict) or not isinstance(node.get("args", []), list) \
                        or not isinstance(node.get("kwargs") or {}, dict):
                    raise ConfigError(f"Unreadable inbound node of operation {name!r}: {node!r:.100}")
                args = resolve_args(node.get("args", []))
                kwargs = {k: resolve_args(v) for k, v in (node.get("kwargs") or {}).items()}
                if any(t is None for t in flatten([args, list(kwargs.values())])):
                    break
                try:
                    out = layer.fn(*args, **kwargs, **layer.extra)
                except (TypeError, ValueError) as e:
                    raise ConfigError(f"Cannot rebuild the operation {name!r}: {e}") from None
                for t in flatten(out):
                    if isinstance(t, KerasTensor) and t.keras_history is not None:
                        t.keras_history.operation.name = name  # the file's name, as in Keras
                tensors[(name, idx)] = flatten(out)
                done[i] += 1
                made((name, idx))
                continue
            if not type(layer).__module__.startswith("engine.") and isinstance(nodes[idx], dict) and (
                    len(nodes[idx].get("args") or []) > 1 or any(
                        _has_tensor_ref(v) for v in (nodes[idx].get("kwargs") or {}).values())):
                # The user's own layer called on several tensors (layer(targets, logits)): call it so again.
                node = nodes[idx]
                if not isinstance(node.get("args"), list) or not isinstance(node.get("kwargs") or {}, dict):
                    raise ConfigError(f"Unreadable inbound node of layer {name!r}: {node!r:.100}")
                raw = list(node["args"]) + list((node.get("kwargs") or {}).values())
                args = [resolve_args(a) for a in node["args"]]
                kwargs = {k: resolve_args(v) for k, v in (node.get("kwargs") or {}).items()}
                if any(_has_tensor_ref(r) and any(t is None for t in flatten(v))
                       for r, v in zip(raw, args + list(kwargs.values()))):
                    break
                out = layer(*args, **kwargs)
                tensors[(name, idx)] = flatten(out)
                done[i] += 1
                made((name, idx))
                continue
            inputs, kwargs = node_inputs(nodes[idx])
            spread = getattr(layer, "positional_inputs", None)  # (an operation from the file has none)
            if spread and isinstance(nodes[idx], dict):
                # Gather call(query, value, key=...) back into the one list the layer records.
                raw_kwargs = dict(kwargs)
                inputs = [resolve_args(a) for a in nodes[idx].get("args", [])]
                for kw in spread[len(inputs):]:
                    if kw in raw_kwargs:
                        inputs.append(resolve_args(raw_kwargs.pop(kw)))
                kwargs = raw_kwargs
            kwargs = _call_kwargs(layer, kwargs)
            if inputs is None or any(t is None for t in flatten(inputs)):
                break
            out = layer(inputs, **kwargs)
            node_index = len(layer.inbound_nodes) - 1
            tensors[(name, node_index if not isinstance(layer, InputLayer) else idx)] = flatten(out)
            tensors[(name, idx)] = flatten(out)
            done[i] += 1
            made((name, idx))
            made((name, node_index))
        if done[i] == len(nodes):
            finished += 1
            report("Building layers", finished, len(pending))
    missing = [l.name for i, (l, nodes) in enumerate(pending) if done[i] < len(nodes)]
    if missing:
        raise ConfigError(f"The model config's graph is broken: layers {missing} have inputs that no layer makes.")

    def refs(r):
        if r and isinstance(r[0], str):
            r = [r]
            single = True
        else:
            single = False
        ts = []
        for ref in r:
            t = lookup(ref)
            if t is None:
                raise ConfigError(f"The model config names an input/output {ref!r} that does not exist.")
            ts.append(t)
        return ts[0] if single else ts

    inputs = refs(cfg.get("input_layers") or [])
    outputs = refs(cfg.get("output_layers") or [])
    return Functional(inputs, outputs, name=cfg.get("name"))


def _tensor_refs(node):
    """The (layer name, node index) keys of the tensors an inbound node reads, found without recursion."""
    keys, todo = [], [node]
    while todo:
        a = todo.pop()
        if isinstance(a, dict):
            if a.get("class_name") == "__keras_tensor__":
                hist = (a.get("config") or {}).get("keras_history") if isinstance(a.get("config"), dict) else None
                if isinstance(hist, list) and len(hist) >= 2 and isinstance(hist[0], str):
                    try:
                        keys.append((hist[0], int(hist[1])))
                    except (TypeError, ValueError, OverflowError):
                        pass  # resolving the reference reports it
                continue
            todo.extend(a.values())
        elif isinstance(a, list):
            if len(a) >= 3 and isinstance(a[0], str) and isinstance(a[1], int):
                keys.append((a[0], a[1]))  # Keras 2 [name, node, tensor, kwargs]
                continue
            todo.extend(a)
    return keys


def _has_tensor_ref(value):
    """Whether a node argument of a config refers to a tensor (Keras 3's ``__keras_tensor__`` dicts)."""
    if isinstance(value, dict):
        return value.get("class_name") == "__keras_tensor__"
    if isinstance(value, list):
        return any(_has_tensor_ref(v) for v in value)
    return False


def _call_kwargs(layer, kwargs):
    """The keyword arguments of a saved call that the layer's ``call`` takes.

    Keras writes ``training`` and ``mask`` into every node; the model passes ``training`` itself at run
    time, and a ``mask`` of None (or any value given to a layer whose ``call`` has no such argument)
    means nothing. Tensor-valued kwargs (dicts/lists) cannot be restored and are dropped.
    """
    if not kwargs:
        return {}
    params = inspect.signature(type(layer).call).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    out = {}
    for k, v in kwargs.items():
        if k == "training" or isinstance(v, (dict, list)) or (k == "mask" and v is None):
            continue
        if k in params or takes_any:
            out[k] = v
    return out


# Keras configs nest about a dozen levels (model, layers, wrapped layer, initializer...); nested models
# add a few each. Anything far deeper is an attack on the parser's recursion, refused before parsing.
MAX_JSON_DEPTH = 200
MAX_JSON_BYTES = 64 * 1024 * 1024


def json_depth(obj):
    """The nesting depth of a parsed JSON value (a scalar is 0), computed without recursion: one level of
    lists and dicts at a time, each value looked at once (a stack of every value took 3.5 times as long:
    24 ms for NASNetLarge's config)."""
    depth, level = 0, [obj]
    while True:
        level = [v for v in level if isinstance(v, (dict, list))]
        if not level:
            return depth
        depth += 1
        inner = []
        for value in level:
            inner.extend(value.values() if isinstance(value, dict) else value)
        level = inner


def loads_config(text, what="model config"):
    """Parse a JSON config, refusing oversized or absurdly nested documents with ``ConfigError``."""
    if isinstance(text, (bytes, bytearray, np.bytes_)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as e:
            raise ConfigError(f"The {what} is not UTF-8 text: {e}") from None
    if not isinstance(text, str):
        raise ConfigError(f"The {what} must be a JSON string. Received: {type(text).__name__}")
    if len(text) > MAX_JSON_BYTES:
        raise ConfigError(f"The {what} is {len(text)} characters long, over the limit of {MAX_JSON_BYTES}.")
    try:
        # The C decoder counts its own recursion: a deeply nested document fails fast here.
        config = json.loads(text)
    except RecursionError:
        raise ConfigError(f"The {what} nests too deeply to be a Keras config; it is refused.") from None
    except ValueError as e:
        raise ConfigError(f"The {what} is not valid JSON: {e}") from None
    depth = json_depth(config)
    if depth > MAX_JSON_DEPTH:
        raise ConfigError(f"The {what} nests {depth} levels deep, over the limit of {MAX_JSON_DEPTH}: "
                          "no Keras model needs that, so it is refused.")
    return config


def model_from_json(json_string, custom_objects=None):
    """Build a model from ``model.to_json()`` output (Keras 3 or Keras 2 JSON)."""
    return model_from_config(loads_config(json_string), custom_objects=custom_objects)
