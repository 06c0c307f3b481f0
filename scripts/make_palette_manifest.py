"""Write resources/palette.json, the palette's list of layers, from the engine's layer registry.

The app fills its Layers panel from this file at launch so that it need not wait for the engine (torch) to
import. Run it after adding, removing or re-documenting a layer (the manifest test says when):

    python3 scripts/make_palette_manifest.py            # rewrites resources/palette.json
    python3 scripts/make_palette_manifest.py --check    # exit 1 and say what differs when it is out of date
"""
from __future__ import annotations

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from visualkeras_app.panels import palette_manifest as pm  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only say whether the manifest matches the registry")
    ap.add_argument("--out", help="where to write (default: the app's resources/palette.json)")
    args = ap.parse_args(argv)
    path = args.out or pm.manifest_path()
    if args.check:
        try:
            diffs = pm.drift(pm.load_manifest(path), pm.registry_listing())
        except pm.PaletteManifestError as exc:
            print(exc)
            return 1
        for line in diffs:
            print(line)
        print(f"{path}: {'out of date' if diffs else 'up to date'}")
        return 1 if diffs else 0
    pm.write_manifest(path)
    listing = pm.load_manifest(path)
    print(f"wrote {path}: {sum(len(v) for v in listing.values())} layers in {len(listing)} sections")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
