"""A table (CSV) as a data set, with the columns a person picks: what each column holds, then arrays.

``read_table`` reads a CSV's cells as text and describes each column: its type (``"number"`` when every
filled cell is a number, ``"category"`` when it holds few distinct values, else ``"text"``), its missing
cells (empty, NA, NaN, null, ?) and its distinct values. ``table_dataset`` turns chosen feature columns and a
target column into a ``Dataset``: numbers as they are, categories one-hot encoded, rows with a missing value
in a chosen column left out (and counted), the last ``test_fraction`` of the rows held out as the test set, as
``load_dataset`` holds out a CSV's. ``save_npz`` writes it where the Training panel and the exported training
script read it.
"""
from __future__ import annotations

import csv
import hashlib
import io
import os
from dataclasses import dataclass, field

import numpy as np

MISSING = {"", "na", "n/a", "nan", "null", "none", "?"}
# A column of text with at most this many distinct values (or at most 5% of its rows) is a category.
MAX_CATEGORIES = 50
TABLE_TEST_FRACTION = 0.1
_LABEL_NAMES = ("label", "labels", "class", "target", "y")


class TableError(ValueError):
    """The file is not a table that can be trained on; the message says why and what to do."""


@dataclass
class Column:
    name: str
    kind: str                 # "number", "category" or "text"
    missing: int
    distinct: int
    cells: list = field(repr=False, default_factory=list)


@dataclass
class Table:
    path: str
    columns: list
    rows: int

    def column(self, name) -> Column:
        return next(c for c in self.columns if c.name == name)

    def default_target(self) -> str:
        """A column named label/class/target/y, else the last category column, else the first column."""
        lowered = {c.name.lower(): c.name for c in self.columns}
        for n in _LABEL_NAMES:
            if n in lowered:
                return lowered[n]
        cats = [c.name for c in self.columns if c.kind == "category"]
        return cats[-1] if cats else self.columns[0].name

    def default_features(self, target) -> list:
        """Every number or category column but the target (text columns are left out)."""
        return [c.name for c in self.columns if c.name != target and c.kind != "text"]


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def read_table(path) -> Table:
    """Read and describe a CSV (with a header row; a file without one gets columns named column_1...)."""
    from engine.utils.file_utils import max_data_bytes, open_regular

    try:
        with open_regular(path) as raw:
            size = os.fstat(raw.fileno()).st_size
            if 8 * size > max_data_bytes():  # cells as Python strings take several times the file
                raise TableError(f"{path}: the file is {size:,} bytes, too large to preview (the limit is "
                                 f"{max_data_bytes() // 8:,}; VISUALKERAS_MAX_DATA_BYTES raises it).")
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="").read()
    except OSError as e:
        raise TableError(f"{path}: cannot be read ({e.strerror or e}).") from None
    except UnicodeDecodeError:
        raise TableError(f"{path}: not a text (UTF-8) CSV file.") from None
    try:
        rows = [r for r in csv.reader(io.StringIO(text)) if r]
    except csv.Error as e:
        raise TableError(f"{path}: not a readable CSV ({e}).") from None
    if len(rows) < 2 or len(rows[0]) < 2:
        raise TableError(f"{path}: a table needs a header row and rows of at least two columns (features and a "
                         "target).")
    header = [h.strip() for h in rows[0]]
    if all(_is_number(h) for h in header):  # no header row
        header = [f"column_{i + 1}" for i in range(len(header))]
    else:
        rows = rows[1:]
    width = len(header)
    bad = next((i for i, r in enumerate(rows) if len(r) != width), None)
    if bad is not None:
        raise TableError(f"{path}: row {bad + 2} has {len(rows[bad])} cells but the header has {width}; every row "
                         "needs the same number of columns.")
    columns = []
    for j, name in enumerate(header):
        cells = [r[j].strip() for r in rows]
        filled = [c for c in cells if c.lower() not in MISSING]
        distinct = len(set(filled))
        if filled and all(_is_number(c) for c in filled):
            kind = "number"
        elif distinct <= MAX_CATEGORIES or distinct <= 0.05 * max(1, len(filled)):
            kind = "category"
        else:
            kind = "text"
        columns.append(Column(name or f"column_{j + 1}", kind, len(cells) - len(filled), distinct, cells))
    return Table(os.fspath(path), columns, len(rows))


def table_dataset(table: Table, features, target, test_fraction=TABLE_TEST_FRACTION):
    """(``Dataset``, notes): the chosen columns as arrays; notes say what was done (rows left out...)."""
    from visualkeras_app.training.data import Dataset, check_dataset

    features = list(features)
    if not features:
        raise TableError("Pick at least one feature column.")
    if target in features:
        raise TableError(f"{target!r} is the target; it cannot also be a feature.")
    cols = [table.column(n) for n in features]
    tcol = table.column(target)
    keep = np.ones(table.rows, bool)
    for c in cols + [tcol]:
        keep &= np.asarray([v.lower() not in MISSING for v in c.cells], bool)
    notes = []
    dropped = int((~keep).sum())
    if dropped:
        notes.append(f"{dropped:,} row(s) with a missing value in a chosen column are left out.")
    parts, names = [], []
    for c in cols:
        cells = [v for v, k in zip(c.cells, keep) if k]
        if c.kind == "number":
            parts.append(np.asarray(cells, np.float64).reshape(-1, 1))
            names.append(c.name)
        else:
            values = sorted(set(cells))
            index = {v: i for i, v in enumerate(values)}
            onehot = np.zeros((len(cells), len(values)))
            onehot[np.arange(len(cells)), [index[v] for v in cells]] = 1.0
            parts.append(onehot)
            names.extend(f"{c.name}={v}" for v in values)
            notes.append(f"{c.name}: {len(values)} categories, one-hot encoded.")
    x = np.concatenate(parts, axis=1).astype(np.float32) if parts else np.zeros((0, 0), np.float32)
    labels = [v for v, k in zip(tcol.cells, keep) if k]
    if tcol.kind == "number" and all(float(v).is_integer() for v in labels):
        values = sorted({int(float(v)) for v in labels})
        label_of = {v: i for i, v in enumerate(values)}
        y = np.asarray([label_of[int(float(v))] for v in labels], np.int64)
        class_names = [str(v) for v in values]
    elif tcol.kind == "number":
        raise TableError(f"The target {target!r} holds fractional numbers: a classifier needs classes (whole "
                         "numbers or names). Pick a column of classes as the target.")
    else:
        class_names = sorted(set(labels))
        label_of = {v: i for i, v in enumerate(class_names)}
        y = np.asarray([label_of[v] for v in labels], np.int64)
    n_test = max(1, int(round(len(x) * test_fraction))) if len(x) > 1 else 0
    if n_test == 0:
        raise TableError("Fewer than two rows are left: nothing to train and test on.")
    name = os.path.splitext(os.path.basename(table.path))[0]
    ds = Dataset(name, x[:-n_test], y[:-n_test], x[-n_test:], y[-n_test:], class_names)
    from visualkeras_app.training.data import DatasetError

    try:
        check_dataset(ds)
    except DatasetError as e:
        raise TableError(str(e)) from None
    ds.feature_names = names
    return ds, notes


def tables_dir():
    """Where the tables prepared from a CSV are kept: the app's cache ($VISUALKERAS_CACHE moves it)."""
    root = os.environ.get("VISUALKERAS_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "visualkeras-app")
    return os.path.join(root, "tables")


def save_npz(ds, source, features, target, folder=None) -> str:
    """Write ``ds`` as a data set .npz named after ``source`` and the chosen columns; returns its path."""
    from engine.utils.file_utils import atomic_write_bytes

    folder = folder or tables_dir()
    os.makedirs(folder, exist_ok=True)
    digest = hashlib.sha256(repr((os.path.abspath(source), list(features), target)).encode()).hexdigest()[:10]
    path = os.path.join(folder, f"{os.path.splitext(os.path.basename(source))[0]}-{target}-{digest}.npz")
    buf = io.BytesIO()
    np.savez(buf, x_train=ds.x_train, y_train=ds.y_train, x_test=ds.x_test, y_test=ds.y_test,
             class_names=np.asarray(ds.class_names, dtype=str))
    atomic_write_bytes(path, buf.getvalue())
    return path
