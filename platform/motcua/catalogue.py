"""The procedures a portal offers, loaded from a folder of spec files.

A spec that fails to load is left out and its findings kept, so one broken file never takes
the others down. Specs are also snapshotted into the store by `code@version` when a dossier
is filed, so a dossier is always read with the exact text it was filed under.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterator

from motcua.spec.lint import lint_file
from motcua.spec.loader import Finding
from motcua.spec.model import ProcedureSpec
from motcua.store.base import Store

log = logging.getLogger(__name__)

SPEC_SUFFIXES = (".yaml", ".yml", ".json")


def spec_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in SPEC_SUFFIXES and p.name != "schema.json")


class Catalogue:
    def __init__(self, specs: dict[str, ProcedureSpec], problems: list[Finding]) -> None:
        self._specs = specs
        self.problems = problems

    @classmethod
    def from_folder(cls, folder: str | Path) -> Catalogue:
        specs: dict[str, ProcedureSpec] = {}
        problems: list[Finding] = []
        for path in spec_files(Path(folder)):
            loaded = lint_file(path)  # the full linter: a spec with errors is left out
            problems.extend(loaded.findings)
            if not loaded.ok or loaded.spec is None:
                log.error("spec left out: %s", "; ".join(str(f) for f in loaded.findings))
                continue
            if loaded.spec.code in specs:
                problems.append(Finding(str(path), 1, 1, "error", f"procedure code {loaded.spec.code} is already used by another spec"))
                log.error("spec left out: %s duplicates procedure code %s", path, loaded.spec.code)
                continue
            specs[loaded.spec.code] = loaded.spec
        return cls(specs, problems)

    def get(self, code: str) -> ProcedureSpec | None:
        return self._specs.get(code)

    def __iter__(self) -> Iterator[ProcedureSpec]:
        return iter(sorted(self._specs.values(), key=lambda s: s.code))

    def __len__(self) -> int:
        return len(self._specs)


def snapshot(store: Store, spec: ProcedureSpec) -> None:
    """Keep the exact spec a dossier is filed under (idempotent)."""
    store.records("spec_versions").insert_new(spec.key, spec.model_dump(mode="json", by_alias=True))


def spec_of(store: Store, key: str) -> ProcedureSpec | None:
    """The spec a dossier was filed under, by `code@version`."""
    data = store.records("spec_versions").get(key)
    return ProcedureSpec.model_validate(data) if data else None
