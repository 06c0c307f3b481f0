"""The palette's list of layers as a file, so the palette fills at launch without importing the engine.

Reading the engine's layer registry imports ``engine`` and so torch: two seconds or more. The app ships
``resources/palette.json`` instead, written from the registry by ``python3 scripts/make_palette_manifest.py``:
the palette's sections in order, and for each layer its class name and the first line of its docstring
(the tooltip). ``tests/visualkeras_app/panels/test_palette_manifest.py`` fails when the file no longer
matches the registry; once the engine has loaded, the palette also checks itself against the registry
(:meth:`visualkeras_app.panels.palette.PalettePanel.sync_with_registry`).

Nothing here imports Qt, and only :func:`registry_listing` imports the engine.
"""
from __future__ import annotations

import json
import os

FORMAT = "visualkeras-palette"
VERSION = 1
FILE_NAME = "palette.json"
REGENERATE = "python3 scripts/make_palette_manifest.py"

# Layers that exist for the RNN wrappers only; they cannot sit on the canvas by themselves.
HIDDEN = frozenset({"GRUCell", "LSTMCell", "SimpleRNNCell", "StackedRNNCells", "Wrapper"})  # Wrapper: a base class


class PaletteManifestError(ValueError):
    """The palette manifest is missing or unreadable; the message names the file and the fix."""


def first_doc_line(cls) -> str:
    """The first non-empty line of a class's docstring (the palette tooltip)."""
    for line in (cls.__doc__ or "").splitlines():
        line = line.strip()
        if line:
            return line.replace("``", "")
    return cls.__name__


def registry_listing() -> dict[str, list[tuple[str, str]]]:
    """``{section: [(class name, tooltip)]}`` from the engine's layer registry (imports the engine)."""
    from engine.layers import registry

    return {section: [(name, first_doc_line(registry.get_class(name))) for name in names if name not in HIDDEN]
            for section, names in registry.by_section().items()}


def manifest_path() -> str:
    from visualkeras_app import resources_path

    return os.path.join(resources_path(), FILE_NAME)


def to_manifest(listing) -> dict:
    """The JSON document for a ``{section: [(name, tooltip)]}`` listing (empty sections left out)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "generated_by": REGENERATE,
        "sections": [{"name": section, "layers": [{"name": name, "tip": tip} for name, tip in layers]}
                     for section, layers in listing.items() if layers],
    }


def dumps(listing) -> str:
    return json.dumps(to_manifest(listing), indent=1, ensure_ascii=False) + "\n"


def from_manifest(data, where="the palette manifest") -> dict[str, list[tuple[str, str]]]:
    """The ``{section: [(name, tooltip)]}`` listing of a manifest document; PaletteManifestError if malformed."""
    fix = f"regenerate it with `{REGENERATE}`"
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PaletteManifestError(f"{where} is not a palette manifest (no \"format\": \"{FORMAT}\"); {fix}.")
    if data.get("version") != VERSION:
        raise PaletteManifestError(f"{where} has version {data.get('version')!r}, this app reads version {VERSION}; "
                                   f"{fix}.")
    sections = data.get("sections")
    if not isinstance(sections, list):
        raise PaletteManifestError(f"{where} has no \"sections\" list; {fix}.")
    out: dict[str, list[tuple[str, str]]] = {}
    for i, sec in enumerate(sections):
        try:
            name = sec["name"]
            layers = [(layer["name"], layer["tip"]) for layer in sec["layers"]]
        except (TypeError, KeyError) as exc:
            raise PaletteManifestError(f"{where}: section {i} is malformed (missing {exc}); {fix}.") from None
        if not isinstance(name, str) or not all(isinstance(n, str) and isinstance(t, str) for n, t in layers):
            raise PaletteManifestError(f"{where}: section {i} has a name or tooltip that is not text; {fix}.")
        out[name] = layers
    return out


def load_manifest(path=None) -> dict[str, list[tuple[str, str]]]:
    """The listing in the shipped manifest (no engine import); PaletteManifestError naming the file if unusable."""
    path = path or manifest_path()
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise PaletteManifestError(f"The palette manifest {path} is missing; regenerate it with "
                                   f"`{REGENERATE}`.") from None
    except (OSError, ValueError) as exc:
        raise PaletteManifestError(f"The palette manifest {path} could not be read ({exc}); regenerate it with "
                                   f"`{REGENERATE}`.") from None
    return from_manifest(data, where=f"The palette manifest {path}")


def drift(manifest, registry) -> list[str]:
    """What differs between two listings, one sentence each (empty when they agree)."""
    out = []
    if list(manifest) != list(registry):
        out.append(f"sections {list(manifest)} in the manifest, {list(registry)} in the registry")
    for section in dict.fromkeys([*registry, *manifest]):
        have, want = dict(manifest.get(section, [])), dict(registry.get(section, []))
        if added := [n for n in want if n not in have]:
            out.append(f"{section}: not in the manifest: {', '.join(added)}")
        if gone := [n for n in have if n not in want]:
            out.append(f"{section}: in the manifest but not in the registry: {', '.join(gone)}")
        if tips := [n for n in want if n in have and have[n] != want[n]]:
            out.append(f"{section}: tooltips changed: {', '.join(tips)}")
        if not (added or gone) and list(have) != list(want):
            out.append(f"{section}: the layers are in another order")
    return out


def write_manifest(path=None) -> str:
    """Write the manifest from the engine's registry; returns the path written."""
    path = path or manifest_path()
    # start-up time: the engine (torch) loads after the window's first paint; only the script writes
    from engine.utils.file_utils import atomic_write_text

    atomic_write_text(path, dumps(registry_listing()))
    return path
