"""Carry English entries of the retired YAML catalogues into the gettext catalogue.

Until issue 19 the English of a Vietnamese string lived in
platform/motcua/translations/en/*.yaml ("Vietnamese": "English"). A branch written before the
move may still add entries there; after merging it, run

    .venv/bin/python tools/yaml_to_po.py

It refreshes the catalogue from the code (`make catalogues`), fills each empty English
msgstr (or pybabel's fuzzy guess) whose msgid is a YAML key, takes the YAML's English where
the .po says something else for the same msgid without context (the YAML came with the
merge, so it is the newer word; entries with a context or plural forms keep the .po's and
are reported), reports keys the code does not say (mark them with `N_()` or `_()` and run
again), then deletes the YAML files it read. Keys the code
does not say keep the YAML files, unless `--drop-unsaid` (they translate nothing any more).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from babel.messages.pofile import read_po, write_po

REPO = Path(__file__).resolve().parent.parent
YAML_DIR = REPO / "platform" / "motcua" / "translations" / "en"
PO = YAML_DIR / "LC_MESSAGES" / "messages.po"


def yaml_entries() -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted(YAML_DIR.glob("*.yaml")):
        merged.update({str(k): str(v) for k, v in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items()})
    return merged


def refresh_catalogue() -> None:
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(["make", "--no-print-directory", "-s", "catalogues", f"PYBABEL={pybabel}"], cwd=REPO, check=True)


def main() -> int:
    entries = yaml_entries()
    if not entries:
        print("no YAML catalogue left: nothing to carry")
        return 0
    refresh_catalogue()
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    said: set[str] = set()
    for message in catalog:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        if key not in entries:
            continue
        said.add(key)
        english = entries[key]
        guessed = message.fuzzy  # pybabel update's guess from a similar msgid: the YAML knows better
        if isinstance(message.string, tuple):
            if guessed or not any(message.string):
                message.string = (english, english)
                print(f"plural, check both forms: {key!r}")
            else:
                print(f"kept the .po's plural forms of {key!r}, not the YAML's {english!r}")
        elif guessed or not message.string:
            message.string = english
        elif message.string != english:
            if message.context is None:  # the YAML came with the merge: it is the newer word
                print(f"{key!r}: {message.string!r} -> {english!r} (the YAML's)")
                message.string = english
            else:
                print(f"kept the .po's {message.string!r} for context {message.context!r}, not the YAML's {english!r}")
        message.flags.discard("fuzzy")
    with PO.open("wb") as handle:
        write_po(handle, catalog, omit_header=False, sort_output=True, ignore_obsolete=True, no_location=True)
    refresh_catalogue()  # the catalogue's own layout, so the round-trip test sees no change
    unsaid = sorted(set(entries) - said)
    for key in unsaid:
        print(f"not said by the code (mark it with N_() or _(), or drop it): {key!r}")
    if unsaid and "--drop-unsaid" not in sys.argv:
        print("YAML files kept until every key is carried (or run with --drop-unsaid)")
        return 1
    for path in sorted(YAML_DIR.glob("*.yaml")):
        path.unlink()
        print(f"deleted {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
