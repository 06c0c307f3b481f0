"""The document as Keras-style Python using ``engine``: what the code dock shows and "Export code" writes.

A chain from one Input becomes a ``Sequential`` list, anything else functional code with one variable
per layer. Only arguments that differ from the layer's Keras defaults are written, required ones
positionally, as a person would write them; a name is written when Keras would not give the same one
automatically. Run in a fresh session the code builds the model ``document_to_model`` builds.
"""
from __future__ import annotations

import builtins
import functools
import inspect
import json

from visualkeras_app.document.graph import accepts_many_inputs
from visualkeras_app.document.pysource import as_identifier, doc_text, identifier, is_identifier, literal

_LINE = 100
# Engine modules holding the classes a config dict may name, by Keras module.
_OBJECT_MODULES = {"keras.initializers": "initializers", "keras.regularizers": "regularizers",
                   "keras.constraints": "constraints"}
_RESERVED = {"engine", "layers", "model", "np"} | set(dir(builtins))


def _py(value):
    """A Python literal for a JSON-shaped config value (lists become tuples, as Keras code writes them);
    an initializer/regularizer/constraint dict as the engine call that makes it. Only plain values are
    written (``pysource.literal``), so no text from a file becomes code."""
    if isinstance(value, dict):
        obj = _object_expr(value)
        if obj is not None:
            return obj
        return "{" + ", ".join(f"{literal(k)}: {_py(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        items = [_py(v) for v in value]
        return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    return literal(value)


def _kwargs(items):
    """``key=value`` for each pair; keys that are not identifiers go in one ``**{...}`` (as data)."""
    out = [f"{k}={_py(v)}" for k, v in items if is_identifier(k)]
    odd = [(k, v) for k, v in items if not is_identifier(k)]
    if odd:
        out.append("**{" + ", ".join(f"{literal(str(k))}: {_py(v)}" for k, v in odd) + "}")
    return out


def _object_expr(value):
    """``"he_normal"`` for a default initializer dict, ``engine.initializers.HeNormal(seed=1)`` otherwise."""
    module = _OBJECT_MODULES.get(value.get("module"))
    cls_name = value.get("class_name")
    if module is None or not isinstance(cls_name, str):
        return None
    import importlib

    from engine import backend

    mod = importlib.import_module(f"engine.{module}")
    # Only the family's own classes: a name from a file never picks an arbitrary module attribute.
    cls = mod.class_named(cls_name)
    config = value.get("config") or {}
    if cls is None or not is_identifier(cls_name) or not isinstance(config, dict):
        return None
    short = backend.to_snake_case(cls_name)
    try:
        if cls().get_config() == config and type(mod.get(short)) is cls:
            return json.dumps(short)
    except Exception:  # a class without defaults is written out in full
        pass
    return f"engine.{module}.{cls_name}({', '.join(_kwargs(list(config.items())))})"


class _Namer:
    """Keras's automatic layer names in a fresh session, to leave out names it would give anyway."""

    def __init__(self):
        self.counts = {}

    def needs_name(self, class_name, name):
        prefix = _snake_case(class_name)
        n = self.counts.get(prefix, 0)
        auto = prefix if n == 0 else f"{prefix}_{n}"
        if auto == name:
            self.counts[prefix] = n + 1
            return False
        return True


@functools.lru_cache(maxsize=512)
def _snake_case(class_name):
    from engine import backend

    return backend.to_snake_case(class_name)


@functools.lru_cache(maxsize=512)
def _signature(cls):
    params = inspect.signature(cls.__init__).parameters
    names = [p for p, v in params.items() if p != "self" and v.kind not in (v.VAR_KEYWORD, v.VAR_POSITIONAL)]
    required = [p for p in names if params[p].default is inspect.Parameter.empty]
    return names, required


_DEFAULTS_CACHE: dict = {}  # (class name, the arguments as JSON) -> the layer's full config, for many alike layers


def _keras_defaults(class_name, config, required):
    from visualkeras_app.document.defaults import build_layer, clean_config

    kwargs = {k: config[k] for k in required if k in config}
    try:
        key = (class_name, json.dumps(kwargs, sort_keys=True))
    except (TypeError, ValueError):
        key = None
    if key is not None and key in _DEFAULTS_CACHE:
        return dict(_DEFAULTS_CACHE[key])
    try:
        defaults = clean_config(build_layer(class_name, kwargs).get_config())
    except Exception:  # then every key counts as set
        defaults = {}
    if key is not None:
        if len(_DEFAULTS_CACHE) >= 4096:
            _DEFAULTS_CACHE.clear()
        _DEFAULTS_CACHE[key] = defaults
    return dict(defaults)


def layer_expr(class_name, config, name, namer, indent="    ", extra=0):
    """``layers.Conv2D(32, (3, 3), activation="relu")`` for one layer config; split over lines (under
    ``indent``) when it would not fit, counting ``extra`` characters around it on its line."""
    from engine.layers import registry

    if not registry.is_registered(class_name):
        # The code dock must show something for every node; the problems comment says what is wrong.
        return f"layers.{as_identifier(class_name)}(name={_py(name)})"
    cls = registry.get_class(class_name)
    names, required = _signature(cls)
    if class_name in ("Bidirectional", "TimeDistributed"):
        args = [_wrapped_expr(config.get("layer"), namer, "forward_" if class_name == "Bidirectional" else "")]
        kwargs = []
        if class_name == "Bidirectional":
            if config.get("merge_mode", "concat") != "concat":
                kwargs.append(f"merge_mode={_py(config.get('merge_mode'))}")
            if not _default_backward(config.get("layer"), config.get("backward_layer")):
                kwargs.append(f"backward_layer={_wrapped_expr(config.get('backward_layer'), namer, 'backward_')}")
    else:
        args, kwargs = _arguments(class_name, config, names, required)
    if name is not None and namer.needs_name(class_name, name):
        kwargs.append(f"name={_py(name)}")
    parts = args + kwargs
    class_name = identifier(class_name)
    one = f"layers.{class_name}(" + ", ".join(parts) + ")"
    if len(one) + len(indent) + extra <= _LINE:
        return one
    inner = indent + "    "
    return f"layers.{class_name}(\n" + "".join(f"{inner}{p},\n" for p in parts) + f"{indent})"


# (class name, the config as JSON) -> (positional, keyword) argument texts: a model of many alike layers (a
# 20,000-layer chain) works each distinct config out once.
_ARGUMENTS_CACHE: dict = {}


def _arguments(class_name, config, names, required):
    """The argument texts of a layer call (all but ``name``): required ones positionally, then those that
    differ from Keras's defaults."""
    try:
        key = (class_name, json.dumps(config, sort_keys=True))
    except (TypeError, ValueError):
        key = None
    if key is not None and key in _ARGUMENTS_CACHE:
        args, kwargs = _ARGUMENTS_CACHE[key]
        return list(args), list(kwargs)
    defaults = _keras_defaults(class_name, config, required)
    # A default can depend on another argument (pooling's strides default to pool_size): take the
    # defaults again from a layer built with the arguments that will be written.
    written = {k: v for k, v in config.items() if k in required or (k in names and defaults.get(k, v) != v)}
    implied = _keras_defaults(class_name, written, list(written))
    defaults = {k: v for k, v in defaults.items() if k not in implied or implied[k] == v or k in written}
    args = [_py(config[k]) for k in required if k in config]
    items = []
    for key_, value in config.items():
        if key_ in required or key_ == "name" or (key_ not in names and key_ not in ("trainable", "dtype")):
            continue
        if key_ in defaults and defaults[key_] == value:
            continue
        if key_ == "dtype" and isinstance(value, dict):
            dname = (value.get("config") or {}).get("name", "float32")
            if dname != "float32":
                items.append(("dtype", dname))
            continue
        items.append((key_, value))
    kwargs = _kwargs(items)
    if key is not None:
        if len(_ARGUMENTS_CACHE) >= 4096:
            _ARGUMENTS_CACHE.clear()
        _ARGUMENTS_CACHE[key] = (tuple(args), tuple(kwargs))
    return args, kwargs


def _wrapped_expr(spec, namer, prefix):
    if not isinstance(spec, dict) or "class_name" not in spec:
        return "None"
    cfg = dict(spec.get("config") or {})
    name = cfg.pop("name", None)
    if isinstance(name, str) and prefix and name.startswith(prefix):
        name = name[len(prefix):]  # the wrapper adds the prefix back
    return layer_expr(spec["class_name"], cfg, name, namer, indent="        ")


def _default_backward(forward, backward):
    if backward is None:
        return True
    if not isinstance(forward, dict) or not isinstance(backward, dict):
        return False
    f, b = dict(forward.get("config") or {}), dict(backward.get("config") or {})
    fname, bname = f.pop("name", ""), b.pop("name", "")
    fgo, bgo = f.pop("go_backwards", False), b.pop("go_backwards", False)
    base = fname[len("forward_"):] if fname.startswith("forward_") else fname
    return (forward.get("class_name") == backward.get("class_name") and f == b and bgo == (not fgo)
            and bname == f"backward_{base}")


def _input_expr(config, name, namer):
    shape = list(config.get("batch_shape") or [None])
    args = [f"shape={_py(shape[1:])}"]
    if shape and shape[0] is not None:
        args.append(f"batch_size={_py(shape[0])}")
    dtype = config.get("dtype", "float32")
    if isinstance(dtype, dict):
        dtype = (dtype.get("config") or {}).get("name", "float32")
    if dtype not in (None, "float32"):
        args.append(f"dtype={_py(dtype)}")
    if namer.needs_name("InputLayer", name):
        args.append(f"name={_py(name)}")
    return "engine.Input(" + ", ".join(args) + ")"


def _var_names(doc):
    out, taken = {}, set()
    for nid, node in doc.nodes.items():
        base = as_identifier(node.name, _RESERVED)
        var, i = base, 1
        while var in taken:
            var, i = f"{base}_{i}", i + 1
        taken.add(var)
        out[nid] = var
    return out


def generate_code(doc) -> str:
    """Runnable Python for ``doc`` (with a comment listing the problems when the graph has some)."""
    return "\n".join(iter_code(doc))


def iter_code(doc, result=None):
    """``generate_code``'s lines one at a time, so that a big model's code can be made in slices (the
    Code dock does) while the window keeps answering. ``result``: the document's inference result when the
    caller knows it is current (``doc.result`` after an edit: inference runs on every one), instead of
    inferring again (0.4 s at 20,000 layers)."""
    if not doc.nodes:
        yield from ("# An empty model: drag an Input and some layers onto the canvas.", "import engine",
                    "from engine import layers", "")
        return
    from visualkeras_app.document.convert import chain_order
    from visualkeras_app.document.inference import infer

    if result is None:
        result = infer(doc)
    if result.errors:
        yield "# The graph has problems; this code will not run until they are fixed:"
        for p in result.errors:
            for line in p.message.splitlines()[:1]:
                yield f"#  - {doc_text(line, quotes=False)}"
        yield ""
    yield from ("import engine", "from engine import layers", "")
    namer = _Namer()
    chain = chain_order(doc, result) if result.ok else None
    if chain is not None:
        yield "model = engine.Sequential("
        yield "    ["
        for nid in chain:
            node = doc.nodes[nid]
            if node.is_input:
                expr = _input_expr(node.config, node.name, namer)
            else:
                expr = layer_expr(node.class_name, node.config, node.name, namer, indent="        ")
            yield f"        {expr},"
        yield "    ]"
        yield ")"
    else:
        yield from _functional_lines(doc, result, namer)
    yield from ("model.summary()", "")


def _functional_lines(doc, result, namer):
    from visualkeras_app.document.convert import output_nodes

    var = _var_names(doc)
    incoming = {nid: [] for nid in doc.nodes}
    for e in doc.edges:
        incoming[e.dst].append(e)
    ordered = set(result.order)
    order = list(result.order) + [nid for nid in doc.nodes if nid not in ordered]
    for nid in order:
        node = doc.nodes[nid]
        if node.is_input:
            yield f"{var[nid]} = {_input_expr(node.config, node.name, namer)}"
            continue
        ins = sorted(incoming[nid], key=lambda e: e.dst_port)
        refs = [_ref(var[e.src], result.shapes.get(e.src), e.src_port) for e in ins]
        around = len(var[nid]) + 3 + sum(len(r) + 2 for r in refs) + 2
        expr = layer_expr(node.class_name, node.config, node.name, namer, indent="", extra=around)
        if not refs:
            yield f"{var[nid]} = {expr}  # not connected yet"
        elif accepts_many_inputs(node.class_name):
            yield f"{var[nid]} = {expr}([{', '.join(refs)}])"
        else:
            yield f"{var[nid]} = {expr}({refs[0]})"
    ins = [var[nid] for nid, n in doc.nodes.items() if n.is_input]
    outs = []
    for nid in output_nodes(doc):
        shape = result.shapes.get(nid)
        if isinstance(shape, list):
            outs += [f"{var[nid]}[{i}]" for i in range(len(shape))]
        else:
            outs.append(var[nid])
    yield ""
    yield f"model = engine.Model(inputs={_listing(ins)}, outputs={_listing(outs)})"


def _ref(name, shape, port):
    return f"{name}[{port}]" if isinstance(shape, list) or port else name


def _listing(names):
    if len(names) == 1:
        return names[0]
    return "[" + ", ".join(names) + "]"
