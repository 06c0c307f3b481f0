"""Issue 15: no module reads another package's ``_private`` attribute. The app reaches the engine only
through its public API: no ``obj._name`` read (or ``getattr(obj, "_name")``) of a private name the engine
defines, and no ``from engine... import _name``. A name the app also defines itself is the app's own
attribute (``self._step`` of its session) and is not flagged: static reading cannot tell the two apart."""
import ast
import functools
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
# Private engine names the app may read, each with its reason (none today).
ALLOWED: dict[str, str] = {}


def _app_sources():
    return [(p, p.read_text(encoding="utf-8")) for p in sorted((ROOT / "visualkeras_app").rglob("*.py"))]


def _private(name):
    return name.startswith("_") and not name.startswith("__")


def _attribute_string(node):
    """``"_name"`` of ``getattr(x, "_name")``, ``hasattr(...)``, ``setattr(...)``, else None."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr", "setattr") and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
        return node.args[1].value
    return None


# What defines a private name: ``x._name = ...`` (annotated too), ``def _name``/``class _name``, a module or
# class global ``_name = ...``, ``setattr(x, "_name", ...)``. Read with regular expressions: parsing both
# packages would make this a slow test; only the app's files that hold an engine private name are parsed.
_DEFINES = [re.compile(r"\.(_[A-Za-z]\w*)\s*(?::[^=\n]*)?=(?!=)"),
            re.compile(r"(?m)^\s*(?:async\s+)?(?:def|class)\s+(_[A-Za-z]\w*)"),
            re.compile(r"(?m)^\s*(_[A-Za-z]\w*)\s*(?::[^=\n]*)?=(?!=)"),
            re.compile(r"setattr\([^,()]+,\s*[\"'](_[A-Za-z]\w*)[\"']")]


def _defined(sources):
    names = set()
    for _, text in sources:
        for pattern in _DEFINES:
            names.update(pattern.findall(text))
    return {n for n in names if _private(n)}


@functools.lru_cache(maxsize=1)
def _engine_privates():
    """Read once per session (both tests ask)."""
    return frozenset(_defined((p, p.read_text(encoding="utf-8")) for p in (ROOT / "engine").rglob("*.py")))


@functools.lru_cache(maxsize=None)
def _scanned_nodes(text):
    """The attribute reads, calls and ``from`` imports of a file, parsed once per session (both tests scan
    the app)."""
    return tuple(n for n in ast.walk(ast.parse(text)) if isinstance(n, (ast.Attribute, ast.Call, ast.ImportFrom)))


def _reads_of_engine_privates():
    app = _app_sources()
    # A name the app defines itself is the app's own attribute (not flagged; see the docstring).
    engine_names = _engine_privates() - _defined(app)
    mention = re.compile(r"\b(?:" + "|".join(sorted(engine_names)) + r")\b")
    found = []
    for path, text in app:
        if not mention.search(text):
            continue  # no engine private name anywhere in the file: nothing to parse
        where = path.relative_to(ROOT)
        for node in _scanned_nodes(text):
            name = None
            if isinstance(node, ast.Attribute) and _private(node.attr) and not (
                    isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                name = node.attr if node.attr in engine_names else None
            elif _attribute_string(node) and _private(_attribute_string(node)):
                name = _attribute_string(node) if _attribute_string(node) in engine_names else None
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("engine"):
                name = next((a.name for a in node.names if _private(a.name)), None)
            if name is not None and name not in ALLOWED:
                found.append(f"{where}:{node.lineno}: {name}")
    return found


def test_the_app_reads_no_private_attribute_of_the_engine():
    found = _reads_of_engine_privates()
    assert not found, ("the app reads the engine's private names; use (or add) the engine's public API, or "
                       "add the name to ALLOWED with the reason:\n" + "\n".join(found))


def test_the_scan_finds_a_read_of_an_engine_private(monkeypatch):
    """The scan is not vacuous: a read like the ones the app once had is found."""
    assert {"_keras_history", "_inbound_nodes", "_input_layer", "_node_ids", "_CLASSES", "_NAME_UIDS",
            "_paddings_for", "_own_weights"} <= _engine_privates()
    real = _app_sources()
    fake = ("def f(model):\n    return model.outputs[0]._keras_history, getattr(model, '_inbound_nodes')\n"
            "from engine.layers.layer import _to_tensor\n")
    monkeypatch.setitem(globals(), "_app_sources", lambda: real + [(ROOT / "visualkeras_app" / "x.py", fake)])
    assert sorted(_reads_of_engine_privates()) == ["visualkeras_app/x.py:2: _inbound_nodes",
                                                   "visualkeras_app/x.py:2: _keras_history",
                                                   "visualkeras_app/x.py:3: _to_tensor"]
