"""The life events vocabulary (sự kiện cuộc sống): the slugs specs may list, and their words.

Specs write `life_events: [khai-sinh, cu-tru]`; the words citizens read ("Khai sinh",
"Cư trú" / "Birth", "Residence") come from data/life_events.yaml, so every spec files a
procedure under the same few events and the catalogue filter groups them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from motcua.spec.model import localize

if TYPE_CHECKING:  # pragma: no cover
    from motcua.spec.lint import Checker

VOCABULARY_FILE = Path(__file__).resolve().parent.parent / "data" / "life_events.yaml"


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, dict[str, str]]:
    """slug -> {vi, en}, in the file's order."""
    raw = yaml.safe_load(VOCABULARY_FILE.read_text(encoding="utf-8")) or {}
    return {str(slug): {"vi": str(texts["vi"]), "en": str(texts.get("en") or texts["vi"])} for slug, texts in raw.items()}


def label(slug: str, lang: str = "vi") -> str:
    """The words of a life event; a slug outside the vocabulary (the linter warns) as its own words."""
    texts = vocabulary().get(slug)
    if texts is None:
        return slug.replace("-", " ").replace("_", " ").capitalize()
    return localize(texts, lang)


def check(checker: Checker) -> None:
    """Lint rule: a warning for each life event that is not in the vocabulary."""
    from motcua.spec.loader import did_you_mean
    from motcua.spec.words import say

    known = vocabulary()
    for index, slug in enumerate(checker.spec.life_events):
        if slug not in known:
            hint = did_you_mean(slug, known) or say(" (các sự kiện đã biết: {known})", known=', '.join(known))
            checker.warning(("life_events", index),
                            say("sự kiện cuộc sống `{slug}` không có trong platform/motcua/data/life_events.yaml, nên công dân "
                                "chỉ thấy nó dưới dạng chữ thô{hint}", slug=slug, hint=hint))
