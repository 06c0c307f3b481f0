"""What the window's docks show of a document, computed before the document reaches the window.

Opening a big model (a 20,000-layer file, a 700-layer application) must leave the window answering. The
document is read on a worker thread (``visualkeras_app.background``); :func:`prepare` runs there too, right
after, and keeps on the document what the docks would otherwise compute on the GUI thread: the summary's
rows and the code dock's text. The document is not shared yet while it is prepared (no other thread sees
it), so nothing here needs a lock.

What is kept is valid for one inference result: any edit re-runs inference (``Document._edited``), which
makes a new ``InferenceResult``, and :func:`prepared` then returns None, so the docks compute afresh.
Nothing here imports Qt.
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.utils.progress_utils import report

# Code lines between two progress reports (each report is also where Cancel takes effect).
_REPORT_EVERY = 256
# Up to this many layers the worker writes the code too. Written afterwards in the code dock's slices, a
# 20,000-layer model showed 0.7 s sooner but the slices kept the GUI thread busy for 3 s more, the first
# one 0.5 s long (the generator's inference), and their garbage set off a full collection (0.5 s): in the
# worker, the window answered within 0.2 s throughout (bench/bench_big_model.py).
PREPARE_CODE_MAX = 100_000


@dataclass
class Prepared:
    """The docks' contents for ``result`` (the document's inference result when they were made)."""

    result: object
    summary: tuple | None = None  # (sequential_like, rows) as ``document.summary.summary_rows`` gives them
    code: list | None = None  # the code dock's lines (``codegen.iter_code``), or None when it failed
    model: object = None  # the engine model the document was read from, with its weights (a .keras/.h5 file)


def prepare(doc, code=None):
    """Infer ``doc`` when needed, then keep its summary rows and its code lines on it (``code``: whether
    to write the code; by default up to ``PREPARE_CODE_MAX`` layers).

    Reports progress (``engine.utils.progress_utils.report``), so a Cancel in the window stops it.
    Failures are not raised: the dock that needed the failed part computes it again and shows the error.
    Returns the :class:`Prepared`.
    """
    result = doc.result if doc.result is not None else doc.infer()
    ready = Prepared(result, model=doc.__dict__.pop("loaded_model", None))
    if not doc.nodes:
        doc.prepared = ready
        return ready
    report("Preparing the summary", 0, 0)
    try:
        from visualkeras_app.document.summary import summary_rows

        ready.summary = summary_rows(doc, result)
    except Exception:  # the summary dock computes it again and shows why
        ready.summary = None
    if code is None:
        code = len(doc.nodes) <= PREPARE_CODE_MAX
    if code:
        from visualkeras_app.document.codegen import iter_code

        lines = []
        total = len(doc.nodes)
        try:
            for line in iter_code(doc, result):
                lines.append(line)
                if len(lines) % _REPORT_EVERY == 0:
                    report("Writing the code", min(len(lines), total), total)
            ready.code = lines
        except Exception:  # the code dock runs the generator again and shows the error
            ready.code = None
    doc.prepared = ready
    return ready


def prepared(doc, what):
    """The kept ``what`` ("summary" or "code") of ``doc`` while its inference result is the one it was made
    for; None when there is none (not prepared, edited since, or that part failed)."""
    ready = getattr(doc, "prepared", None)
    if ready is None or ready.result is not doc.result or doc.result is None:
        return None
    return getattr(ready, what)



def take_model(doc):
    """The engine model ``doc`` was read from, or built on the worker for its trained weights (weights
    included), once, while ``doc`` is unedited; else None. It is the model ``convert.document_to_model(doc)``
    would build (the same layers, names and weights), without building it on the GUI thread: for
    NASNetLarge that took 3 to 8 seconds (every weight drawn by its initializer, then overwritten)."""
    ready = getattr(doc, "prepared", None)
    if ready is None or ready.model is None:
        return None
    model, ready.model = ready.model, None
    return model if ready.result is doc.result else None


def forget_model(doc):
    """Drop the kept model (the window calls it once the document is shown): its memory goes back."""
    ready = getattr(doc, "prepared", None)
    if ready is not None:
        ready.model = None


def trained_model(doc):
    """The engine model of ``doc`` when every layer that has weights has trained ones on its node (a project
    saved after training, a transfer-learning base): built with no initializer drawn, as every weight is
    set from the nodes at once. None otherwise (or when the graph does not compile)."""
    result = doc.result
    if result is None or result.errors or not doc.nodes:
        return None
    needs = [nid for nid in doc.nodes if result.weight_shapes.get(nid)]
    if not needs or any(doc.nodes[nid].weights is None or not result.weights_ok.get(nid) for nid in needs):
        return None
    from engine.layers.layer import weights_from_file

    from visualkeras_app.document.convert import document_to_model

    with weights_from_file():  # every weight is replaced by its node's right after the build
        return document_to_model(doc)


def prepare_model(doc):
    """Keep on ``doc`` the engine model the draw pad will run when it has trained weights and none was read
    with it (for a worker thread, after :func:`prepare`)."""
    ready = getattr(doc, "prepared", None)
    if ready is None or ready.model is not None:
        return
    report("Building the model", 0, 0)
    try:
        ready.model = trained_model(doc)
    except Exception:  # the window builds it again and says what went wrong
        ready.model = None


def template_prepared(key):
    """``templates.load_template(key)``, prepared for the window (for a worker thread)."""
    from visualkeras_app.document.templates import load_template

    report("Building the template", 0, 0)  # no count to show: a busy bar
    doc = load_template(key)
    prepare(doc)
    return doc
