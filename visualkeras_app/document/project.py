"""Project files, opening model files, and the crash-recovery file.

A project (``*.vkproj``) is JSON::

    {"format": "visualkeras-project", "version": 1,
     "model": <the Keras 3 model config (engine.saving.serialize_model), or null when the graph has
               problems and cannot compile>,
     "graph": <only when "model" is null: {"layers": [{name, class_name, config}], "edges": [...]}>,
     "nodes": [{"id", "name", "pos": [x, y]}, ...],   # document order, ids and positions
     "edges": [[src_name, dst_name, dst_port, src_port], ...],   # document order
     "training": {...},
     "runs": [<training runs: settings, per-epoch logs, per-batch curves, test results; see
              visualkeras_app.training.run_store>]   # absent in older projects
     "weights": "<stem>.weights.<8 hex>.h5" or null,   # older projects: "<stem>.weights.h5"
     "weights_sha256": the weights file's SHA-256 (absent in older projects)}

Trained weights go to an HDF5 file beside the project (``/layers/<i>`` groups with a ``name``
attribute and datasets ``0``, ``1``... in the layer's weight order). A save writes the weights to a
new file first, then replaces the project file (naming the new weights file and its hash) in one
rename, then deletes the old weights: the pair is saved as one unit, and a kill mid-save leaves the
previous pair intact. A weights file that does not match the hash is refused.
"""
from __future__ import annotations

import json
import math
import os
import re
import secrets
import time

from visualkeras_app.document.graph import Document, Edge, GraphError, LayerNode

FORMAT = "visualkeras-project"
VERSION = 1
EXTENSION = ".vkproj"
_WEIGHTS_FORMAT = "visualkeras-weights"
_MAX_BYTES = 64 * 1024 * 1024
_MAX_WEIGHT_BYTES = 8 << 30  # 2**31 float32 weights, the model loader's budget
_MAX_COORD = 1e7  # canvas coordinates beyond this are no layout a person made
STALE_TEMP_S = 600  # a temporary of this project older than this was left by a killed save
_STALE_TEMP_S = STALE_TEMP_S


class ProjectError(ValueError):
    """A file that cannot be saved or opened; the message names the file and the problem. The only
    error ``load_project`` and ``open_any`` raise, whatever the file holds."""


# What a hostile or broken file can make the readers raise; each becomes a ProjectError naming the file
# (a deeply nested or absurd file must give a message, never a traceback).
READ_ERRORS = (ValueError, TypeError, LookupError, ArithmeticError, RuntimeError, AttributeError, OSError,
               MemoryError, GraphError)


def _cause(e):
    if isinstance(e, RecursionError):
        return "it nests too deeply to be read"
    if isinstance(e, MemoryError):
        return "it needs more memory than this machine has"
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    text = str(e)
    if text and not isinstance(e, (LookupError, AttributeError)):
        return text
    return f"it is malformed ({type(e).__name__}: {text})"


# ------------------------------------------------------------------------------------------ helpers
def weights_path_for(path) -> str:
    stem, _ = os.path.splitext(path)
    return stem + ".weights.h5"


def _atomic_write(path, write):
    """Write through ``write(tmp_path)`` to a temporary file beside ``path``, then replace ``path``."""
    from engine.utils.file_utils import atomic_write

    atomic_write(path, write)


def _graph_payload(doc):
    return {"layers": [{"name": n.name, "class_name": n.class_name, "config": n.config} for n in doc.nodes.values()]}


def _project_dict(doc, weights_name):
    from visualkeras_app.document.convert import document_to_model
    from visualkeras_app.document.inference import infer

    result = infer(doc)
    data = {"format": FORMAT, "version": VERSION, "model": None}
    if doc.nodes and result.ok:
        from engine.saving import serialize_model

        from visualkeras_app.document.convert import chain_order

        # A fixed model name: Keras's automatic ones count up per process and would churn the file.
        name = "sequential" if chain_order(doc, result) is not None else "functional"
        data["model"] = serialize_model(document_to_model(doc, name=name, config_only=True))
    else:
        data["graph"] = _graph_payload(doc)
    names = {nid: n.name for nid, n in doc.nodes.items()}
    data["nodes"] = [{"id": nid, "name": n.name, "pos": [float(n.pos[0]), float(n.pos[1])]}
                     for nid, n in doc.nodes.items()]
    data["edges"] = [[names[e.src], names[e.dst], e.dst_port, e.src_port] for e in doc.edges]
    data["training"] = doc.training or {}
    if getattr(doc, "runs", None):
        from visualkeras_app.training.run_store import runs_to_data

        data["runs"] = runs_to_data(doc.runs)
    data["weights"] = weights_name
    return data


def _write_weights(doc, path):
    import h5py
    import numpy as np

    def write(tmp):
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = _WEIGHTS_FORMAT
            f.attrs["version"] = VERSION
            group = f.create_group("layers")
            i = 0
            for node in doc.nodes.values():
                if node.weights is None:
                    continue
                g = group.create_group(str(i))
                g.attrs["name"] = node.name
                for j, w in enumerate(node.weights):
                    g.create_dataset(str(j), data=np.asarray(w))
                i += 1

    _atomic_write(path, write)


def _read_weights(path):
    """``{layer name: [arrays]}`` from a project's weights file, through the model loader's guards
    (``engine.saving.h5_format``): regular file, HDF5 structure checked, no soft or external links, no
    external or virtual datasets, numbers only, standard filters, decompression bombs and a total over
    ``_MAX_WEIGHT_BYTES`` refused before anything is read."""
    from engine.saving import h5_format

    out = {}
    total = 0
    with h5_format.open_h5(path) as f:
        if h5_format.read_str_attr(f, "format") != _WEIGHTS_FORMAT:
            raise ValueError("it is not a visualkeras weights file")
        if not h5_format.has_entry(f, "layers"):
            raise ValueError("it has no 'layers' group")
        layers = h5_format.get_group(f, "layers")
        for key in list(layers):
            g = h5_format.get_group(layers, key)
            name = h5_format.read_str_attr(g, "name")
            if name is None:
                raise ValueError(f"entry {key!r} has no layer name")
            arrays = []
            for j in range(len(g)):
                ds = g.get(str(j), getlink=True)
                if ds is None:
                    raise ValueError(f"weight {j} of layer {name!r} is missing")
                arrays.append(h5_format.read_dataset(g, str(j), max_bytes=_MAX_WEIGHT_BYTES - total))
                total += arrays[-1].nbytes
            out[name] = arrays
    return out


# --------------------------------------------------------------------------------------------- save
def save_project(doc, path):
    """Write ``doc`` to ``path`` (and its weights beside it when any node has some), atomically."""
    _save(doc, path)


def _save(doc, path, extra=None):
    """The project and its weights as one unit: the weights go to a new file (a fresh name), then the
    project file, naming that file and its SHA-256, replaces the old one in one rename; only then is
    the previous weights file deleted. A kill at any moment leaves the old pair or the new pair."""
    from engine.utils.file_utils import atomic_write_text

    path = os.path.abspath(os.fspath(path))
    try:
        previous = _referenced_weights(path)
        has_weights = any(n.weights is not None for n in doc.nodes.values())
        name = digest = None
        if has_weights:
            while True:  # a fresh name: never the file the project names now
                name = f"{_stem(path)}.weights.{secrets.token_hex(4)}.h5"
                wpath = os.path.join(os.path.dirname(path), name)
                if name != previous and not os.path.lexists(wpath):
                    break
            _write_weights(doc, wpath)
            digest = _sha256(wpath)
        data = _project_dict(doc, name)
        if digest:
            data["weights_sha256"] = digest
        if extra:
            data.update(extra)
        text = json.dumps(data, indent=1)
        try:
            atomic_write_text(path, text)
        except BaseException:
            if name:
                _remove(wpath)
            raise
    except ProjectError:
        raise
    except (OSError, ValueError, TypeError) as e:
        raise ProjectError(f"Cannot save {path}: {e}") from None
    _remove_old_weights(path, keep=name, previous=previous)


def _stem(path):
    return os.path.splitext(os.path.basename(path))[0]


def _sha256(path):
    from engine.utils.file_utils import sha256_file  # the engine's one hasher; imported when a project is saved

    return sha256_file(path)


def _referenced_weights(path):
    """The weights file name the project at ``path`` names now (None if none or unreadable)."""
    from engine.utils.file_utils import read_regular

    try:
        name = json.loads(read_regular(path, _MAX_BYTES)).get("weights")
    except (OSError, ValueError, AttributeError, RecursionError):
        return None
    return name if isinstance(name, str) and os.path.basename(name) == name else None


def _remove_old_weights(path, keep, previous):
    """Delete the weights file the project named before this save, weights files of killed saves (this
    naming scheme only: ``<stem>.weights.<8 hex>.h5``, never ``keep``), and the temporaries killed
    saves of this project left (older than ``_STALE_TEMP_S``: a save running now keeps its own)."""
    folder = os.path.dirname(path)
    ours, temps = _leftover_patterns(path)
    listing = _listdir(folder)
    names = {n for n in listing if ours.match(n)}
    if previous and (previous == os.path.basename(weights_path_for(path)) or ours.match(previous)):
        names.add(previous)
    now = time.time()
    for n in listing:
        if temps.match(n):
            try:
                if now - os.lstat(os.path.join(folder, n)).st_mtime > _STALE_TEMP_S:
                    names.add(n)
            except OSError:
                pass
    for n in names - {keep}:
        _remove(os.path.join(folder, n))


def _leftover_patterns(path):
    """The names this project's saves give their weights files and their temporaries (regexes)."""
    stem = _stem(path)
    ours = re.compile(re.escape(stem) + r"\.weights\.[0-9a-f]{8}\.h5\Z")
    temps = re.compile(r"\.(" + re.escape(os.path.basename(path)) + "|" + re.escape(stem)
                       + r"\.weights\.[0-9a-f]{8}\.h5)\.\w+\.tmp\Z")
    return ours, temps


def _listdir(folder):
    try:
        return os.listdir(folder)
    except OSError:
        return []


# --------------------------------------------------------------------------------------------- load
def _read_json(path):
    from engine.saving.serialization import loads_config

    from engine.utils.file_utils import read_regular

    try:
        raw = read_regular(path, _MAX_BYTES)  # regular files only: a FIFO named x.json would hang
    except OSError as e:
        raise ProjectError(f"Cannot open {path}: {e.strerror or e}.") from None
    try:
        return loads_config(raw, what="file")
    except ValueError as e:
        raise ProjectError(f"Cannot open {path}: {e}") from None


def load_project(path) -> Document:
    """The document saved in project file ``path``; ``ProjectError`` naming the file and problem."""
    return _load(path)[0]


def _load(path):
    data = _read_json(path)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ProjectError(f"Cannot open {path}: it is not a visualkeras project file.")
    version = data.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise ProjectError(f"Cannot open {path}: it was written by a newer visualkeras-app (project version "
                           f"{version!r}; this one reads version {VERSION}). Update the app to open it.")
    try:
        doc = check_document(_document_from_data(data))
        weights_name = data.get("weights")
        if weights_name:
            if not isinstance(weights_name, str) or os.path.basename(weights_name) != weights_name:
                raise ValueError(f"the weights file name {weights_name!r} is not a plain file name")
            wpath = os.path.join(os.path.dirname(os.path.abspath(path)), weights_name)
            if not os.path.isfile(wpath):
                raise ValueError(f"its weights file {weights_name} is missing; keep it in the same folder as "
                                 "the project")
            digest = data.get("weights_sha256")
            if digest is not None and digest != _sha256(wpath):
                raise ValueError(f"its weights file {weights_name} is not the one saved with it (its SHA-256 "
                                 "differs): it was changed or replaced after the project was saved")
            try:
                weights = _read_weights(wpath)
            except READ_ERRORS as e:
                raise ValueError(f"its weights file {weights_name} cannot be read: {_cause(e)}") from None
            by_name = {n.name: n for n in doc.nodes.values()}
            for name, arrays in weights.items():
                if name in by_name:
                    by_name[name].weights = arrays
        training = data.get("training") or {}
        if not isinstance(training, dict):
            raise ValueError("its 'training' entry is not an object")
        from visualkeras_app.training.settings import TrainSettings

        TrainSettings.from_dict(training)  # a ValueError naming a bad setting (e.g. seed: Infinity)
        doc.training = training
        from visualkeras_app.training.run_store import runs_from_data

        doc.runs = runs_from_data(data.get("runs"))  # older projects have none; every value is checked
        doc.infer()
    except ProjectError:
        raise
    except READ_ERRORS as e:
        raise ProjectError(f"Cannot open {path}: {_cause(e)}") from None
    return doc, data


def check_document(doc):
    """Refuse (``ValueError`` naming the layer) a document whose layer configs are not ones their classes
    take, or whose positions are not finite numbers: what a file gives is checked before code is
    generated from it or geometry computed with it."""
    from visualkeras_app.document.config_check import check_layer_config

    for node in doc.nodes.values():
        if not isinstance(node.name, str) or not node.name:
            raise ValueError(f"a layer name is not text: {node.name!r:.80}")
        check_layer_config(node.class_name, node.config, node.name)
    return doc


def _check_model_config(config):
    """The raw layer configs of a model config, checked as ``check_document`` checks a document's: the
    engine's loaders drop some keys they do not know, which must not hide a crafted one."""
    from visualkeras_app.document.config_check import check_layer_config

    layers = config.get("config", {}).get("layers") if isinstance(config, dict) and isinstance(
        config.get("config"), dict) else None
    if not isinstance(layers, list):
        return
    for spec in layers:
        if isinstance(spec, dict) and isinstance(spec.get("config"), dict):
            check_layer_config(spec.get("class_name"), spec["config"], spec["config"].get("name"))


def _document_from_data(data):
    from visualkeras_app.document.convert import model_to_document, release_model

    if data.get("model") is not None:
        from engine.saving import model_from_config

        _check_model_config(data["model"])
        base = _fast_sequential(data["model"])
        if base is None:
            from engine.layers.layer import shapes_only

            with shapes_only():  # the weights come from the project's weights file: none drawn here
                model = model_from_config(data["model"])
            base = model_to_document(model, with_weights=False)
            release_model(model)
        layers = [(n.name, n.class_name, n.config) for n in base.nodes.values()]
    else:
        graph = data.get("graph")
        if not isinstance(graph, dict) or not isinstance(graph.get("layers"), list):
            raise ValueError("it has neither a model config nor a graph")
        layers = []
        for spec in graph["layers"]:
            if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) \
                    or not isinstance(spec.get("class_name"), str) or not isinstance(spec.get("config"), dict):
                raise ValueError(f"a layer entry is malformed: {spec!r:.120}")
            layers.append((spec["name"], spec["class_name"], spec["config"]))
        base = None
    nodes_meta = data.get("nodes") or []
    edges = data.get("edges") or []
    if not isinstance(nodes_meta, list) or not isinstance(edges, list):
        raise ValueError("its 'nodes' and 'edges' entries must be lists")
    info = {}
    for m in nodes_meta:
        if isinstance(m, dict) and isinstance(m.get("name"), str):
            if m.get("pos") is not None and not _valid_pos(m["pos"]):
                # NaN or huge coordinates break the canvas's geometry (Fit to View crashed on NaN).
                raise ValueError(f"the position of layer {m['name']!r:.80} is {m['pos']!r:.80}; a position is two "
                                 f"finite numbers within +-{_MAX_COORD:g}")
            info[m["name"]] = m
    layer_by_name = {name: (cls, cfg) for name, cls, cfg in layers}
    edge_list = []
    for e in edges:
        if not (isinstance(e, list) and len(e) == 4 and all(isinstance(v, str) for v in e[:2])
                and all(isinstance(v, int) and v >= 0 for v in e[2:])):
            raise ValueError(f"an edge entry is malformed: {e!r:.120}")
        edge_list.append(tuple(e))
    if base is not None:
        names = {n.id: n.name for n in base.nodes.values()}
        model_edges = {(names[e.src], names[e.dst], e.dst_port, e.src_port) for e in base.edges}
        consistent = model_edges == set(edge_list) and set(info) == set(layer_by_name)
        if not consistent:
            # Hand-edited or foreign: trust the model's graph, keep the positions that still apply.
            for node in base.nodes.values():
                if node.name in info and _valid_pos(info[node.name].get("pos")):
                    node.pos = tuple(float(v) for v in info[node.name]["pos"])
            return base
    doc = Document()
    with doc.batch():
        order = [m["name"] for m in nodes_meta if isinstance(m, dict) and m.get("name") in layer_by_name]
        order += [name for name in layer_by_name if name not in order]
        ids = {}
        for name in order:
            cls, cfg = layer_by_name[name]
            m = info.get(name, {})
            nid = m.get("id") if isinstance(m.get("id"), str) and m.get("id") not in doc.nodes else doc.new_id()
            pos = tuple(float(v) for v in m["pos"]) if _valid_pos(m.get("pos")) else (0.0, 0.0)
            ids[name] = doc.add_node(LayerNode(nid, cls, name, cfg, pos)).id
        for src, dst, dport, sport in edge_list:
            if src not in ids or dst not in ids:
                raise ValueError(f"an edge names a layer that does not exist: {src!r} -> {dst!r}")
            doc.add_edge(Edge(ids[src], ids[dst], dport, sport))
        if any(not _valid_pos(info.get(name, {}).get("pos")) for name in order):
            from visualkeras_app.document.layout import apply_layout, auto_layout

            apply_layout(doc, auto_layout(doc))
    return doc


def _fast_sequential(config):
    """``fast_open.sequential_document(config)``, or None where it declines or fails (the model is then built
    as usual, which gives a broken file's error in its usual words)."""
    from visualkeras_app.document.fast_open import sequential_document

    try:
        return sequential_document(config)
    except Exception:  # the usual way reads the file again and says what is wrong with it
        return None


def _valid_pos(pos):
    return (isinstance(pos, list) and len(pos) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                    and abs(v) <= _MAX_COORD for v in pos))


# ----------------------------------------------------------------------------------------- open any
def open_any(path, keep_model=False) -> Document:
    """A document from a project file, a Keras model JSON (``model.to_json()``), or a ``.h5``/``.keras``
    model file (weights kept). ``ProjectError`` naming the file and the problem otherwise.

    ``keep_model=True``: the engine model read from a ``.h5``/``.keras`` file stays on the document as
    ``loaded_model`` (``document.prepared.take_model`` hands it on once), so that the window need not
    build it a second time for the draw pad."""
    from visualkeras_app.document.convert import ConversionError, model_to_document, release_model

    if not os.path.exists(path):
        raise ProjectError(f"Cannot open {path}: no such file.")
    if os.path.isdir(path):
        raise ProjectError(f"Cannot open {path}: it is a folder, not a file.")
    ext = os.path.splitext(path)[1].lower()
    try:
        if ext in (".h5", ".hdf5", ".keras"):
            import engine.saving

            load_model = getattr(engine.saving, "load_model", None)
            if load_model is None:
                raise ProjectError(f"Cannot open {path}: this build of the engine cannot read {ext} files yet.")
            model = load_model(path, compile=False)
            # The nodes' weights are views of the model's: it is dropped, or run by the draw pad (never trained).
            doc = check_document(model_to_document(model, with_weights="share"))
            if keep_model:
                doc.loaded_model = model
            else:
                release_model(model)
            return doc
        data = _read_json(path)
        if isinstance(data, dict) and data.get("format") == FORMAT:
            return load_project(path)
        if isinstance(data, dict) and ("class_name" in data or "config" in data):
            from engine.layers.layer import shapes_only
            from engine.saving import model_from_config

            doc = _fast_sequential(data)  # a Sequential config: without building the model, when it can
            if doc is not None:
                return doc  # its configs were checked there, once per distinct config
            with shapes_only():  # a config has no weights to keep: none are drawn or allocated
                model = model_from_config(data)
            doc = model_to_document(model, with_weights=False)
            release_model(model)
            return check_document(doc)
        raise ProjectError(f"Cannot open {path}: it is neither a visualkeras project nor a Keras model file "
                           "(.vkproj, .json, .h5, .keras).")
    except ProjectError:
        raise
    except ConversionError as e:
        raise ProjectError(f"Cannot open {path}: {e}") from None
    except READ_ERRORS as e:
        raise ProjectError(f"Cannot open {path}: {_cause(e)}") from None


# ----------------------------------------------------------------------------------------- recovery
def open_prepared(path):
    """``open_any(path)``, prepared for the window (for a worker thread): its summary rows and code made
    here (:mod:`visualkeras_app.document.prepared`, which the panels read: it must not import this module,
    which imports training's run store)."""
    from visualkeras_app.document.prepared import prepare, prepare_model  # start-up time: it imports torch

    doc = open_any(path, keep_model=True)
    prepare(doc)
    prepare_model(doc)  # trained weights (a project saved after training): the draw pad's model, built here
    return doc


def _cache_dir():
    env = os.environ.get("VISUALKERAS_RECOVERY_DIR")
    if env:
        return env
    if os.name == "nt":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~\\AppData\\Local")
    elif os.uname().sysname == "Darwin":
        base = os.path.expanduser("~/Library/Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "visualkeras-app")


def recovery_dir() -> str:
    """The folder of the autosave files (the user cache dir; ``VISUALKERAS_RECOVERY_DIR`` overrides it)."""
    return _cache_dir()


def recovery_path(slot="recovery") -> str:
    """The autosave file of ``slot`` (each window has its own: visualkeras_app.document.recovery)."""
    return os.path.join(_cache_dir(), slot + EXTENSION)


def write_recovery(doc, source_path=None, slot="recovery"):
    """Autosave ``doc`` to the recovery file, remembering which file it was opened from (if any)."""
    path = recovery_path(slot)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    _save(doc, path, extra={"recovery": {"source_path": None if source_path is None else os.fspath(source_path),
                                          "saved_at": time.time()}})
    return path


def read_recovery(slot="recovery"):
    """``(document, source_path)`` from the recovery file, or None when there is none (or it is unreadable:
    a broken autosave must never keep the app from starting)."""
    path = recovery_path(slot)
    if not os.path.isfile(path):
        return None
    try:
        doc, data = _load(path)
    except ProjectError:
        return None
    info = data.get("recovery") if isinstance(data.get("recovery"), dict) else {}
    source = info.get("source_path")
    return doc, source if isinstance(source, str) else None


def clear_recovery(slot="recovery"):
    """Delete the recovery file (after a clean close or once the user declined to restore it)."""
    path = recovery_path(slot)
    previous = _referenced_weights(path)
    _remove(path)
    _remove_old_weights(path, keep=None, previous=previous)


def leftovers_of(path):
    """Files killed saves of the project at ``path`` may have left beside it: its temporaries and the
    weights files (``<stem>.weights.<8 hex>.h5``) that the project file does not name. Paths, not removed."""
    folder = os.path.dirname(path)
    keep = _referenced_weights(path)
    ours, temps = _leftover_patterns(path)
    return [os.path.join(folder, n) for n in _listdir(folder)
            if (ours.match(n) and n != keep) or temps.match(n)]


def _remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
