"""No text from a project reaches generated Python as code (issue 18, "Why" 1).

Hostile strings and numbers go into layer names, config values, config keys, an Input's batch size,
initializer dicts, the model name, the data set path and the output file name. Each generator's text
(the code dock's, the ``.py`` export, the ``_torch.py`` export, the training script) must parse, use
only the Python constructs that generator writes (no names or calls a file could add), and, run, never
execute the payloads: each payload prints and creates a sentinel that must not appear.
"""
import ast
import json
import math
import os
import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from visualkeras_app.document.codegen import generate_code
from visualkeras_app.document.project import ProjectError, load_project, save_project
from visualkeras_app.document.templates import load_template

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SENTINEL = "VK18_PWNED"  # the payloads build it from two halves, so only running one makes it appear
CALL = "__import__('builtins').print('VK18' + '_PWNED') or open('VK18' + '_PWNED', 'w')"
PAYLOADS = [
    CALL,
    f"*[{CALL}][:0], seed",
    f'"""\n{CALL}\n"""',
    f"'''\n{CALL}\n'''",
    f'")\n{CALL}\n#',
    f"')\n{CALL}\n#",
    f"\\\n{CALL}",
    f"x\r{CALL}\r",
    f"x\u2028{CALL}",
    f"{{{CALL}}}",
    f"%({CALL})s",
    f"\x00{CALL}",
    f"a): {CALL}  #",
    "__import__",
    "engine",
    "model",
    "os",
    "float",
]
HOSTILE_TEXT = st.one_of(st.sampled_from(PAYLOADS), st.text(max_size=30),
                         st.builds(lambda a, b: a + b, st.sampled_from(PAYLOADS), st.text(max_size=8)))
HOSTILE_NUMBER = st.one_of(st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, 10**40, -1, 0, True]),
                           st.floats(), st.integers())
HOSTILE = st.one_of(HOSTILE_TEXT, HOSTILE_NUMBER)


# ------------------------------------------------------------------------------------------ the checks
def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id] + parts[::-1])
    return None


_PLAIN = {ast.Constant, ast.Tuple, ast.List, ast.Dict, ast.UnaryOp, ast.USub, ast.Load}
# What the code dock and the .py export write: imports, assignments, calls of engine classes, literals.
ENGINE_NODES = _PLAIN | {ast.Module, ast.Expr, ast.Import, ast.ImportFrom, ast.alias, ast.Assign, ast.Name,
                         ast.Store, ast.Call, ast.Attribute, ast.keyword, ast.Subscript, ast.If, ast.Compare,
                         ast.Eq}
ENGINE_CALLS = re.compile(r"(engine\.(Input|Sequential|Model|(initializers|regularizers|constraints)\.[A-Za-z]\w*)"
                          r"|layers\.[A-Za-z]\w*|model\.(summary|load_weights)|os\.path\.(join|dirname|abspath)"
                          r"|float)\Z")
ENGINE_NAMES = {"engine", "layers", "model", "os", "float", "__file__", "__name__"}
TORCH_NODES = ENGINE_NODES | {ast.ClassDef, ast.FunctionDef, ast.arguments, ast.arg, ast.Return, ast.BinOp,
                              ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Slice, ast.Starred, ast.Pass, ast.JoinedStr,
                              ast.FormattedValue, ast.GeneratorExp, ast.comprehension}
TORCH_NAMES = {"torch", "nn", "F", "self", "super", "float", "sum", "print", "model", "Model", "os", "load_file",
               "_state", "_WEIGHTS", "_same_pad", "_avg_pool_same", "_relu", "_dot", "_BatchNorm", "_LayerNorm",
               "__file__", "__name__"}


def check_tree(tree, nodes, names, calls=None):
    """Every node of a kind in ``nodes``; every name one the generator writes (or assigns); no dunder
    attributes but ``__init__``; no attribute of a literal; with ``calls``, every called dotted name
    matches it; ``**`` only of a dict literal with text keys."""
    assigned = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    assigned |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments) for a in n.args}
    for n in ast.walk(tree):
        assert type(n) in nodes, f"{type(n).__name__} in generated code: {ast.dump(n)[:200]}"
        if isinstance(n, ast.Name):
            assert n.id in names or n.id in assigned, f"unexpected name {n.id!r}"
        if isinstance(n, ast.Attribute):
            assert not isinstance(n.value, ast.Constant), ast.dump(n)[:200]
            assert not n.attr.startswith("__") or n.attr == "__init__", n.attr
        if isinstance(n, ast.keyword) and n.arg is None:
            assert isinstance(n.value, ast.Dict) and all(isinstance(k, ast.Constant) for k in n.value.keys)
        if isinstance(n, ast.Call) and calls is not None and not isinstance(n.func, ast.Call):
            name = _dotted(n.func)
            assert name is not None and calls.match(name), f"unexpected call {ast.dump(n.func)[:200]}"
            if name == "float":
                assert [a.value for a in n.args] in (["inf"], ["nan"]), ast.dump(n)[:200]


def check_engine_code(text):
    check_tree(ast.parse(text), ENGINE_NODES, ENGINE_NAMES, ENGINE_CALLS)


def check_torch_script(text):
    from visualkeras_app.export.torchscript import _HELPERS

    # The helpers are fixed text; what depends on the model is the Model class and the loading tail.
    assert _HELPERS.lstrip("\n") in text
    head, rest = text.split(_HELPERS.lstrip("\n"), 1)
    tree = ast.parse(head + rest)
    doc = ast.get_docstring(tree)
    assert doc is not None and isinstance(tree.body[0].value, ast.Constant)
    check_tree(ast.Module(body=tree.body[1:], type_ignores=[]), TORCH_NODES, TORCH_NAMES)


def _blank_training_parts(tree):
    """The tree with the parts the exporter fills blanked: its docstring, the settings' values and the
    body of build_model (which are returned)."""
    filled = {"settings": [], "model": None}
    tree.body[0] = ast.Expr(ast.Constant("doc"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and node.targets[0].id.isupper() and node.targets[0].id in SETTINGS:
            filled["settings"].append(node.value)
            node.value = ast.Constant(None)
        if isinstance(node, ast.FunctionDef) and node.name == "build_model":
            filled["model"] = ast.Module(body=node.body[1:-1], type_ignores=[])
            node.body = node.body[:1] + node.body[-1:]
    return tree, filled


SETTINGS = ("DATASET", "LOSS", "OPTIMIZER", "LEARNING_RATE", "SCHEDULE", "EPOCHS", "BATCH_SIZE", "VALIDATION_SPLIT",
            "SEED", "MAX_TRAIN_SAMPLES", "DEVICE", "OUTPUT")


def check_training_script(text):
    from visualkeras_app.export.training_script import TEMPLATE

    with open(TEMPLATE, encoding="utf-8") as f:
        template, _ = _blank_training_parts(ast.parse(f.read()))
    tree, filled = _blank_training_parts(ast.parse(text))
    assert isinstance(ast.parse(text).body[0].value, ast.Constant)
    # Everything but the filled parts is the template's code, node for node.
    assert ast.dump(tree) == ast.dump(template)
    assert len(filled["settings"]) == len(SETTINGS)
    for value in filled["settings"]:
        check_tree(value, _PLAIN | {ast.Call, ast.Name}, {"float"}, re.compile(r"float\Z"))
    check_tree(filled["model"], ENGINE_NODES, ENGINE_NAMES, ENGINE_CALLS)


# ------------------------------------------------------------------------------------------ hostile documents
def hostile_document(names, activation, init_class, init_key, init_value, extra_key, batch):
    """seed_mlp (Input -> Dense -> Dense) with hostile values where drawn (None: left as it is)."""
    doc = load_template("seed_mlp")
    nodes = list(doc.nodes.values())
    for node, name in zip(nodes, names):
        if name is not None and name.strip() and all(name != n.name for n in nodes):
            doc.rename(node.id, name)
    dense = nodes[1]
    if activation is not None:
        doc.set_param(dense.id, "activation", activation)
    if init_class is not None or init_key is not None:
        cfg = {} if init_key is None else {init_key: init_value}
        doc.set_param(dense.id, "kernel_initializer", {"module": "keras.initializers",
                                                       "class_name": init_class or "GlorotUniform",
                                                       "config": cfg, "registered_name": None})
    if extra_key is not None:
        doc.set_param(dense.id, extra_key, init_value)
    if batch is not None:
        doc.set_param(nodes[0].id, "batch_shape", [batch] + list(nodes[0].config["batch_shape"][1:]))
    return doc


def maybe(strategy):
    # Mostly left alone, so that a quarter of the documents still build and all four generators run.
    return st.one_of(st.none(), st.none(), st.none(), strategy)


DOCUMENTS = st.builds(hostile_document, st.lists(maybe(HOSTILE_TEXT), min_size=3, max_size=3),
                      maybe(HOSTILE), maybe(HOSTILE_TEXT), maybe(HOSTILE_TEXT), HOSTILE, maybe(HOSTILE_TEXT),
                      maybe(HOSTILE))


def file_stem(text):
    stem = re.sub(r"[/\x00]", "_", text)[:40].strip() or "x"
    return "_" + stem if stem.startswith(".") else stem


def generate_all(doc, folder, model_name, dataset, stem):
    """{kind: text} for each generator that accepts ``doc`` (those that refuse it raise an ExportError,
    which is the refusal the test allows)."""
    from visualkeras_app.document.convert import ConversionError, document_to_model
    from visualkeras_app.export import export_model
    from visualkeras_app.export.core import ExportError
    from visualkeras_app.export.training_script import training_script_text
    from visualkeras_app.training.settings import TrainSettings

    out = {"code dock": generate_code(doc)}
    try:
        out["training script"] = training_script_text(doc, TrainSettings(dataset=dataset), name=model_name)
    except (ExportError, ValueError):
        pass
    try:
        model = document_to_model(doc, name=model_name)
    except (ConversionError, ValueError, TypeError):
        return out
    os.makedirs(folder, exist_ok=True)
    for kind, suffix in (("engine script", ".py"), ("torch script", "_torch.py")):
        path = os.path.join(folder, stem + suffix)
        try:
            export_model(model, path)
        except (ExportError, ValueError):  # refused (e.g. HDF5 takes no NUL in a name): nothing written
            assert not os.path.exists(path)
            continue
        with open(path, encoding="utf-8") as f:
            out[kind] = f.read()
    return out


CHECKS = {"code dock": check_engine_code, "engine script": check_engine_code, "torch script": check_torch_script,
          "training script": check_training_script}


def check_all(texts):
    for kind, text in texts.items():
        try:
            CHECKS[kind](text)
        except (AssertionError, SyntaxError) as e:
            raise AssertionError(f"{kind}: {e}\n---\n{text}") from None


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(doc=DOCUMENTS, model_name=HOSTILE_TEXT, dataset=HOSTILE_TEXT, stem=HOSTILE_TEXT)
def test_generated_code_holds_only_literals_from_the_document(tmp_path_factory, doc, model_name, dataset, stem):
    folder = tmp_path_factory.mktemp("out")
    model_name = model_name if model_name.strip() else "m"
    dataset = dataset.replace("\x00", "") or "d"
    texts = generate_all(doc, os.fspath(folder), model_name, dataset, file_stem(stem))
    check_all(texts)
    # The same document through a project file: refused with a ProjectError, or opened and as safe.
    path = folder / "p.vkproj"
    try:
        save_project(doc, path)
        back = load_project(path)
    except ProjectError:
        return
    check_all({"code dock": generate_code(back)})


@pytest.mark.slow
def test_running_the_generated_scripts_never_runs_a_payload(tmp_path):
    """Every payload at once in each place, the four texts run (each in a fresh Python): the sentinel
    is neither printed nor created, whatever error the scripts stop with."""
    cases = []
    # Names and paths only: the model builds, so all four generators write their text.
    doc = hostile_document(PAYLOADS[:3], None, None, None, None, None, None)
    cases.append(generate_all(doc, os.fspath(tmp_path / "a"), PAYLOADS[2], PAYLOADS[2] + ".csv", "x\"\"\"y"))
    # Hostile config values and keys: only the code dock writes it (the model cannot build).
    for i, payload in enumerate(PAYLOADS[:13]):
        doc = hostile_document([payload + "n", None, None], payload, payload, payload, payload, payload + "k",
                               payload)
        cases.append(generate_all(doc, os.fspath(tmp_path / f"b{i}"), payload, payload, f"s{i}"))
    assert {"code dock", "engine script", "torch script", "training script"} <= set(cases[0])
    scripts = []
    for i, texts in enumerate(cases):
        for kind, text in texts.items():
            check_all({kind: text})
            folder = tmp_path / "a" if i == 0 else tmp_path / f"b{i - 1}"
            folder.mkdir(exist_ok=True)
            path = folder / f"run_{kind.replace(' ', '_')}.py"
            path.write_text(text, encoding="utf-8")
            if kind == "engine script" or kind == "torch script":
                # Beside its weights file, whose name the script computes from its own.
                stem = "x\"\"\"y" if i == 0 else f"s{i - 1}"
                path = folder / (stem + (".py" if kind == "engine script" else "_torch.py"))
            scripts.append((path, kind))
    runner = ("import runpy, sys, traceback\n"
              "for path, kind in " + repr([(os.fspath(p), k) for p, k in scripts]) + ":\n"
              "    try:\n"
              "        ns = runpy.run_path(path, run_name='__main__' if kind != 'training script' else 'x')\n"
              "        if kind == 'training script':\n"
              "            ns['build_model']()\n"
              "            sys.argv = [path, '--help']\n"
              "            runpy.run_path(path, run_name='__main__')\n"
              "    except BaseException as e:\n"
              "        print('stopped:', kind, type(e).__name__)\n")
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", runner], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    out = proc.stdout + proc.stderr
    assert SENTINEL not in out, out[-3000:]
    assert not [p for p in tmp_path.rglob(SENTINEL)], "a payload created its sentinel file"
    # The scripts did run: the .py export printed its summary, the training script its usage.
    assert "Total params" in out and "usage:" in out, out[-3000:]


def test_literals_are_plain_values_only():
    from visualkeras_app.document.pysource import UnsafeSource, doc_text, literal

    for value in (None, True, 0, -3, 1.5, math.inf, -math.inf, math.nan, "", '"""', "a\nb", "\udc80", [1, (2,)],
                  {"k": [None]}):
        text = literal(value)
        back = eval(compile(ast.parse(text, mode="eval"), "<literal>", "eval"), {"__builtins__": {"float": float}})
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(back)
        else:
            assert json.dumps(back) == json.dumps(value)
    for value in (object(), b"x", {1: 2}, {1, 2}, type("S", (str,), {})("x")):
        with pytest.raises(UnsafeSource):
            literal(value)
    for text in PAYLOADS:
        source = f'"""{doc_text(text)}"""\n# {doc_text(text, quotes=False)}\n'
        tree = ast.parse(source)
        assert len(tree.body) == 1 and ast.literal_eval(tree.body[0].value) == text
