"""The agency registry (cơ quan thực hiện): every office that performs procedures, as data.

One procedure is performed by many offices (every commune People's Committee registers
births), and the citizen chooses the office before filing. The offices of a province are
kept as versioned data — a YAML file shipped in the package (`data/agencies.yaml`), or the
one a deployment names in `AGENCY_REGISTRY` (`MOTCUA_AGENCY_REGISTRY`) — never as code:
offices merge and split, and the registry changes with them.

Each agency has its code per QCVN 102:2016/BTTTT (the dossier code prefix), names {vi, en},
a tier (province / commune / other), a kind (`ubnd`, `cong-an` ...: which offices of a tier
a spec means), its parent, the administrative unit it serves (codes of Decision 124/2004 as
published after 1 July 2025, checked against `motcua.units`), address, hours and phone.

A registry that is wrong (a duplicate code, an unknown commune or parent) is refused whole
with `path:line` errors: a portal that silently drops an office would file its dossiers
nowhere. `motcua agencies generate` writes the file from the unit table (docs/agencies.md).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from motcua.i18n import N_
from motcua.search import fold
from motcua.spec.words import say

#: The registry shipped with the package: one whole real province (docs/agencies.md).
DEFAULT_REGISTRY = Path(__file__).parent / "data" / "agencies.yaml"

#: Tiers an agency may have. District offices ended on 1 July 2025; "other" is for bodies
#: outside the province/commune ladder (a branch of a ministry, a notary office ...).
TIERS = ("province", "commune", "other")

#: QCVN 102:2016 shape, as the spec model has always checked it.
CODE_PATTERN = r"^[0-9A-Z]{2,3}(\.[0-9A-Z]{2,3}){2,4}$"
#: What a registry code must be exactly: V1V2V3.Z1Z2.Y1Y2.MX1X2, digits in the first three
#: parts (QCVN 102:2016/BTTTT, Circular 10/2016/TT-BTTTT), M a letter and X1X2 two digits.
QCVN_CODE = re.compile(r"^([0-9]{3})\.([0-9]{2})\.([0-9]{2})\.([A-Z][0-9]{2})$")
#: A phone number as offices publish it: digits, spaces, dots or dashes, 10 or 11 digits from 0.
PHONE = re.compile(r"^0[0-9 .\-]{8,16}$")


def is_phone(value: str) -> bool:
    """An office's phone as the registry and the carriers take it: 10 or 11 digits from 0,
    spaces, dots or dashes between them (0236 3821 234)."""
    return bool(PHONE.match(value)) and len(re.sub(r"\D", "", value)) in (10, 11)


def qcvn_problem(code: str) -> str | None:
    """Why `code` is not a QCVN 102:2016 agency code, or None. Each level sits under the one
    to its right: a level-3 part (Z1Z2) needs a level-2 one (Y1Y2), a level-4 part (V1V2V3)
    both."""
    found = QCVN_CODE.match(code)
    if found is None:
        return say("{code} không phải mã theo QCVN 102:2016: V1V2V3.Z1Z2.Y1Y2.MX1X2, ba phần đầu là chữ số, "
                   "ví dụ 000.00.09.H15", code=code)
    v, z, y, _ = found.groups()
    if (z != "00" and y == "00") or (v != "000" and (z == "00" or y == "00")):
        return say("{code}: trong mã QCVN 102:2016, mỗi cấp nằm dưới cấp bên phải nó (V1V2V3 dưới Z1Z2, Z1Z2 dưới Y1Y2)", code=code)
    return None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Text(_Strict):
    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)


class _Hours(_Strict):
    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)


class _Record(_Strict):
    """One office as written in the registry file (validated by pydantic, placed by line)."""

    code: str = Field(min_length=1, description="QCVN 102:2016 code, the dossier code prefix (checked by qcvn_problem)")
    name: _Text
    tier: Literal["province", "commune", "other"]
    kind: str = Field(pattern=r"^[a-z][a-z0-9-]*$", description="which offices of a tier a spec means: ubnd, cong-an, so ...")
    parent: str | None = None
    province_code: str = Field(pattern=r"^[0-9]{2}$")
    commune_code: str | None = Field(default=None, pattern=r"^[0-9]{5}$")
    street: str = ""
    hours: _Hours | None = None
    phone: str = ""


class _File(_Strict):
    version: str = Field(min_length=1)
    province_code: str = Field(pattern=r"^[0-9]{2}$")
    source: str = ""
    hours: _Hours
    #: each entry is checked on its own (`_Record`), so every entry's problems are listed
    agencies: list[Any]


@dataclass(frozen=True)
class Agency:
    """One office (cơ quan) that receives and decides dossiers."""

    code: str
    name: Mapping[str, str]
    tier: str
    kind: str
    parent: str | None
    province_code: str
    commune_code: str | None
    address: Mapping[str, str]  # a postal address in motcua.units' shape (codes and names)
    hours: Mapping[str, str]
    phone: str
    line: int = 0  # where it is written in the registry file

    def label(self, lang: str = "vi") -> str:
        return self.name.get(lang) or self.name["vi"]

    def as_dict(self, lang: str | None = None) -> dict[str, Any]:
        """What the API publishes about the office (both languages unless `lang` is given)."""
        from motcua.units import address_text

        return {
            "code": self.code,
            "name": self.label(lang) if lang else dict(self.name),
            "tier": self.tier,
            "kind": self.kind,
            "parent": self.parent,
            "province_code": self.province_code,
            "commune_code": self.commune_code,
            "address": address_text(self.address, lang or "vi"),
            "hours": self.hours.get(lang or "vi", ""),
            "phone": self.phone,
        }


@dataclass(frozen=True)
class RegistryProblem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: error: {self.message}"


class RegistryError(ValueError):
    """The registry file is wrong; every problem says `path:line`."""

    def __init__(self, problems: list[RegistryProblem]) -> None:
        self.problems = problems
        super().__init__(say("danh mục cơ quan bị từ chối:") + "\n" + "\n".join(str(p) for p in problems))


@dataclass
class AgencyRegistry:
    """Every office of a deployment, by code, with the lookups the portal needs."""

    version: str
    province_code: str
    path: str
    agencies: dict[str, Agency]
    _folded: dict[str, str] = field(default_factory=dict, repr=False)
    _published: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._folded = {code: fold(" ".join([a.name["vi"], a.name["en"], a.code])) for code, a in self.agencies.items()}

    def get(self, code: Any) -> Agency | None:
        return self.agencies.get(str(code or "").strip())

    def __contains__(self, code: Any) -> bool:
        return self.get(code) is not None

    def __iter__(self) -> Iterator[Agency]:
        return iter(self.agencies.values())

    def __len__(self) -> int:
        return len(self.agencies)

    def codes(self) -> list[str]:
        return list(self.agencies)

    def of(self, tier: str | None = None, kind: str | None = None) -> list[Agency]:
        """The offices of one tier (and kind), in registry order."""
        return [a for a in self if (tier is None or a.tier == tier) and (kind is None or a.kind == kind)]

    def search(self, q: str, among: Iterable[Agency] | None = None) -> list[Agency]:
        """Offices whose name or code holds every word of `q`, diacritics and case ignored
        ("hai chau" finds "Phường Hải Châu")."""
        words = fold(q or "").split()
        pool = list(self if among is None else among)
        return [a for a in pool if all(w in self._folded.get(a.code, "") for w in words)]

    def serving(self, commune_code: str | None, among: Iterable[Agency] | None = None) -> Agency | None:
        """The office among `among` serving that commune unit (for preselecting the citizen's)."""
        if not commune_code:
            return None
        for agency in self if among is None else among:
            if agency.commune_code == commune_code:
                return agency
        return None

    def published(self, lang: str) -> dict[str, dict[str, Any]]:
        """Every office as the API publishes it in `lang` (Agency.as_dict), made once: the
        registry does not change while the app runs, and 207 addresses per request cost."""
        found = self._published.get(lang)
        if found is None:
            found = self._published[lang] = {code: a.as_dict(lang) for code, a in self.agencies.items()}
        return found

    def lint_spec(self, spec: Any) -> list[tuple[tuple[Any, ...], str, str]]:
        """What is wrong with who performs `spec` (for motcua.spec.lint, which cannot import us)."""
        return lint_performers(spec, self)

    def performers_of(self, spec: Any) -> tuple[Agency, ...]:
        """The offices that perform `spec` (for motcua.spec.lint, which cannot import us)."""
        return performers(spec, self)

    def fingerprint(self) -> str:
        """Changes when what lint checks against changes: an office added, removed, recoded,
        moved to another tier or kind, or given a phone (a carrier may need it: keys the
        catalogue's lint cache)."""
        import hashlib

        lines = sorted(f"{a.code} {a.tier} {a.kind} {a.phone}" for a in self.agencies.values())
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


#: What a registry value must look like, by key, when it does not (the spec linter's wording).
_REGISTRY_PATTERNS = {"province_code": N_("hai chữ số, ví dụ 48"), "commune_code": N_("năm chữ số, ví dụ 20242"),
                      "kind": N_("chữ thường, chữ số và `-`, ví dụ `cong-an`")}


def _problems_from(exc: ValidationError, path: str, line_of: Any, root: type[BaseModel], top: str,
                   label: str = "") -> list[RegistryProblem]:
    """Plain-worded `path:line` problems for a model's errors (motcua.spec.loader.explain:
    what was expected and what was written, never pydantic's own type names)."""
    from motcua.spec.loader import describe_value, explain

    out = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        if not loc and error.get("input") is None:
            message = say("{what} đang trống", what=top)
        elif not loc and error["type"] in ("model_type", "model_attributes_type", "dict_type"):
            message = say("{what} phải là một ánh xạ gồm các dòng `khóa: giá trị` ({keys}), nhưng giá trị là {value}",
                          what=top, keys=', '.join(root.model_fields), value=describe_value(error.get('input')))
        elif error["type"] == "string_pattern_mismatch" and str(loc[-1]) in _REGISTRY_PATTERNS:
            message = say("`{where}` phải là {wanted}, nhưng giá trị là {value}", where='.'.join(map(str, loc)),
                          wanted=say(_REGISTRY_PATTERNS[str(loc[-1])]), value=describe_value(error.get('input')))
        else:
            _, _, message = explain(error, root, top)
        out.append(RegistryProblem(path, line_of(loc), f"{label}{message}"))
    return out


def parse_registry(text: str, path: str = "<registry>") -> AgencyRegistry:
    """Read a registry file's text; every problem is a `path:line` in one RegistryError."""
    import yaml

    from motcua import units
    from motcua.spec.loader import describe_value, did_you_mean, parse_yaml

    try:
        data, source, duplicates = parse_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise RegistryError([RegistryProblem(path, (mark.line + 1) if mark else 1, str(exc.problem or exc))]) from None
    problems = [RegistryProblem(path, pos[0], say("khóa {key} bị lặp", key='.'.join(map(str, loc)))) for loc, pos in duplicates]
    head: _File | None = None
    try:
        head = _File.model_validate(data)
    except ValidationError as exc:  # the entries are still checked, so every problem is listed at once
        problems += _problems_from(exc, path, lambda loc: source.value(loc)[0], _File, say("tệp danh mục"))
    if head is not None and units.province(head.province_code) is None:
        problems.append(RegistryProblem(path, source.value(("province_code",))[0], say("mã tỉnh {code} không tồn tại", code=head.province_code)))
    entries = data.get("agencies") if isinstance(data, dict) else None
    records: list[tuple[_Record, int]] = []
    index_of: dict[int, int] = {}  # line -> place in `agencies` (for a field's own line)
    for i, raw in enumerate(entries if isinstance(entries, list) else []):
        line = source.value(("agencies", i))[0]
        code = raw.get("code") if isinstance(raw, dict) else None
        label = f"{code}: " if isinstance(code, str) and code else say("cơ quan thứ {n}: ", n=i + 1)
        if not isinstance(raw, dict):
            problems.append(RegistryProblem(path, line, label + say("mỗi mục của `agencies` phải là một ánh xạ gồm các dòng `khóa: giá trị` "
                                                                "(code, name, tier, kind ...), nhưng giá trị là {value}", value=describe_value(raw))))
            continue
        try:
            records.append((_Record.model_validate(raw), line))
            index_of[line] = i
        except ValidationError as exc:
            problems += _problems_from(exc, path, lambda loc, i=i: source.value(("agencies", i, *loc))[0], _Record,
                                       say("mục này"), label)
    seen: dict[str, int] = {}
    duplicates: set[int] = set()  # lines of a second entry with a code already given
    for record, line in records:
        if record.code in seen:
            problems.append(RegistryProblem(path, line, say("mã cơ quan {code} bị lặp (lần đầu ở dòng {line})", code=record.code, line=seen[record.code])))
            duplicates.add(line)
        else:
            seen[record.code] = line
        shape = qcvn_problem(record.code)
        if shape:
            problems.append(RegistryProblem(path, line, shape))
        if record.phone and not is_phone(record.phone):
            problems.append(RegistryProblem(path, source.value(("agencies", index_of[line], "phone"))[0],
                                            say("{code}: điện thoại {phone} không phải số điện thoại "
                                                "(10 hoặc 11 chữ số, bắt đầu bằng 0, ví dụ 0236 3821 234)", code=record.code, phone=repr(record.phone))))
    agencies: dict[str, Agency] = {}
    for record, line in records:
        province = units.province(record.province_code)
        commune = units.commune(record.commune_code) if record.commune_code else None
        if province is None:
            problems.append(RegistryProblem(path, line, say("{code}: mã tỉnh {province} không tồn tại", code=record.code, province=record.province_code)))
        if record.commune_code and (commune is None or commune.province_code != record.province_code):
            problems.append(RegistryProblem(
                path, line, say("{code}: mã xã {commune} không phải một xã của tỉnh {province} trong {version} "
                                "(mã theo danh mục công bố sau {effective})", code=record.code, commune=record.commune_code,
                                province=record.province_code, version=units.version(), effective=units.EFFECTIVE)))
        if record.tier == "commune" and not record.commune_code:
            problems.append(RegistryProblem(path, line, say("{code}: cơ quan cấp xã cần `commune_code` của xã mà nó phục vụ", code=record.code)))
        if record.parent is not None and record.parent not in seen:
            problems.append(RegistryProblem(path, line, say("{code}: cơ quan cấp trên {parent} không tồn tại{hint}", code=record.code, parent=record.parent, hint=did_you_mean(record.parent, seen))))
        if record.parent == record.code and line not in duplicates:  # a duplicate's parent may be the first entry
            problems.append(RegistryProblem(path, line, say("{code}: một cơ quan không thể là cơ quan cấp trên của chính nó", code=record.code)))
        if record.code in agencies or head is None:  # a duplicate, or a file whose head is wrong: problems only
            continue
        address = {"street": record.street}
        if province:
            address.update(province=province.name, province_code=province.code)
        if commune:
            address.update(commune=commune.name, commune_code=commune.code)
        hours = record.hours or head.hours
        agencies[record.code] = Agency(
            code=record.code, name={"vi": record.name.vi, "en": record.name.en}, tier=record.tier, kind=record.kind,
            parent=record.parent, province_code=record.province_code, commune_code=record.commune_code,
            address=address, hours={"vi": hours.vi, "en": hours.en}, phone=record.phone, line=line)
    if problems or head is None:
        raise RegistryError(problems)
    return AgencyRegistry(version=head.version, province_code=head.province_code, path=path, agencies=agencies)


@lru_cache(maxsize=8)
def _load(path: str, stamp: tuple[int, int]) -> AgencyRegistry:
    return parse_registry(Path(path).read_text(encoding="utf-8"), path)


def load_registry(path: str | Path | None = None) -> AgencyRegistry:
    """The registry in `path` (default: the shipped one), read once per file version."""
    target = Path(path) if path else DEFAULT_REGISTRY
    try:
        stat = target.stat()
    except OSError as exc:
        raise RegistryError([RegistryProblem(str(target), 1, say("không đọc được danh mục cơ quan: {reason}", reason=exc.strerror))]) from None
    return _load(str(target), (stat.st_mtime_ns, stat.st_size))


def registry_path(config: Mapping[str, Any] | None = None) -> Path:
    """Which registry file a deployment uses: AGENCY_REGISTRY, else MOTCUA_AGENCY_REGISTRY,
    else the shipped one (the CLI has no app config, so it reads the environment too)."""
    configured = (config or {}).get("AGENCY_REGISTRY") or os.environ.get("MOTCUA_AGENCY_REGISTRY")
    return Path(configured) if configured else DEFAULT_REGISTRY


def agency_registry(app: Any = None) -> AgencyRegistry:
    """The app's registry (the current app when none is given)."""
    if app is None:
        from flask import current_app

        app = current_app
    return app.extensions["motcua"].agencies


def office_name(code: str, spec: Any, lang: str) -> str:
    """The name of office `code` for a printed page or a register line: the current app's
    registry when there is an app (documents are drawn without a request too), else the kind
    of office the spec names, else the code."""
    from motcua.spec.model import localize

    office = None
    try:
        from flask import current_app

        office = current_app.extensions["motcua"].catalogue.office(code, spec)
    except (RuntimeError, KeyError, AttributeError):  # no app here: a script, a bare test
        office = None
    if office is not None:
        return localize(office.name, lang)
    rule = spec.performers_rule if spec is not None else None
    return localize(rule.name, lang) if rule is not None and rule.name else code


def performers(spec: Any, registry: AgencyRegistry) -> tuple[Agency, ...]:
    """The offices that perform `spec`, in registry order for a tier, in the spec's order
    for a list. A code missing from the registry is left out (lint reports it), except the
    old single `agency` key: its office is built from what the spec writes, so a spec
    written before the registry keeps working (docs/specs.md, migration)."""
    rule = spec.performers_rule
    if rule.tier is not None:
        return tuple(registry.of(rule.tier, rule.kind))
    found = [registry.get(code) for code in rule.agencies or []]
    if spec.performed_by is None and spec.agency is not None and found == [None]:
        legacy = spec.agency
        return (Agency(code=legacy.code, name={"vi": legacy.name["vi"], "en": legacy.name.get("en") or legacy.name["vi"]},
                       tier=legacy.tier, kind="", parent=None, province_code=registry.province_code, commune_code=None,
                       address={}, hours={}, phone=""),)
    return tuple(a for a in found if a is not None)


def lint_performers(spec: Any, registry: AgencyRegistry) -> list[tuple[tuple[Any, ...], str, str]]:
    """What is wrong with who performs `spec`, as (location in the spec, severity, message):
    every code checked against the registry (with did you mean), a tier with no office."""
    from motcua.spec.loader import did_you_mean

    out: list[tuple[tuple[Any, ...], str, str]] = []
    offices = {a.code for a in performers(spec, registry)}
    for i, rule in enumerate(spec.fees):
        for code in rule.by_agency:
            if code not in offices:
                out.append((("fees", i, "by_agency", code), "error",
                             say("{code} không thực hiện thủ tục này: `by_agency` chỉ nêu các cơ quan thực hiện{hint}",
                                 code=code, hint=did_you_mean(code, sorted(offices)))))
    if spec.performed_by is None:
        assert spec.agency is not None
        where = say(" (danh mục {version})", version=registry.version)
        if spec.agency.code in registry:
            out.append((("agency",), "warning", say("`agency` là khóa cũ: hãy viết `performed_by: {code}`", code=spec.agency.code)))
        else:
            out.append((("agency", "code"), "warning", say("`agency` là khóa cũ và {code} không có trong danh mục cơ quan{where}: cơ quan được lấy từ đặc tả; "
                            "hãy viết `performed_by` với các mã trong danh mục", code=spec.agency.code, where=where)))
        return out
    rule = spec.performed_by
    if rule.tier is not None:
        if not registry.of(rule.tier, rule.kind):
            kinds = sorted({a.kind for a in registry.of(rule.tier)})
            what = say("cấp {tier}", tier=rule.tier) + (say(", loại {kind}", kind=rule.kind) if rule.kind else "")
            hint = did_you_mean(rule.kind, kinds) if rule.kind else ""
            out.append((("performed_by", "kind" if rule.kind else "tier"), "error",
                        say("danh mục cơ quan không có cơ quan nào thuộc {what}{hint} (các loại của cấp này: {kinds})", what=what, hint=hint, kinds=', '.join(kinds) or say("không có"))))
        return out
    seen: set[str] = set()
    for i, code in enumerate(rule.agencies or []):
        if code in seen:
            out.append((("performed_by", "agencies", i), "error", say("{code} được liệt kê hai lần", code=code)))
        seen.add(code)
        if code not in registry:
            out.append((("performed_by", "agencies", i), "error",
                        say("mã cơ quan {code} không tồn tại (không có trong danh mục cơ quan){hint}", code=code, hint=did_you_mean(code, registry.codes()))))
    return out
