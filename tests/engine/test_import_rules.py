"""Issue 15: the engine imports at its module tops; an import inside a function stays only for an import
cycle, an optional dependency or start-up time, and says which in a comment on its line."""
import ast
import pathlib
import re

ENGINE = pathlib.Path(__file__).resolve().parents[2] / "engine"
# Still being reworked by their owners (issue 15): checked once they are done.
NOT_YET = ("applications", "trainers")


def _function_level_imports(path, text):
    if not re.search(r"^[ \t]+(from|import) ", text, re.M):  # no indented import: nothing to parse
        return
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    yield inner.lineno


def test_every_function_level_import_in_the_engine_says_why():
    unexplained = []
    files = [p for p in sorted(ENGINE.rglob("*.py")) if p.relative_to(ENGINE).parts[0] not in NOT_YET]
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
