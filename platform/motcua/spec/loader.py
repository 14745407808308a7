"""Reading a spec file into a `ProcedureSpec`, with a real line and column for every problem.

An administrator fixes a spec from the linter's output alone, so every problem names the
place in the file and says in plain words what was expected and what was found. The YAML is
composed node by node to keep each value's position (`SourceMap`); pydantic's error
locations are then mapped back onto those positions. Nothing here raises for a bad file.
"""

from __future__ import annotations

import difflib
import json
import re
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Literal, Union

import yaml
from pydantic import BaseModel, ValidationError

from motcua.i18n import N_
from motcua.spec.model import ProcedureSpec, StepRef
from motcua.spec.words import say

MAX_SPEC_BYTES = 1_000_000

Severity = Literal["error", "warning"]
Loc = tuple[Any, ...]


@dataclass(frozen=True)
class Finding:
    """One problem in one file, at a 1-based line and column."""

    path: str
    line: int
    col: int
    severity: Severity
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.severity}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "col": self.col, "severity": self.severity, "message": self.message}


class SourceMap:
    """Where each value (and each mapping key) of a parsed file sits: data path -> (line, col)."""

    def __init__(self) -> None:
        self.values: dict[Loc, tuple[int, int]] = {}
        self.keys: dict[Loc, tuple[int, int]] = {}
        #: The text of each unquoted scalar that starts like a number (`8.000` is the float
        #: 8.0 once parsed; its written form is what tells a thousands separator apart).
        self.plain: dict[Loc, str] = {}
        #: `{vi: Bản án, quyết định}`: plain text with a comma inside a flow mapping, which
        #: YAML reads as a key without a value. (mapping loc, mapping node, runs of (the key
        #: whose text was cut, its value node, the keys made of the rest)).
        self.flow_commas: list[tuple[Loc, Any, list[tuple[Any, Any, list[Any]]]]] = []

    def _known(self, loc: Iterable[Any]) -> Loc:
        """The longest prefix of `loc` that names a node in the file."""
        known: Loc = ()
        for part in loc:
            if known + (part,) in self.values:
                known = known + (part,)
            elif isinstance(part, str) and part.isdigit() and known + (int(part),) in self.values:
                known = known + (int(part),)
            else:
                break
        return known

    def value(self, loc: Iterable[Any]) -> tuple[int, int]:
        return self.values.get(self._known(loc), (1, 1))

    def key(self, loc: Iterable[Any]) -> tuple[int, int]:
        """The position of the key naming `loc` (its value's when there is no key)."""
        known = self._known(loc)
        return self.keys.get(known) or self.values.get(known, (1, 1))

    def has(self, loc: Iterable[Any]) -> bool:
        loc = tuple(loc)
        return self._known(loc) == loc


@dataclass
class Loaded:
    """A file read as far as it goes: its data, positions, model and findings so far."""

    path: str
    spec: ProcedureSpec | None
    findings: list[Finding] = field(default_factory=list)
    data: Any = None
    source: SourceMap = field(default_factory=SourceMap)

    @property
    def ok(self) -> bool:
        return self.spec is not None and not any(f.severity == "error" for f in self.findings)

    def at(self, loc: Iterable[Any], severity: Severity, message: str, *, key: bool = False) -> Finding:
        line, col = self.source.key(loc) if key else self.source.value(loc)
        finding = Finding(self.path, line, col, severity, message)
        self.findings.append(finding)
        return finding


# --- reading and parsing --------------------------------------------------------------------


def _mark(mark: yaml.Mark) -> tuple[int, int]:
    return mark.line + 1, mark.column + 1


def _map_nodes(loader: Any, node: yaml.Node, loc: Loc, source: SourceMap, duplicates: list[tuple[Loc, tuple[int, int]]], stack: frozenset[int]) -> None:
    """Record the position of `node` and everything under it (before construction)."""
    source.values.setdefault(loc, _mark(node.start_mark))
    if id(node) in stack:  # a recursive alias
        return
    stack = stack | {id(node)}
    if isinstance(node, yaml.MappingNode):
        if node.flow_style:
            _flow_commas(loader, node, loc, source)
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                continue
            key = loader.construct_object(key_node)
            try:
                hash(key)
            except TypeError:
                continue
            if key in seen:
                duplicates.append((loc + (key,), _mark(key_node.start_mark)))
                continue
            seen.add(key)
            source.keys[loc + (key,)] = _mark(key_node.start_mark)
            _map_nodes(loader, value_node, loc + (key,), source, duplicates, stack)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _map_nodes(loader, item, loc + (index,), source, duplicates, stack)
    elif isinstance(node, yaml.ScalarNode) and not node.style and node.value[:1].isdigit():  # plain: None or ""
        source.plain[loc] = node.value


def _flow_commas(loader: Any, node: yaml.MappingNode, loc: Loc, source: SourceMap) -> None:
    """Find `{vi: a, b, en: c}`: a key with no `:` after a plain value (the comma cut it)."""
    runs: list[tuple[Any, Any, list[Any]]] = []
    previous: tuple[Any, Any] | None = None
    for key_node, value_node in node.value:
        implicit = (
            isinstance(key_node, yaml.ScalarNode) and not key_node.style
            and isinstance(value_node, yaml.ScalarNode) and value_node.tag == "tag:yaml.org,2002:null"
            and value_node.value == "" and value_node.start_mark.index == key_node.end_mark.index
        )
        if implicit and previous is not None:
            if runs and runs[-1][2] and runs[-1][2][-1] is previous[2]:
                runs[-1][2].append(key_node)
            else:
                runs.append((previous[0], previous[1], [key_node]))
            previous = (previous[0], previous[1], key_node)
            continue
        plain = isinstance(value_node, yaml.ScalarNode) and not value_node.style and isinstance(key_node, yaml.ScalarNode)
        previous = (loader.construct_object(key_node), value_node, None) if plain else None
    if runs:
        source.flow_commas.append((loc, node, runs))


def explain_flow_commas(text: str, data: Any, source: SourceMap) -> list[tuple[int, int, str]]:
    """One finding per flow mapping whose text was cut by a comma, with the mapping rewritten
    with quotes; `data` is mended to what the author meant, so the rest of the checks go on."""
    found: list[tuple[int, int, str]] = []
    for loc, node, runs in source.flow_commas:
        start = node.start_mark.index
        fixed = text[start : node.end_mark.index]
        target: Any = data
        for part in loc:
            target = target[part] if isinstance(target, (dict, list)) else None
        for key, value_node, strays in reversed(runs):
            raw = text[value_node.start_mark.index : strays[-1].end_mark.index]
            quoted = '"' + raw.replace("\\", "\\\\").replace('"', '\\"') + '"'
            fixed = fixed[: value_node.start_mark.index - start] + quoted + fixed[strays[-1].end_mark.index - start :]
            if isinstance(target, dict):
                target[key] = raw
                for stray in strays:
                    target.pop(stray.value, None)
        key, value_node, _ = runs[0]
        line, col = _mark(value_node.start_mark)
        where = dotted(loc + (key,))
        found.append((line, col, say("văn bản của `{where}` chứa dấu phẩy, mà dấu phẩy kết thúc một giá trị bên trong `{{...}}`, nên YAML đã cắt văn bản tại đó; hãy đặt văn bản trong dấu ngoặc kép: `{fixed}`", where=where, fixed=fixed)))
    return found


FastLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> tuple[Any, SourceMap, list[tuple[Loc, tuple[int, int]]]]:
    """The data of a one-document YAML text, its positions and its duplicate keys.

    libyaml's loader when available (the catalogue lints every spec at start-up); a syntax
    error is read again with PyYAML's own loader, whose messages say more."""
    if FastLoader is yaml.SafeLoader or _flow_depth(text) > MAX_FLOW_DEPTH:
        # libyaml's composer recurses in C and crashes the process on `[[[[...`; PyYAML's
        # raises RecursionError instead, which becomes a finding.
        return _parse_yaml(text, yaml.SafeLoader)
    try:
        return _parse_yaml(text, FastLoader)
    except ExpansionTooLarge:
        raise  # not a syntax error: PyYAML's loader would only say it again, slower
    except yaml.MarkedYAMLError:
        return _parse_yaml(text, yaml.SafeLoader)


MAX_FLOW_DEPTH = 100
_BRACKETS = re.compile(r"[\[\]{}]")


def _flow_depth(text: str) -> int:
    """How deep `[`/`{` nest (roughly: quotes are not skipped, which only overestimates)."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(text):
        depth = depth + 1 if match.group() in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest


#: How many values a spec may hold once its aliases (`*name`) are expanded. Specs repeat a
#: small block with an anchor (a fee per copy, an exemption list); a few hundred nested
#: aliases ("billion laughs") would otherwise expand a 400-byte text into gigabytes.
MAX_EXPANDED_NODES = 200_000


class ExpansionTooLarge(yaml.MarkedYAMLError):
    """Aliases expand the document past MAX_EXPANDED_NODES; the mark is where."""


def _children(node: yaml.Node) -> list[yaml.Node]:
    """A mapping's keys and values, a sequence's items, a scalar's nothing."""
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _expanded_sizes(node: yaml.Node, sizes: dict[int, int], stack: frozenset[int]) -> int:
    """How many nodes `node` stands for once aliases are expanded, each shared node counted
    once per use but computed once (so the check itself stays linear in the text)."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in stack:  # a recursive alias: _map_nodes stops there too
        return 1
    stack = stack | {key}
    children = _children(node)
    total = 1
    for child in children:
        total += _expanded_sizes(child, sizes, stack)
        if total > MAX_EXPANDED_NODES:
            break
    sizes[key] = total
    return total


def _check_expansion(node: yaml.Node) -> None:
    """Refuse a document whose aliases expand past MAX_EXPANDED_NODES, naming the line of
    the smallest value that alone goes over (where the multiplying aliases are)."""
    sizes: dict[int, int] = {}
    if _expanded_sizes(node, sizes, frozenset()) <= MAX_EXPANDED_NODES:
        return
    while True:
        over = next((c for c in _children(node) if sizes.get(id(c), 0) > MAX_EXPANDED_NODES), None)
        if over is None or over is node:
            break
        node = over
    raise ExpansionTooLarge(
        problem=say("các alias YAML (`*name`) ở đây mở rộng thành hơn {limit} giá trị; đặc tả dùng anchor để lặp lại một khối nhỏ, "
                    "không phải để nhân bản nó (hãy viết các giá trị ra)", limit=format(MAX_EXPANDED_NODES, ",")),
        problem_mark=node.start_mark,
    )


def _parse_yaml(text: str, loader_class: Any) -> tuple[Any, SourceMap, list[tuple[Loc, tuple[int, int]]]]:
    loader = loader_class(text)
    source = SourceMap()
    duplicates: list[tuple[Loc, tuple[int, int]]] = []
    try:
        node = loader.get_single_node()
        if node is None:
            return None, source, duplicates
        _check_expansion(node)
        _map_nodes(loader, node, (), source, duplicates, frozenset())
        return loader.construct_document(node), source, duplicates
    finally:
        loader.dispose()


def _line_text(text: str, line: int) -> str:
    lines = text.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else ""


def _line_above(text: str, line: int) -> str:
    """The nearest line above `line` that holds something (not blank, not only a comment)."""
    lines = text.splitlines()
    for index in range(min(line - 1, len(lines)) - 1, -1, -1):
        if lines[index].strip() and not lines[index].strip().startswith("#"):
            return lines[index]
    return ""


def yaml_problem(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, int, str]:
    """Position and plain-words message for a YAML syntax error."""
    problem = exc.problem or ""
    context = exc.context or ""
    if isinstance(exc, ExpansionTooLarge) and exc.problem_mark:
        return (*_mark(exc.problem_mark), problem)
    mark = exc.problem_mark or exc.context_mark
    line, col = _mark(mark) if mark else (1, 1)
    here = _line_text(text, line)
    if "'\\t'" in problem:
        if not here[: col - 1].strip():
            return line, col, say("ký tự tab được dùng để thụt lề; YAML chỉ thụt lề bằng dấu cách (hãy thay tab bằng dấu cách)")
        return line, col, say("không được dùng ký tự tab ở đây; hãy dùng dấu cách")
    if "could not find expected ':'" in problem and exc.context_mark:
        line, col = _mark(exc.context_mark)
        start = _line_text(text, line)[col - 1 :].strip()
        word = start.split()[0] if start.split() else start
        return line, col, say("thiếu `:` sau `{word}`; hãy viết `khóa: giá trị` (dấu hai chấm và một dấu cách sau khóa)", word=word)
    if "expected <block end>" in problem or "expected <block mapping start>" in problem:
        return line, col, say("thụt lề của dòng này không khớp với các dòng phía trên (mỗi cấp hãy thụt lề cùng một số dấu cách)")
    if "mapping values are not allowed here" in problem:
        above = _line_above(text, line)
        indent, above_indent = len(here) - len(here.lstrip(" ")), len(above) - len(above.lstrip(" "))
        if above and indent > above_indent and re.match(r"^\s*[^\s#:][^:#]*:\s+[^\s#]", above) and ": " not in here[: indent]:
            return line, indent + 1, (
                say("dòng này thụt lề sâu hơn dòng trên (`{above}`), dòng trên đã có giá trị, nên YAML đọc dòng này là phần tiếp của "
                    "giá trị đó; hãy thụt lề {indent} dấu cách như dòng trên", above=above.strip(), indent=above_indent)
            )
        return line, col, say("dấu `:` không hợp lệ ở đây; nếu giá trị có dấu hai chấm, hãy đặt cả giá trị trong dấu ngoặc kép")
    if "found unexpected end of stream" in problem and "quoted scalar" in context and exc.context_mark:
        line, col = _mark(exc.context_mark)
        return line, col, say("văn bản trong ngoặc kép bắt đầu từ đây chưa được đóng (hãy thêm dấu ngoặc kép đóng)")
    if "found undefined alias" in problem:
        return line, col, say("alias không xác định: {alias} không có `&anchor` tương ứng", alias=problem.split('alias', 1)[1].strip())
    if "expected a single document" in context + problem:
        return line, col, say("mỗi tệp đặc tả chỉ chứa một tài liệu; hãy bỏ dấu `---` thứ hai")
    if "could not determine a constructor for the tag" in problem:
        return line, col, say("thẻ YAML {tag} không được hỗ trợ; đặc tả không dùng thẻ", tag=problem.rsplit(' ', 1)[-1])
    where = ""
    if exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
        where = say(" (bắt đầu ở dòng {line})", line=exc.context_mark.line + 1)
    detail = f"{context}: {problem}" if context else problem or str(exc)
    return line, col, say("lỗi cú pháp YAML, {detail}{where}", detail=detail, where=where)


def read_spec(path: str | Path) -> Loaded:
    """Read and parse one file into data and positions; the model is not built here."""
    path = Path(path)
    name = str(path)
    loaded = Loaded(name, None)
    try:
        size = path.stat().st_size
        if size > MAX_SPEC_BYTES:
            loaded.at((), "error", say("tệp có dung lượng {size} MB, vượt giới hạn {limit} MB; một đặc tả chỉ là vài kilobyte văn bản (có phải một tệp dữ liệu bị lưu nhầm vào đây?)", size=format(size / 1_000_000, ".1f"), limit=MAX_SPEC_BYTES // 1_000_000))
            return loaded
        raw = path.read_bytes()
    except OSError as exc:
        loaded.at((), "error", say("không đọc được tệp: {reason}", reason=exc.strerror or exc))
        return loaded
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        loaded.findings.append(Finding(name, line, 1, "error", say("tệp không phải văn bản UTF-8; hãy lưu lại dưới dạng UTF-8")))
        return loaded
    if path.suffix == ".json":
        try:
            loaded.data = json.loads(text)
        except json.JSONDecodeError as exc:
            loaded.findings.append(Finding(name, exc.lineno, exc.colno, "error", say("lỗi cú pháp JSON: {detail}", detail=exc.msg)))
            return loaded
        try:  # JSON is YAML: compose it again just for the positions
            _, loaded.source, _ = parse_yaml(text)
        except Exception:  # noqa: BLE001 - positions are a nicety for JSON; 1:1 otherwise
            loaded.source = SourceMap()
        return loaded
    try:
        loaded.data, loaded.source, duplicates = parse_yaml(text)
    except yaml.MarkedYAMLError as exc:
        line, col, message = yaml_problem(exc, text)
        loaded.findings.append(Finding(name, line, col, "error", message))
        return loaded
    except yaml.YAMLError as exc:
        loaded.at((), "error", say("lỗi cú pháp YAML: {detail}", detail=exc))
        return loaded
    except RecursionError:
        loaded.at((), "error", say("tệp lồng danh sách hoặc ánh xạ sâu hàng trăm cấp; đặc tả không bao giờ cần như vậy"))
        return loaded
    for line, col, message in explain_flow_commas(text, loaded.data, loaded.source):
        loaded.findings.append(Finding(name, line, col, "error", message))
    for loc, (line, col) in duplicates:
        loaded.findings.append(Finding(name, line, col, "error", say("khóa `{key}` xuất hiện hai lần trong {where}; chỉ khóa cuối cùng được tính", key=loc[-1], where=named(loc[:-1]))))
    return loaded


# --- model validation, in words -------------------------------------------------------------


def named(loc: Iterable[Any], root: str | None = None) -> str:
    """A place as a message names it: `` `info.processing_time` ``, or plain "đặc tả" ("the spec") at the top."""
    path = dotted(loc)
    return f"`{path}`" if path else root or say("đặc tả")


def dotted(loc: Iterable[Any]) -> str:
    """`('form', 'pages', 0, 'title')` -> `form.pages[0].title`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _strip(annotation: Any) -> Any:
    """Drop Annotated and Optional wrappers."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _field_of(model: type[BaseModel], key: str) -> Any:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info
    return None


def annotation_at(loc: Iterable[Any], root: type[BaseModel] = ProcedureSpec) -> Any:
    """The type expected at `loc` in the model, or None when the path leaves the model."""
    current: Any = root
    for part in loc:
        current = _strip(current)
        origin = typing.get_origin(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = _field_of(current, part) if isinstance(part, str) else None
            if info is None:
                return None
            current = info.annotation
        elif origin is list and isinstance(part, int):
            current = typing.get_args(current)[0]
        elif origin is dict:
            if part == "[key]":
                return typing.get_args(current)[0]
            current = typing.get_args(current)[1]
        else:
            return None
    return _strip(current)


def allowed_keys(annotation: Any) -> list[str]:
    annotation = _strip(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [info.alias or name for name, info in annotation.model_fields.items()]
    return []


def did_you_mean(word: Any, choices: Iterable[Any]) -> str:
    """`; did you mean `x`?` when a choice is close to `word`, else ``."""
    choices = [str(c) for c in choices]
    close = difflib.get_close_matches(str(word).lower(), [c.lower() for c in choices], n=1, cutoff=0.6)
    if not close:
        return ""
    original = next(c for c in choices if c.lower() == close[0])
    return say("; ý bạn là `{name}`?", name=original)


def describe_value(value: Any) -> str:
    """What the administrator wrote, in words."""
    if value is None:
        return say("để trống (không có gì sau dấu hai chấm)")
    if isinstance(value, bool):
        return say("giá trị có/không `{value}`", value=str(value).lower())
    if isinstance(value, (int, float)):
        return say("số {value}", value=value)
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return say('văn bản "{text}"', text=shown)
    if isinstance(value, dict):
        return say("một ánh xạ các khóa")
    if isinstance(value, list):
        return say("một danh sách")
    return say("một giá trị kiểu {kind}", kind=type(value).__name__)


def _is_ltext(annotation: Any) -> bool:
    return typing.get_origin(annotation) is dict and typing.get_args(annotation)[1] is str and typing.get_origin(typing.get_args(annotation)[0]) is Literal


PATTERN_HINTS = {
    "code": N_("mã thủ tục dạng 1.001193 (theo Cơ sở dữ liệu quốc gia về thủ tục hành chính)"),
    "id": N_("chữ thường, chữ số và `_`, bắt đầu bằng chữ cái, ví dụ `giay_chung_sinh`"),
    "name": N_("chữ thường, chữ số, `.`, `_` hoặc `-`, ví dụ `payment`"),
}


#: A pydantic bound's comparison, in words (translated where shown).
BOUND_WORDS = {"greater_than_equal": N_("ít nhất"), "greater_than": N_("lớn hơn"), "less_than_equal": N_("nhiều nhất"),
               "less_than": N_("nhỏ hơn")}
#: What a pydantic error type wanted, in words (translated where shown).
EXPECTED = {
    "string_type": N_("một đoạn văn bản"),
    "int_type": N_("một số nguyên"),
    "int_parsing": N_("một số nguyên"),
    "int_from_float": N_("một số nguyên (không có phần thập phân)"),
    "float_type": N_("một số"),
    "float_parsing": N_("một số"),
    "bool_type": N_("có/không (true hoặc false)"),
    "bool_parsing": N_("có/không (true hoặc false)"),
    "dict_type": N_("một ánh xạ gồm các dòng `khóa: giá trị`"),
    "model_type": N_("một ánh xạ gồm các dòng `khóa: giá trị`"),
    "model_attributes_type": N_("một ánh xạ gồm các dòng `khóa: giá trị`"),
    "list_type": N_("một danh sách (các dòng bắt đầu bằng `- `)"),
}


def _expected(annotation: Any, error: dict[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if _is_ltext(annotation):
        return say("một đoạn văn bản (hoặc văn bản `vi:` và `en:`)")
    if annotation is StepRef:
        return say("tên một bước, hoặc một ánh xạ có `name:` và `config:`")
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return say("một trong {choices} (hoặc info, forms, partial, full; hoặc mức độ 1 đến 4)", choices=", ".join(str(m.value) for m in annotation))
    if typing.get_origin(annotation) is Literal:
        return say("một trong {choices}", choices=", ".join(str(a) for a in typing.get_args(annotation)))
    if kind == "string_too_short":
        return say("một đoạn văn bản ít nhất {n} ký tự", n=ctx.get("min_length"))
    if kind == "string_too_long":
        return say("một đoạn văn bản nhiều nhất {n} ký tự", n=ctx.get("max_length"))
    word = EXPECTED.get(kind)
    return say(word) if word else ""


def explain(error: dict[str, Any], root: type[BaseModel] = ProcedureSpec, top: str | None = None) -> tuple[Loc, bool, str]:
    """(location, whether to point at the key, message) for one pydantic error.

    `root` is the model the error's location starts from (a step's `Config` for a step's
    config, an agency registry's models); `top` names the whole in messages."""
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if loc and loc[-1] == "[key]":
        parent = loc[:-2]
        choices = typing.get_args(annotation_at(loc[:-1] + ("[key]",), root) or Any)
        if _is_ltext(annotation_at(parent, root)):
            return loc[:-1], True, say("`{where}` chỉ nhận văn bản `vi` và `en`, không nhận `{key}`{hint}", where=dotted(parent), key=loc[-2], hint=did_you_mean(loc[-2], choices))
        return loc[:-1], True, say("`{key}` không phải khóa được phép trong `{where}`", key=loc[-2], where=dotted(parent)) + (say(" (được phép: {keys})", keys=', '.join(map(str, choices))) if choices else "")
    top = top or (say("đặc tả") if root is ProcedureSpec else say("cấu hình"))
    where = named(loc, top)
    annotation = annotation_at(loc, root)
    if kind == "missing":
        return loc[:-1], True, say("{where} thiếu khóa bắt buộc `{key}`", where=named(loc[:-1], top), key=loc[-1])
    if kind == "extra_forbidden":
        choices = allowed_keys(annotation_at(loc[:-1], root))
        hint = did_you_mean(loc[-1], choices) or (say("; các khóa được phép ở đây: {keys}", keys=', '.join(choices)) if choices else "")
        return loc, True, say("khóa `{key}` không hợp lệ trong {where}{hint}", key=loc[-1], where=named(loc[:-1], top), hint=hint)
    if kind == "string_pattern_mismatch":
        hint = PATTERN_HINTS.get(str(loc[-1])) if loc[:1] != ("agency",) else N_("mã cơ quan dạng 000.06.50.H15 (QCVN 102:2016)")
        wanted = say(hint) if hint else say("văn bản khớp mẫu {pattern}", pattern=ctx.get("pattern", ""))
        return loc, False, say("{where} phải là {wanted}, nhưng giá trị là {value}", where=where, wanted=wanted, value=describe_value(value))
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        words = say(BOUND_WORDS[kind])
        bound = next(iter(ctx.values()), "")
        return loc, False, say("{where} phải {words} {bound}, nhưng giá trị là {value}", where=where, words=words, bound=bound, value=describe_value(value))
    if kind == "too_short":
        return loc, False, say("{where} phải có ít nhất {n} mục, nhưng đang để trống", where=where, n=ctx.get('min_length'))
    if kind == "too_long":
        return loc, False, say("{where} chỉ được có nhiều nhất {n} mục", where=where, n=ctx.get('max_length'))
    if kind in ("value_error", "assertion_error"):
        message = str(ctx.get("error") or error["msg"]).removeprefix("Value error, ")
        return loc, False, f"{where}: {message}"
    if kind in ("literal_error", "enum"):
        choices: list[Any] = []
        if typing.get_origin(annotation) is Literal:
            choices = list(typing.get_args(annotation))
        elif isinstance(annotation, type) and issubclass(annotation, Enum):
            choices = ["info", "forms", "partial", "full"]
        return loc, False, say("{where} phải là {wanted}, nhưng giá trị là {value}{hint}", where=where, wanted=_expected(annotation, error), value=describe_value(value), hint=did_you_mean(value, choices))
    expected = _expected(annotation, error)
    if expected:
        return loc, False, say("{where} phải là {wanted}, nhưng giá trị là {value}", where=where, wanted=expected, value=describe_value(value))
    return loc, False, say("{where}: {detail} (giá trị là {value})", where=where, detail=error['msg'], value=describe_value(value))


def validation_findings(loaded: Loaded, exc: ValidationError, prefix: Loc = (), label: str = "", skip: Iterable[Loc] = ()) -> None:
    """Add one finding per pydantic error, at the position of the value it is about
    (except at `skip`: values a more precise finding already explains)."""
    skip = set(skip)
    for error in exc.errors(include_url=False):
        if tuple(error["loc"]) in skip:
            continue
        loc, at_key, message = explain(error)
        loaded.at(prefix + loc, "error", label + message, key=at_key)


def load_file(path: str | Path) -> Loaded:
    """Read one file and build its model; syntax and shape problems become findings.

    This checks the shape only; `motcua.spec.lint.lint_file` adds the cross-checks (field
    references, levels, steps) and is what the catalogue and `motcua lint` use.
    """
    loaded = read_spec(path)
    if any(f.severity == "error" for f in loaded.findings) or (loaded.data is None and loaded.findings):
        return loaded
    if not isinstance(loaded.data, dict):
        holds = say("không có gì") if loaded.data is None else describe_value(loaded.data)
        loaded.at((), "error", say("đặc tả là một ánh xạ các khóa (`code:`, `name:`, `level:` ...), nhưng tệp này chứa {holds}", holds=holds))
        return loaded
    from motcua.spec.money import grouped_amounts  # it reads positions with this module's helpers

    explained = grouped_amounts(loaded)
    try:
        loaded.spec = ProcedureSpec.model_validate(loaded.data)
    except ValidationError as exc:
        validation_findings(loaded, exc, skip=explained)
    return loaded
