""""Did you mean …?" for names a person typed: commands, template keys, files, layer or option names.

Qt- and torch-free (the command line imports it before anything heavy).
"""
from __future__ import annotations

import difflib
import os


def close_matches(name, candidates, n=3, cutoff=0.6) -> list:
    """Up to ``n`` of ``candidates`` that look like ``name`` (case-insensitive), best first."""
    by_lower = {}
    for c in candidates:
        by_lower.setdefault(str(c).lower(), str(c))
    found = difflib.get_close_matches(str(name).lower(), list(by_lower), n=n, cutoff=cutoff)
    return [by_lower[f] for f in found]


def did_you_mean(name, candidates, n=3) -> str:
    """" Did you mean 'train'?" / " Did you mean 'a' or 'b'?" (a leading space), or "" when nothing is close."""
    found = close_matches(name, candidates, n=n)
    if not found:
        return ""
    quoted = [f"'{f}'" for f in found]
    return " Did you mean " + (quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]) + "?"


def nearby_files(path, suffixes=None) -> list:
    """Files in ``path``'s folder (the current one for a bare name), for matching a misspelt file name;
    only those ending in ``suffixes`` when given. Paths as the user would type them."""
    folder = os.path.dirname(os.fspath(path))
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return []
    out = []
    for name in names:
        if suffixes and not name.lower().endswith(tuple(suffixes)):
            continue
        out.append(os.path.join(folder, name) if folder else name)
    return out
