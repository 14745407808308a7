"""The English files are merged into one mapping (Vietnamese -> English): a Vietnamese string
given two different English renderings in two files gets whichever file loads last, so a
page reads "Filed" where its own file said "Filed on". One string, one rendering."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import yaml

FOLDER = Path(__file__).resolve().parents[1] / "platform" / "motcua" / "translations" / "en"


def test_no_vietnamese_string_has_two_english_renderings() -> None:
    renderings: dict[str, dict[str, str]] = defaultdict(dict)
    for path in sorted(FOLDER.glob("*.yaml")):
        for vi, en in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            renderings[vi][path.name] = en
    clashes = {vi: files for vi, files in renderings.items() if len(set(files.values())) > 1}
    assert not clashes, "give each Vietnamese string one English rendering (or different Vietnamese): " + repr(clashes)
