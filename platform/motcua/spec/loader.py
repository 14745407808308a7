"""Reading a spec file into a `ProcedureSpec`, with positions for every problem.

FIRST CUT (the linter issue extends it): YAML/JSON parsing and pydantic validation, each
problem reported as a `Finding` with file, line and column, never as a traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from motcua.spec.model import ProcedureSpec

MAX_SPEC_BYTES = 1_000_000


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    col: int
    severity: Literal["error", "warning"]
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.severity}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "col": self.col, "severity": self.severity, "message": self.message}


@dataclass
class Loaded:
    path: str
    spec: ProcedureSpec | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.spec is not None and not any(f.severity == "error" for f in self.findings)


def load_file(path: str | Path) -> Loaded:
    """Load one spec file; never raises for a bad file."""
    path = Path(path)
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return Loaded(name, None, [Finding(name, 1, 1, "error", f"cannot read the file: {exc.strerror}")])
    if len(raw) > MAX_SPEC_BYTES:
        return Loaded(name, None, [Finding(name, 1, 1, "error", "the file is larger than 1 MB; a spec should be a few kilobytes")])
    try:
        text = raw.decode("utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except UnicodeDecodeError:
        return Loaded(name, None, [Finding(name, 1, 1, "error", "the file is not UTF-8 text")])
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return Loaded(name, None, [Finding(name, line, col, "error", f"YAML syntax: {exc.problem or exc}")])
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        return Loaded(name, None, [Finding(name, 1, 1, "error", f"syntax: {exc}")])
    if not isinstance(data, dict):
        return Loaded(name, None, [Finding(name, 1, 1, "error", "a spec is a mapping of keys (code:, name:, level: ...)")])
    try:
        return Loaded(name, ProcedureSpec.model_validate(data))
    except ValidationError as exc:
        return Loaded(name, None, [Finding(name, 1, 1, "error", f"{'.'.join(map(str, e['loc']))}: {e['msg']}") for e in exc.errors()])
