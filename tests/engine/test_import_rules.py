"""Issue 15: the engine imports at its module tops; an import inside a function stays only for an import
cycle, an optional dependency or start-up time, and says which in a comment on its line."""
import ast
import functools
import pathlib
import re

ENGINE = pathlib.Path(__file__).resolve().parents[2] / "engine"


def _function_level_imports(path, text):
    if not re.search(r"^[ \t]+(from|import) ", text, re.M):  # no indented import: nothing to parse
        return
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    yield inner.lineno


def _function_level_import_modules(text):
    """(line, module) of each import inside a function: ``from engine.x import y`` -> "engine.x"."""
    if not re.search(r"^[ \t]+(from|import) ", text, re.M):
        return
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom):
                    yield inner.lineno, "." * inner.level + (inner.module or "")
                elif isinstance(inner, ast.Import):
                    for alias in inner.names:
                        yield inner.lineno, alias.name


# The function-level imports that still break an import cycle, each with why the cycle stays.
CYCLE_IMPORTS_ALLOWED: dict = {}


def _cycle_imports(sources):
    """(path, module) of every function-level import whose comment gives an import cycle as its reason."""
    found = set()
    for _, (path, text) in sources.items():
        if "cycle" not in text and "imports" not in text:
            continue
        lines = text.splitlines()
        for lineno, module in _function_level_import_modules(text):
            # "...: cycle", or a reason that says who imports whom ("engine.x imports this module")
            if re.search(r"\bcycle\b|\bimports\b", lines[lineno - 1].partition("#")[2], re.I):
                found.add((path.relative_to(ENGINE.parent).as_posix(), module))
    return found


def test_no_function_level_import_breaks_an_import_cycle_but_the_listed_ones():
    """Issue 15: the dependencies go one way (ops below layers, the registries below what registers, saving
    above both), so no import hides inside a function to break a cycle, except CYCLE_IMPORTS_ALLOWED."""
    found = _cycle_imports(_sources())
    unexpected = sorted(found - set(CYCLE_IMPORTS_ALLOWED))
    assert not unexpected, ("function-level imports that break an import cycle: make the dependency go one way "
                            "(move what both sides need into a module below them), or list the import in "
                            "CYCLE_IMPORTS_ALLOWED with the reason:\n" + "\n".join(f"{p}: {m}" for p, m in unexpected))
    stale = sorted(set(CYCLE_IMPORTS_ALLOWED) - found)
    assert not stale, f"CYCLE_IMPORTS_ALLOWED lists imports that are gone; remove them: {stale}"


def test_the_cycle_import_finder_finds_one():
    fake = ("def f():\n    from engine.layers import Dense  # engine.layers imports this module: cycle\n"
            "    from engine import random  # engine.random imports engine.ops, which imports layers\n"
            "    import h5py  # optional dependency: they import h5py\n    return Dense, random, h5py\n")
    sources = {"engine.fake": (ENGINE / "fake.py", fake)}
    assert _cycle_imports(sources) == {("engine/fake.py", "engine.layers"), ("engine/fake.py", "engine")}


def test_every_function_level_import_in_the_engine_says_why():
    unexplained = []
    files = sorted(ENGINE.rglob("*.py"))
    assert len(files) > 50, "the engine's modules were not found"
    for path in files:
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for lineno in sorted(set(_function_level_imports(path, text))):
            if "#" not in lines[lineno - 1]:
                unexplained.append(f"{path.relative_to(ENGINE.parent)}:{lineno}: {lines[lineno - 1].strip()}")
    assert not unexplained, ("imports inside functions without a comment saying why (a cycle, an optional "
                             "dependency or start-up time); move them to the module top or say why:\n"
                             + "\n".join(unexplained))


def _module_name(path):
    parts = list(path.relative_to(ENGINE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


_TOP_IMPORT = re.compile(r"^(?:from\s+(\.*[\w.]*)\s+import\s+(\([^)]*\)|[^\n]*)|import\s+([^\n]*))", re.M)


def _imported_modules(name, path, modules, text):
    """The engine modules ``name`` imports at its top (an import statement at the start of a line: read
    with a regular expression, which is ~20x faster than parsing every module): ``from engine import
    layers`` is engine.layers, ``from engine.layers import Dense`` the package engine.layers."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for m in _TOP_IMPORT.finditer(text):
        if m.group(3) is not None:
            out.update(part.split(" as ")[0].strip() for part in m.group(3).split("#")[0].split(","))
            continue
        base, names = m.group(1), m.group(2)
        dots = len(base) - len(base.lstrip("."))
        if dots:
            parts = package.split(".")[:len(package.split(".")) - dots + 1]
            base = ".".join(parts + ([base.lstrip(".")] if base.lstrip(".") else []))
        names = re.sub(r"#[^\n]*", "", names).strip("() \n")
        for alias in names.split(","):
            alias = alias.split(" as ")[0].strip()
            if alias:
                full = f"{base}.{alias}"
                out.add(full if full in modules else base)
    return {m for m in out if m in modules and m != name}


@functools.lru_cache(maxsize=1)
def _sources():
    """{module name: (path, text)} for every engine module, read once per test session."""
    return {_module_name(p): (p, p.read_text(encoding="utf-8")) for p in sorted(ENGINE.rglob("*.py"))}


def _import_graph():
    sources = _sources()
    return {name: _imported_modules(name, path, sources, text) for name, (path, text) in sources.items()}


def _cycles(graph):
    """Strongly connected components with more than one module (Tarjan's algorithm, without recursion)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, edges = work[-1]
            w = next(edges, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_engine_s_module_level_imports_have_no_cycle():
    graph = _import_graph()
    assert "engine.models.model" in graph and "engine.saving.serialization" in graph["engine.models.model"]
    cycles = _cycles(graph)
    assert not cycles, "modules that import each other when they load (one must stop): " + "; ".join(
        " <-> ".join(c) for c in cycles)


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_engine_saving_never_imports_engine_models_not_even_inside_a_function():
    """Models own their configs and register their classes with engine.saving, which walks them through
    public methods: the dependency goes one way (issue 15)."""
    for path in sorted((ENGINE / "saving").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
                assert not any(n.startswith("engine.models") for n in names), f"{path.name}:{node.lineno}"


# A private name one engine package reads of another's, with the reason it stays.
FOREIGN_PRIVATE_ALLOWED = {
    "_direction": "Keras's protocol: callbacks read metric._direction, which users' own metric classes set too",
}
_PRIVATE_DEFINES = [re.compile(r"\.(_[A-Za-z]\w*)\s*(?::[^=\n]*)?=(?!=)"),
                    re.compile(r"(?m)^\s*(?:async\s+)?(?:def|class)\s+(_[A-Za-z]\w*)"),
                    re.compile(r"(?m)^\s*(_[A-Za-z]\w*)\s*(?::[^=\n]*)?=(?!=)")]


def _package(module):
    """The engine package a module belongs to: engine.layers.core -> "layers", engine.losses -> "losses"."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


@functools.lru_cache(maxsize=None)
def _attribute_and_import_from_nodes(text):
    """The ``obj.attr`` and ``from m import n`` nodes of a module, parsed once per session (two tests scan
    every module)."""
    return tuple(n for n in ast.walk(ast.parse(text)) if isinstance(n, (ast.Attribute, ast.ImportFrom)))


def _foreign_private_reads(sources):
    defined = {}
    for name, (_, text) in sources.items():
        for pattern in _PRIVATE_DEFINES:
            for private in pattern.findall(text):
                defined.setdefault(private, set()).add(_package(name))
    found = []
    for name, (path, text) in sources.items():
        mine = _package(name)
        foreign = {p for p, owners in defined.items() if mine not in owners and not p.startswith("__")}
        if "._" not in text and "import _" not in text:
            continue
        candidates = {m for m in re.findall(r"\.(_[A-Za-z]\w*)", text)} | set(re.findall(r"import (_[A-Za-z]\w*)", text))
        if not (candidates & foreign) and not re.search(r"from engine\.\S+ import [^\n]*\b_[A-Za-z]", text):
            continue
        for node in _attribute_and_import_from_nodes(text):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and node.attr in foreign and not (
                    isinstance(node.value, ast.Name) and node.value.id in ("self", "cls", "super")):
                hit = node.attr
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("engine.") \
                    and _package(node.module) != mine:
                hit = next((a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")), None)
            else:
                continue
            if hit and hit not in FOREIGN_PRIVATE_ALLOWED:
                found.append(f"{path.relative_to(ENGINE.parent)}:{node.lineno}: {hit}")
    return sorted(found)


def test_no_engine_package_reads_another_s_private_names():
    """Issue 15: a package reaches another through its public API (``obj._x`` where only another package
    defines ``_x``, or ``from engine.other import _x``); the exceptions say why (FOREIGN_PRIVATE_ALLOWED)."""
    found = _foreign_private_reads(_sources())
    assert not found, ("engine packages read each other's private names; add public API (or a reason to "
                       "FOREIGN_PRIVATE_ALLOWED):\n" + "\n".join(found))


def test_the_private_read_finder_finds_one():
    fake = ("from engine.layers.layer import _has_symbolic_mask\n\n\n"
            "def f(t, layer):\n    return t._keras_history, layer._own_weights, layer.name\n")
    sources = dict(_sources())
    sources["engine.models.fake"] = (ENGINE / "models" / "fake.py", fake)
    assert _foreign_private_reads(sources) == ["engine/models/fake.py:1: _has_symbolic_mask",
                                               "engine/models/fake.py:5: _keras_history",
                                               "engine/models/fake.py:5: _own_weights"]
