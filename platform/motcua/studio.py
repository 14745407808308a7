"""The authoring studio's records: drafts, review, immutable published versions, history.

Authors edit a procedure's YAML in the back office (`motcua.web.studio`); what they save is a
draft, what they submit waits for review, and a second administrator (never the author)
approves it, which publishes it: a new immutable version, identified by `code@version` and
by its content hash (`motcua.catalogue.content_hash`). Dossiers filed before keep the version
they were filed under (the catalogue pins versions by content), so publishing never changes
a dossier in flight. Rolling back is publishing an old version again, through the same review.

Everything lives in three store collections, so every web process of a deployment sees the
same published catalogue (the `Records` interface of `motcua.store.base`, which both the
embedded and the PostgreSQL store implement):

- `studio_procedures`: one record per procedure code the studio has touched: the draft (text,
  author, state `draft` or `review`), the published `code@version` (or none), `retired`, the
  content hashes of its versions, and the history of publications;
- `studio_versions`: `code@version` -> the YAML text, its content hash, who wrote and who
  approved it, when; written once (`insert_new`) and never changed;
- `studio_meta`: `catalogue` -> a generation number raised by every publication, which each
  web process compares with the one its catalogue was built from (`Catalogue` refresh).

Which wins, the folder or the studio: the latest publication. A folder file is the operator's
publication: at start, a folder spec whose content the studio has never seen for that code
is what the operator deployed, and it is served (and recorded as published from the folder
the first time the studio publishes that code); a folder spec whose content is one of the
studio's versions is older than or equal to the studio's, and the studio's published version
is served. So a procedure edited in the studio keeps its reviewed version across restarts,
and an operator who deploys a changed file still gets it served without opening the studio.
"""

from __future__ import annotations

import difflib
import re
import string
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Literal

import yaml
from flask import has_request_context

from motcua.catalogue import SpecChanged, content_hash, pinned_hash
from motcua.i18n import _, current_lang, local
from motcua.spec.lint import lint_file, step_classes
from motcua.spec.loader import Finding
from motcua.spec.model import CODE_PATTERN, ProcedureSpec
from motcua.spec.words import lint_lang
from motcua.spec.national_import import RecordRefused, read_record, to_yaml
from motcua.store.base import Store

PROCEDURES = "studio_procedures"
VERSIONS = "studio_versions"
META = "studio_meta"
GENERATION_KEY = "catalogue"
#: Longest spec text the studio takes (the linter's own file limit is 1 MB; a spec is a few kB).
MAX_TEXT = 200_000

State = Literal["draft", "review", "published", "retired"]
#: A procedure code as the spec model takes it (mã thủ tục, with a local suffix or not).
CODE = re.compile(CODE_PATTERN)
BLANK = Path(__file__).parent / "data" / "studio_blank.yaml"


class StudioError(ValueError):
    """An action the studio refuses; the message is for the author, in the reader's
    language (motcua.i18n)."""


class DraftNotReady(StudioError):
    """A draft refused for review because of its text (lint errors, TODO notes left): the
    editor clears this notice once the text it checks is ready."""


#: A note the author must resolve before publishing: a YAML comment starting with TODO. The
#: blank template marks each placeholder so, the national import each guess and unread line;
#: the author writes the part and removes the note. (A comment needs a blank or the line start
#: before `#`; a `# TODO` inside a quoted text would count too, and has no place in one.)
TODO_NOTE = re.compile(r"(?:^|\s)#\s*TODO\b\s*(?:\([^)]*\))?\s*:?\s*(.*)$")


def todo_notes(text: str) -> list[tuple[int, str]]:
    """The TODO notes left in a spec text: (line number, what the note says)."""
    notes = []
    for number, line in enumerate(text.splitlines(), start=1):
        found = TODO_NOTE.search(line)
        if found:
            notes.append((number, found.group(1).strip()))
    return notes


def todo_findings(text: str, name: str = "spec.yaml") -> list[Finding]:
    """The TODO notes as lint warnings, so the editor underlines and lists them."""
    return [Finding(name, line, 1, "warning", _("Chỗ cần viết (ghi chú # TODO): {note}; viết xong thì xoá ghi chú.",
                                                 note=note or _("phần đánh dấu TODO")))
            for line, note in todo_notes(text)]


def display_name(text: str) -> str | None:
    """A draft's procedure name in the reader's language, read from its YAML (None when the
    text does not parse or has no name): the list and the editor name new drafts by it."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    name = data.get("name") if isinstance(data, dict) else None
    if isinstance(name, dict):
        name = local({str(k): str(v) for k, v in name.items()})
    if not name:
        return None
    return " ".join(str(name).split()) or None


@dataclass
class Linted:
    """What a spec text lints to: the spec when it has no error, and every finding."""

    spec: ProcedureSpec | None
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        return self.spec is not None and not any(f.severity == "error" for f in self.findings)


def lint_text(text: str, name: str = "spec.yaml", agencies: Any = None, lang: str | None = None) -> Linted:
    """Run the full linter (`motcua lint`) on a text, as if it were a file named `name`.

    The linter reads files (positions, size limit, encoding); the text is written to a
    private temporary folder so the findings are exactly the command line's. `agencies` (the
    deployment's motcua.agencies registry) checks who performs the spec, as at start.
    Findings are worded in `lang`, by default the reader's (the studio's UI language), or
    outside a request the enclosing lint call's (motcua.spec.words)."""
    lang = lang or (current_lang() if has_request_context() else lint_lang())
    if len(text) > MAX_TEXT:
        return Linted(None, [Finding(name, 1, 1, "error", _("Văn bản dài hơn {limit} ký tự; một đặc tả chỉ vài kilobyte.",
                                                            lang=lang, limit=MAX_TEXT))])
    steps, _why = step_classes()
    with tempfile.TemporaryDirectory(prefix="motcua-studio-") as folder:
        path = Path(folder) / name
        path.write_text(text, encoding="utf-8")
        loaded = lint_file(path, steps, load_steps=False, agencies=agencies, lang=lang)
    findings = [Finding(name, f.line, f.col, f.severity, f.message) for f in loaded.findings]
    findings += todo_findings(text, name)
    findings.sort(key=lambda f: (f.line, f.col))
    return Linted(loaded.spec if loaded.ok else None, findings)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def generation(store: Store) -> int:
    """The number every publication raises: a catalogue built from an older one is stale."""
    record = store.records(META).get(GENERATION_KEY)
    return int(record.get("generation", 0)) if record else 0


def _bump(store: Store) -> None:
    store.records(META).update(GENERATION_KEY, lambda cur: {"generation": int((cur or {}).get("generation", 0)) + 1})


def record(store: Store, code: str) -> dict[str, Any]:
    """The studio's record of a procedure (empty for one never touched in the studio)."""
    return store.records(PROCEDURES).get(code) or {}


def version(store: Store, key: str) -> dict[str, Any] | None:
    """One published version (`code@version`): text, hash, author, approver, date."""
    return store.records(VERSIONS).get(key)


def published(store: Store) -> tuple[dict[str, ProcedureSpec], set[str]]:
    """The studio's published spec per code, and the codes it retired: what the catalogue
    serves over the folder (see the module's note on which wins)."""
    specs: dict[str, ProcedureSpec] = {}
    retired: set[str] = set()
    for code, rec in store.records(PROCEDURES).all():
        if rec.get("retired"):
            retired.add(code)
        key = rec.get("published")
        data = store.records(VERSIONS).get(key) if key else None
        if data:
            specs[code] = ProcedureSpec.model_validate(data["spec"])
    return specs, retired


def known_hashes(store: Store, code: str) -> set[str]:
    return set(record(store, code).get("hashes") or [])


def state_of(rec: dict[str, Any], served: bool) -> State:
    """The state the list shows: a draft in review, a draft, retired, else published."""
    draft = rec.get("draft")
    if draft and draft.get("state") == "review":
        return "review"
    if draft:
        return "draft"
    if rec.get("retired"):
        return "retired"
    return "published" if served or rec.get("published") else "draft"


def save_draft(store: Store, code: str, text: str, author: str) -> dict[str, Any]:
    """Keep the author's text as the procedure's draft (any earlier draft is replaced).

    A draft waiting for review is not replaced behind the reviewer's back: it must be
    withdrawn first."""
    if len(text) > MAX_TEXT:
        raise StudioError(_("Nội dung quá dài."))

    def change(cur: dict[str, Any] | None) -> dict[str, Any]:
        cur = dict(cur or {"code": code})
        if (cur.get("draft") or {}).get("state") == "review":
            raise StudioError(_("Bản thảo đang chờ duyệt: hãy rút lại trước khi sửa."))
        cur["draft"] = {"text": text, "author": author, "updated": _now(), "state": "draft"}
        return cur

    return store.records(PROCEDURES).update(code, change)


def first_version(today: date | None = None) -> str:
    """A new procedure's first version: this year's first (`2026.1`)."""
    return f"{(today or date.today()).year}.1"


def blank_text(code: str, name: str, version: str) -> str:
    """The blank template (`data/studio_blank.yaml`) for a new procedure: it lints clean, and
    every part the author must write carries a `# TODO` note, which blocks review until the
    author writes the part and removes the note (`todo_notes`)."""
    template = string.Template(BLANK.read_text(encoding="utf-8"))
    name = " ".join(name.split())  # a name is one line
    # a YAML double-quoted scalar, not JSON: JSON leaves DEL and C1 controls as they are, which
    # YAML refuses ("unacceptable character"); YAML escapes them (`\x7F`)
    quoted = yaml.safe_dump(name or "-", allow_unicode=True, default_style='"', width=float("inf")).strip()
    if not name:
        quoted = '"Tên thủ tục"   # TODO: tên thủ tục'
    return template.safe_substitute(code=code, version=version, name=quoted)


def imported_text(record_text: str, version: str) -> tuple[str, str, int]:
    """A draft from a record pasted from the national procedure database: (code, YAML, how
    many notes it carries at its top). StudioError when the record has no procedure code."""
    try:
        imported = read_record(record_text, version=version)
    except RecordRefused as exc:
        raise StudioError(exc.text(_)) from None
    if imported.code is None:
        raise StudioError(_("Không tìm thấy mã thủ tục (dòng «Mã thủ tục: 1.001193») trong nội dung đã dán."))
    return imported.code, to_yaml(imported, _), len(imported.notes)


def create(store: Store, code: str, text: str, author: str, taken: Iterable[str]) -> dict[str, Any]:
    """Start a new procedure: its first draft. Refused for a code already in the folder
    (`taken`) or in the studio, so creating never replaces someone's procedure."""
    if not CODE.fullmatch(code):
        raise StudioError(_("Mã thủ tục «{code}» không đúng dạng, ví dụ: 1.001193.", code=code))
    if code in set(taken):
        raise StudioError(_("Thủ tục {code} đã có: hãy mở nó trong danh sách để sửa.", code=code))
    if len(text) > MAX_TEXT:
        raise StudioError(_("Nội dung quá dài."))

    def change(cur: dict[str, Any] | None) -> dict[str, Any]:
        if cur:  # decided under the record's lock: of two authors creating one code, one wins
            raise StudioError(_("Thủ tục {code} đã có: hãy mở nó trong danh sách để sửa.", code=code))
        return {"code": code, "draft": {"text": text, "author": author, "updated": _now(), "state": "draft"}}

    return store.records(PROCEDURES).update(code, change)


def submit(store: Store, code: str, author: str, base: ProcedureSpec | None, agencies: Any = None) -> dict[str, Any]:
    """Send the draft for review; refused when it does not lint clean or would publish other
    content under a version that already exists."""
    draft = record(store, code).get("draft")
    if not draft:
        raise StudioError(_("Chưa có bản thảo để gửi duyệt."))
    checked = check_publishable(store, code, draft["text"], base, agencies)

    def change(cur: dict[str, Any] | None) -> dict[str, Any]:
        cur = dict(cur or {"code": code})
        cur["draft"] = {**cur["draft"], "state": "review", "submitted_by": author, "submitted_at": _now(),
                        "version": checked.version, "hash": content_hash(checked)}
        return cur

    return store.records(PROCEDURES).update(code, change)


def withdraw(store: Store, code: str) -> None:
    """Take a draft back from review, to edit it again."""

    def change(cur: dict[str, Any] | None) -> dict[str, Any]:
        cur = dict(cur or {"code": code})
        if cur.get("draft"):
            cur["draft"] = {**cur["draft"], "state": "draft"}
        return cur

    store.records(PROCEDURES).update(code, change)


def discard(store: Store, code: str) -> None:
    """Drop the draft; the published version is untouched."""
    store.records(PROCEDURES).update(code, lambda cur: {**(cur or {"code": code}), "draft": None})


def check_publishable(store: Store, code: str, text: str, base: ProcedureSpec | None, agencies: Any = None) -> ProcedureSpec:
    """The spec a text would publish, or StudioError saying why it cannot be published.

    `base` is the version served now (from the folder or the studio): a text with its
    `version` but other content is refused, as are the versions the studio published
    before and the versions dossiers were filed under (content pinned by hash)."""
    linted = lint_text(text, agencies=agencies)
    if not linted.ok or linted.spec is None:
        raise DraftNotReady(_("Bản thảo còn lỗi: sửa hết lỗi trước khi gửi duyệt."))
    notes = todo_notes(text)
    if notes:
        where = [_("Dòng {line}: {note}", line=line, note=note or "TODO") for line, note in notes]
        raise DraftNotReady(_(
            "Bản thảo còn {n} chỗ cần viết (ghi chú # TODO): viết xong từng chỗ rồi xoá ghi chú, "
            "sau đó gửi duyệt lại. {lines}", n=len(notes), lines="; ".join(where)))
    spec = linted.spec
    if spec.code != code:
        raise StudioError(_("Mã thủ tục trong bản thảo ({found}) khác mã đang soạn ({code}).", found=spec.code, code=code))
    digest = content_hash(spec)
    taken = []
    if base is not None and base.version == spec.version:
        taken.append(content_hash(base))
    old = version(store, spec.key)
    if old:
        taken.append(old["hash"])
    filed = pinned_hash(store, spec.key)
    if filed:
        taken.append(filed)
    if any(h != digest for h in taken):
        raise StudioError(_(
            "Phiên bản {version} đã được công bố với nội dung khác; hãy đổi `version` "
            "(hồ sơ đã nộp giữ nguyên nội dung của phiên bản đó).", version=spec.version
        ))
    return spec


def approve(store: Store, code: str, reviewer: str, base: ProcedureSpec | None, base_text: str | None, agencies: Any = None) -> ProcedureSpec:
    """Publish the draft in review as a new immutable version; `reviewer` may not be the
    author who submitted it (four eyes). `base`/`base_text` (the version served now) are
    recorded as the procedure's first version when the studio never published it before,
    so its history starts from what citizens saw."""
    rec = record(store, code)
    draft = rec.get("draft") or {}
    if draft.get("state") != "review":
        raise StudioError(_("Không có bản thảo nào đang chờ duyệt."))
    if reviewer in (draft.get("submitted_by"), draft.get("author")):
        raise StudioError(_("Người soạn không tự duyệt được: cần một quản trị viên khác duyệt."))
    spec = check_publishable(store, code, draft["text"], base, agencies)  # the performer check too
    expected = draft.get("hash")
    if content_hash(spec) != expected:
        raise StudioError(_("Bản thảo đã thay đổi sau khi gửi duyệt; hãy gửi duyệt lại."))
    versions = store.records(VERSIONS)
    first = base is not None and not rec.get("published") and base.key != spec.key
    if first:  # idempotent: the folder's version, as citizens saw it before
        versions.insert_new(base.key, _version_doc(base, base_text or "", "folder", "", "folder"))
    doc = _version_doc(spec, draft["text"], draft.get("submitted_by", ""), reviewer, "publish")
    if not versions.insert_new(spec.key, doc) and (versions.get(spec.key) or {}).get("hash") != doc["hash"]:
        raise SpecChanged(f"{spec.key} was published meanwhile with other content")
    now = _now()

    def change(cur: dict[str, Any] | None) -> dict[str, Any]:
        # decided under the record's lock: of two approvals racing, one publishes
        cur = dict(cur or {"code": code})
        waiting = cur.get("draft") or {}
        if waiting.get("state") != "review" or waiting.get("hash") != expected:
            raise StudioError(_("Không có bản thảo nào đang chờ duyệt."))
        history = list(cur.get("history") or [])
        if first and base is not None and not cur.get("published") and all(e["key"] != base.key for e in history):
            history.append({"key": base.key, "by": "folder", "approved_by": "", "at": now, "action": "folder"})
        action = "rollback" if waiting.get("rollback") else "publish"
        history.append({"key": spec.key, "by": waiting.get("submitted_by", ""), "approved_by": reviewer, "at": now, "action": action})
        hashes = set(cur.get("hashes") or [])
        hashes.add(doc["hash"])
        if base is not None:
            hashes.add(content_hash(base))
        cur.update(draft=None, published=spec.key, retired=False, hashes=sorted(hashes), history=history)
        return cur

    store.records(PROCEDURES).update(code, change)
    _bump(store)
    return spec


def _version_doc(spec: ProcedureSpec, text: str, author: str, reviewer: str, action: str) -> dict[str, Any]:
    return {
        "code": spec.code,
        "version": spec.version,
        "text": text,
        "hash": content_hash(spec),
        "spec": spec.model_dump(mode="json", by_alias=True),
        "author": author,
        "approved_by": reviewer,
        "published_at": _now(),
        "action": action,
    }


def rollback_draft(store: Store, code: str, key: str, author: str) -> dict[str, Any]:
    """Put an old version's text up for review: approving it publishes that version again."""
    old = version(store, key)
    if not old or old.get("code") != code:
        raise StudioError(_("Không có phiên bản này."))
    save_draft(store, code, old["text"], author)
    spec = ProcedureSpec.model_validate(old["spec"])

    def change(cur: dict[str, Any] | None) -> dict[str, Any]:
        cur = dict(cur or {"code": code})
        cur["draft"] = {**cur["draft"], "state": "review", "submitted_by": author, "submitted_at": _now(),
                        "version": spec.version, "hash": old["hash"], "rollback": key}
        return cur

    return store.records(PROCEDURES).update(code, change)


def set_retired(store: Store, code: str, retired: bool) -> None:
    """Stop (or resume) offering a procedure to citizens; dossiers filed keep their version."""
    store.records(PROCEDURES).update(code, lambda cur: {**(cur or {"code": code}), "retired": retired})
    _bump(store)


def history(store: Store, code: str) -> list[dict[str, Any]]:
    """The publications of a procedure, newest first."""
    return list(reversed(record(store, code).get("history") or []))


def diff(old_text: str, new_text: str, old_name: str, new_name: str) -> list[tuple[str, str]]:
    """A unified diff as (kind, line) pairs; kind is `add`, `del`, `hunk` or `same`."""
    out: list[tuple[str, str]] = []
    for line in difflib.unified_diff(old_text.splitlines(), new_text.splitlines(), old_name, new_name, lineterm=""):
        if line.startswith(("+++", "---")):
            continue
        kind = "hunk" if line.startswith("@@") else "add" if line.startswith("+") else "del" if line.startswith("-") else "same"
        out.append((kind, line))
    return out


def overlay(folder: dict[str, ProcedureSpec], store: Store) -> tuple[dict[str, ProcedureSpec], list[str]]:
    """What the catalogue serves: the folder's specs with the studio's publications applied
    (the latest publication wins, see the module's note); codes retired are left out.
    Returns the specs and the codes whose spec came from the studio."""
    specs, retired = published(store)
    out = dict(folder)
    from_studio: list[str] = []
    for code, spec in specs.items():
        mine = folder.get(code)
        if mine is not None and content_hash(mine) not in known_hashes(store, code):
            continue  # the operator deployed content the studio never saw: the folder's is newer
        out[code] = spec
        from_studio.append(code)
    for code in retired:
        out.pop(code, None)
    return out, from_studio


def codes(store: Store) -> Iterable[str]:
    return (code for code, _ in store.records(PROCEDURES).all())
