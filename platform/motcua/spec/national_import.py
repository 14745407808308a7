"""A procedure's published record in the national procedure database, read into a draft spec.

The National Public Service Portal publishes each procedure (Cơ sở dữ liệu quốc gia về thủ
tục hành chính) under fixed headings: Mã thủ tục, Tên thủ tục, Cấp thực hiện, Lĩnh vực,
Trình tự thực hiện, Cách thức thực hiện (a table of in person / online / postal, each with
its own time limit and fees), Thành phần hồ sơ (components with original and copy counts),
Đối tượng thực hiện, Cơ quan thực hiện, Kết quả thực hiện, Căn cứ pháp lý (a table of
number, summary, date, issuer), Yêu cầu, điều kiện thực hiện. An administrator copies that
page as text; `read_record` turns it into the spec's YAML with everything but the form's
fields, so the author starts from the published record instead of retyping it.

Nothing is guessed silently: every line the reader did not use is a `Note` with its line
number, and what it had to guess (the service level, who performs it, amounts that depend on
who files) is a note too, written at the top of the YAML as comments. Pure: text in, text and
notes out; the studio (motcua.web.studio) and `motcua spec import` present the notes.

Note messages are Vietnamese source strings with `{placeholders}`, marked with `N_` for
`pybabel extract`; the caller translates them (`motcua.i18n._(note.message, **note.params)`),
since this package sits below motcua.i18n.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml


def N_(text: str) -> str:  # noqa: N802 (gettext's own name for it)
    """Marks a message for `pybabel extract`; translated by the caller."""
    return text


#: Each heading of the published record -> the section it starts (longest label first when
#: matched). Sections mapped to None are read and left out of the spec on purpose (a note
#: says so when they carry information).
HEADINGS: dict[str, str | None] = {
    "mã thủ tục": "code",
    "số quyết định": "decision",
    "tên thủ tục": "name",
    "cấp thực hiện": "tier",
    "loại thủ tục": "kind",
    "lĩnh vực": "sector",
    "trình tự thực hiện": "steps",
    "cách thức thực hiện": "channels",
    "thời hạn giải quyết": "time",
    "phí, lệ phí": "fees",  # not "lệ phí" alone: a fee cell broken over lines starts with it
    "thành phần hồ sơ": "components",
    "đối tượng thực hiện": "filers",
    "cơ quan thực hiện": "agency",
    "kết quả thực hiện": "result",
    "căn cứ pháp lý": "legal_basis",
    "yêu cầu, điều kiện thực hiện": "conditions",
    "yêu cầu, điều kiện": "conditions",
    "điều kiện thực hiện": "conditions",
    "từ khóa": "keywords",
    "mô tả": "description",
    "mức độ": "level",
    "cơ quan có thẩm quyền": None,
    "địa chỉ tiếp nhận hs": None,
    "địa chỉ tiếp nhận hồ sơ": None,
    "cơ quan được ủy quyền": None,
    "cơ quan phối hợp": None,
}
#: A heading at the start of a stripped line; what follows it on the line is `line[end:]`.
_HEADING = re.compile(
    "(" + "|".join(re.escape(h) for h in sorted(HEADINGS, key=len, reverse=True)) + r")\s{0,40}(?::|\t|$)",
    re.IGNORECASE,
)
NO_INFO = {"", "không có thông tin", "không", "không có", "không quy định"}

CHANNEL_WORDS = (("trực tiếp", "desk"), ("trực tuyến", "online"), ("bưu chính", "postal"))
CHANNEL_ORDER = ("online", "desk", "postal")
TIERS = {"xã": "commune", "tỉnh": "province", "huyện": "district", "bộ": "ministry", "trung ương": "ministry"}
#: The office's kind in the agency registry, from words of "Cơ quan thực hiện".
AGENCY_KINDS = (("công an", "cong-an"), ("ủy ban nhân dân", "ubnd"), ("uỷ ban nhân dân", "ubnd"), ("sở ", "so"))
# Every expression below is searched over text an administrator pasted, so each repetition has
# an upper bound: the work at each position of a line is then bounded, and reading a record
# is linear in its length (an unbounded `.*?` between two words made a long line quadratic;
# tests/test_national_import_limits.py checks the bounds). Numbers are ASCII digits, `[0-9]`
# and not `\d` (which takes Arabic-Indic and full-width digits, and `int()` reads them), and
# never cut short: `(?<![0-9])` and `(?![0-9])` around a bounded run.
DOCUMENT_NUMBER = re.compile(r"(?<![0-9])[0-9]{1,4}/[0-9]{4}/[0-9A-Za-zĐđ\-]{1,40}|(?<![0-9])[0-9]{1,4}/[A-ZĐ][0-9A-Za-zĐđ\-]{1,40}")
FEE_ITEM = re.compile(
    r"(lệ phí|phí)\s{0,10}(?::\s{0,10})?([0-9][0-9.,]{0,40})(?![0-9.,])\s{0,10}(?:đồng|vnđ|vnd|đ)\b\s{0,10}(?:\(([^)]{0,300})\))?",
    re.IGNORECASE,
)
COUNT = re.compile(r"bản chính\s{0,10}(?::\s{0,10})?([0-9]{1,3})(?![0-9]).{0,40}?bản sao\s{0,10}(?::\s{0,10})?([0-9]{1,3})(?![0-9])", re.IGNORECASE)
DAYS = re.compile(r"(?<![0-9])([0-9]{1,4})(?![0-9])\s{0,10}\(?[^()0-9]{0,12}\)?\s{0,10}(ngày làm việc|ngày)", re.IGNORECASE)
#: A channel's description that extends its limit: "Thời hạn không quá 15 ngày trong trường hợp ...".
LONGEST = re.compile(r"không quá\s{1,10}([0-9]{1,4})(?![0-9])\s{0,10}ngày", re.IGNORECASE)
PRESENCE = re.compile(r"phải có mặt|có mặt tại|trực tiếp ký|cùng có mặt", re.IGNORECASE)
#: A bullet at the start of a stripped line (what follows is stripped by the caller).
BULLET = re.compile(r"(?:[-+•*–]|bước\s{0,10}[0-9]{1,3}\s{0,10}[:.\-]|[0-9]{1,3}[.)]\s|[a-zđ]\)\s)", re.IGNORECASE)
#: A procedure code in the record (mã thủ tục, with a local suffix or not).
CODE = re.compile(r"(?<![0-9])[0-9]\.[0-9]{6}(?:\.[0-9A-Za-z]{1,20}){0,5}(?![0-9A-Za-z])")
TIER_WORD = re.compile(r"\b(?:" + "|".join(re.escape(word) for word in TIERS) + r")\b")
CELL_SEPARATOR = re.compile(r"\t{1,50}| \| |^\||\|$")
DATE = re.compile(r"(?<![0-9])([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4})(?![0-9])")
SLUG_WORD = re.compile(r"[a-z0-9]{1,32}")
FILER_CITIZEN = re.compile(r"công dân|cá nhân|người nước ngoài|người việt nam")
FILER_BUSINESS = re.compile(r"doanh nghiệp|tổ chức|hợp tác xã|hộ kinh doanh")
#: The longest amount read, in digits (999 billion VND); a longer one is a note, not a fee.
MAX_AMOUNT_DIGITS = 12
#: The longest record and line the reader takes: a record is a few pages (5-30 kB), a line a
#: paragraph; anything longer was pasted by mistake (a whole file, a binary).
MAX_RECORD_CHARS = 100_000
MAX_LINE_CHARS = 5_000


@dataclass(frozen=True)
class Note:
    """Something the reader could not read, or guessed: `line` in the pasted text (0 for
    the whole record), a message (Vietnamese source, translated by the caller) and its
    parameters. `guess` notes are decisions the author should check; the others are text
    left out of the draft."""

    line: int
    message: str
    params: dict[str, Any] = field(default_factory=dict)
    guess: bool = False

    def text(self, translate: Callable[..., str] | None = None) -> str:
        """The message with its parameters, through `translate(message, **params)` if given."""
        translate = translate or (lambda message, **params: message.format(**params))
        return translate(self.message, **self.params)


class RecordRefused(ValueError):
    """A text the reader does not take (too long, a line too long): `message` (Vietnamese
    source, translated by the caller like a note's) and its parameters."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message.format(**params))
        self.message = message
        self.params = params

    def text(self, translate: Callable[..., str] | None = None) -> str:
        translate = translate or (lambda message, **params: message.format(**params))
        return translate(self.message, **self.params)


@dataclass
class Imported:
    """What the record was read into: the spec's data (no `form` yet), the notes, and the code."""

    data: dict[str, Any]
    notes: list[Note]
    code: str | None  # the record's code; None when it has none (the data then holds a placeholder)


@dataclass
class _Line:
    number: int
    text: str


# --- reading the text into sections ---------------------------------------------------------


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text).replace("\u00a0", " ")


def _cells(text: str) -> list[str]:
    """A table row as copied from the portal: cells separated by tabs (or ` | `)."""
    parts = CELL_SEPARATOR.split(text.strip())
    return [p.strip() for p in parts if p.strip()]


def _is_empty(text: str) -> bool:
    return text.strip().strip(".").strip().lower() in NO_INFO


def sections(text: str) -> tuple[dict[str, list[_Line]], list[_Line], dict[str, int]]:
    """The lines of each section (a heading's own line keeps what follows the label), the
    lines before any heading, and the line of each heading."""
    found: dict[str, list[_Line]] = {}
    where: dict[str, int] = {}
    before: list[_Line] = []
    current = "?"  # before the first heading
    for number, raw in enumerate(_norm(text).splitlines(), start=1):
        match = _HEADING.match(raw.strip())
        if match and not _looks_like_table_header(raw):
            label = match.group(1).lower()
            key = HEADINGS[label]
            if key is None:  # read, and left out of the spec (a note says so)
                key = f"-{match.group(1)}"
            current = key
            where.setdefault(key, number)
            found.setdefault(key, [])
            rest = raw.strip()[match.end():].strip()
            if rest:
                found[key].append(_Line(number, rest))
            continue
        if not raw.strip():
            continue
        if current == "?":
            before.append(_Line(number, raw.strip()))
        else:
            found[current].append(_Line(number, raw.rstrip()))
    return found, before, where


def _looks_like_table_header(raw: str) -> bool:
    cells = _cells(raw)
    return len(cells) > 1 and cells[0].lower() in {"thời hạn giải quyết", "phí, lệ phí", "mô tả"}


# --- the parts ------------------------------------------------------------------------------


def _paragraphs(lines: list[_Line]) -> list[tuple[int, str]]:
    """Bulleted items (`-`, `+`, `Bước 1:`, `1.`), a line without a bullet continuing the one above."""
    items: list[tuple[int, list[str]]] = []
    for line in lines:
        text = line.text.strip()
        if _is_empty(text):
            continue
        bullet = BULLET.match(text)
        body = text[bullet.end():].strip() if bullet else text
        if not body:
            continue
        if bullet or not items:
            items.append((line.number, [body]))
        else:  # parts joined once at the end: joining line by line is quadratic in the text
            items[-1][1].append(body)
    return [(number, " ".join(parts)) for number, parts in items]


def _one_text(lines: list[_Line]) -> str:
    return " ".join(line.text.strip() for line in lines if not _is_empty(line.text)).strip()


def parse_time(text: str) -> tuple[int, int | None, bool] | None:
    """A time limit as the record writes it -> (days, longest days or None, calendar days?).

    "Ngay trong ngày" is 0 (the same working day); "trong ngày làm việc tiếp theo" makes the
    longest 1; "10 Ngày" counts calendar days (the law's "ngày"), "05 ngày làm việc" working
    days. None when no limit can be read."""
    lower = text.lower()
    numbers = [(int(m.group(1)), m.group(2).lower()) for m in DAYS.finditer(lower)]
    same_day = "ngay trong ngày" in lower or "trong ngày làm việc" in lower and not numbers
    days = [n for n, _unit in numbers]
    if same_day:
        days = [0] + days
        if "ngày làm việc tiếp theo" in lower:
            days.append(1)
    if not days:
        return None
    calendar = bool(numbers) and all(unit == "ngày" for _n, unit in numbers)
    first, longest = days[0], max(days)
    return first, (longest if longest > first else None), calendar


def parse_fees(text: str) -> tuple[list[tuple[str, int, str]], bool]:
    """Fee items of a cell -> ([(kind, VND, note)], whether anything else was written)."""
    items = []
    for m in FEE_ITEM.finditer(text):
        if _too_long(m):
            continue  # left in the rest: the caller notes it as not read
        kind = "charge" if m.group(1).lower() == "lệ phí" else "fee"
        items.append((kind, int(m.group(2).replace(".", "").replace(",", "")), (m.group(3) or "").strip()))
    rest = FEE_ITEM.sub(lambda m: m.group(0) if _too_long(m) else "", text).strip(" ;,.\t")
    return items, bool(rest) and not _is_empty(rest) and rest.lower() not in {"miễn phí", "không thu phí"}


def _too_long(fee: re.Match[str]) -> bool:
    """Whether a fee's amount has more digits than any fee (and than `int()` should be given)."""
    return len(fee.group(2).replace(".", "").replace(",", "")) > MAX_AMOUNT_DIGITS


def _slug(text: str, words: int = 6) -> str:
    folded = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    parts = SLUG_WORD.findall(ascii_text)[:words]
    slug = "_".join(parts)[:32].rstrip("_") or "thanh_phan"
    return slug if slug[0].isalpha() else f"tp_{slug}"


def _unique(slug: str, taken: set[str]) -> str:
    candidate, n = slug, 2
    while candidate in taken:
        candidate, n = f"{slug}_{n}", n + 1
    taken.add(candidate)
    return candidate


def _date(text: str) -> str | None:
    m = DATE.search(text)
    return f"{int(m.group(1)):02d}/{int(m.group(2)):02d}/{m.group(3)}" if m else None


# --- the reader -----------------------------------------------------------------------------


class _Reader:
    """One pass over a record's sections; collects the spec's data and the notes."""

    def __init__(self, text: str) -> None:
        self.found, before, self.where = sections(text)
        self.notes: list[Note] = []
        self.data: dict[str, Any] = {}
        for line in before:
            if line.text.lower() not in {"chi tiết thủ tục hành chính", "thông tin thủ tục", "chi tiết thủ tục"}:
                self.unread(line)

    def unread(self, line: _Line, message: str = N_("không đọc được: «{text}»")) -> None:
        self.notes.append(Note(line.number, message, {"text": _short(line.text.strip())}))

    def lines(self, key: str) -> list[_Line]:
        return self.found.get(key, [])

    def single(self, key: str) -> str:
        return _one_text(self.lines(key))

    # each section

    def code(self) -> None:
        text = self.single("code")
        m = CODE.search(text)
        self.found_code = m.group(0) if m else None
        if m:
            self.data["code"] = m.group(0)
        else:
            self.notes.append(Note(self.where.get("code", 0), N_("không tìm thấy mã thủ tục (dạng 1.001193): điền `code`")))
            self.data["code"] = "0.000000"

    def names(self) -> None:
        name = self.single("name")
        name = re.sub(r"^thủ tục\s", "", name, flags=re.IGNORECASE).strip().rstrip(".")
        if not name:
            self.notes.append(Note(self.where.get("name", 0), N_("không tìm thấy tên thủ tục: điền `name`")))
            name = "?"
        self.data["name"] = name[0].upper() + name[1:]
        sector = self.single("sector")
        if not sector:
            self.notes.append(Note(self.where.get("sector", 0), N_("không tìm thấy lĩnh vực: điền `sector`")))
        self.data["sector"] = sector or "?"
        kind = self.single("kind")
        if kind:
            self.data["kind"] = kind
        decision = self.single("decision")
        if decision:
            self.data["decision"] = decision if decision.lower().startswith("quyết định") else f"Quyết định {decision}"

    def performed_by(self) -> None:
        tier_text = self.single("tier")
        agency = self.single("agency")
        words = set(TIER_WORD.findall(tier_text.lower()))
        tiers = [t for word, t in TIERS.items() if word in words]
        tier = tiers[0] if tiers else None
        line = self.where.get("tier", self.where.get("agency", 0))
        if tier == "district":
            tier = "commune"
            self.notes.append(Note(line, N_("cấp huyện không còn từ 01/7/2025: đã chọn cấp xã; kiểm tra lại `performed_by`"), guess=True))
        elif tier == "ministry" or tier is None:
            tier = "other" if tier == "ministry" else "commune"
            self.notes.append(Note(line, N_("không xác định được cấp thực hiện từ «{text}»: đã chọn `{tier}`; kiểm tra lại `performed_by`"),
                                   {"text": _short(tier_text), "tier": tier}, guess=True))
        if len(tiers) > 1:
            self.notes.append(Note(line, N_("thủ tục thực hiện ở nhiều cấp ({text}): đã chọn cấp đầu tiên; mỗi cấp là một đặc tả (mã có hậu tố)"),
                                   {"text": _short(tier_text)}, guess=True))
        rule: dict[str, Any] = {"tier": tier}
        kind = next((k for word, k in AGENCY_KINDS if word in agency.lower() + " "), None)
        if kind:
            rule["kind"] = kind
        if agency:
            rule["name"] = agency
        self.data["performed_by"] = rule
        self.notes.append(Note(line, N_("cơ quan thực hiện đoán theo «{tier}» và «{agency}»: `performed_by: {rule}`; kiểm tra với danh mục cơ quan"),
                               {"tier": _short(tier_text), "agency": _short(agency), "rule": _flow(rule)}, guess=True))

    def filers(self) -> None:
        text = self.single("filers").lower()
        filers = []
        if FILER_CITIZEN.search(text):
            filers.append("citizen")
        if FILER_BUSINESS.search(text):
            filers.append("business")
        if not filers:
            self.notes.append(Note(self.where.get("filers", 0), N_("không xác định được đối tượng thực hiện: đã chọn công dân (`filers: [citizen]`)"), guess=True))
            filers = ["citizen"]
        self.data["filers"] = filers

    def info(self, channels: list[dict[str, Any]], time: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {}
        description = self.single("description")
        if description:
            info["description"] = description
        steps = [text for _n, text in _paragraphs(self.lines("steps"))]
        if steps:
            info["steps"] = steps
        conditions = [text for _n, text in _paragraphs(self.lines("conditions"))]
        if conditions:
            info["conditions"] = conditions
        result = "; ".join(text for _n, text in _paragraphs(self.lines("result")))
        if not result:
            self.notes.append(Note(self.where.get("result", 0), N_("không tìm thấy kết quả thực hiện: điền `info.result`")))
        info["result"] = result or "?"
        legal = self.legal_basis()
        if legal:
            info["legal_basis"] = legal
        info["processing_time"] = time
        if PRESENCE.search(" ".join(steps + conditions + [str(c.get("note", "")) for c in channels])):
            info["presence_required"] = True
        return info

    def legal_basis(self) -> list[dict[str, Any]]:
        out = []
        for line in self.lines("legal_basis"):
            cells = _cells(line.text)
            if not cells or _is_empty(line.text) or cells[0].lower() in {"số ký hiệu", "văn bản"}:
                continue
            number = DOCUMENT_NUMBER.search(cells[0])
            if number is None:
                self.unread(line, N_("không đọc được căn cứ pháp lý (không có số ký hiệu văn bản): «{text}»"))
                continue
            if len(cells) == 1:  # "60/2014/QH13 - Luật Hộ tịch" written on one line
                title = cells[0][number.end():].strip(" -–:,")
                cells = [number.group(0), title]
            entry: dict[str, Any] = {"number": number.group(0), "title": cells[1] if len(cells) > 1 else number.group(0)}
            issued = _date(cells[2]) if len(cells) > 2 else None
            if issued:
                entry["issued"] = issued
            issuer = cells[3] if len(cells) > 3 else (cells[2] if len(cells) > 2 and not issued else "")
            if issuer:
                entry["issuer"] = issuer
            out.append(entry)
        return out

    def channels(self) -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
        """The intake channels, the procedure's time limit and its fee lines."""
        pieces: list[tuple[_Line, list[list[str]]]] = []  # each row's cells, in the parts of their lines
        for line in self.lines("channels"):
            cells = _cells(line.text)
            if not cells or cells[0].lower() in {"hình thức nộp", "hình thức"}:
                continue
            if any(word in cells[0].lower() for word, _k in CHANNEL_WORDS) and len(cells[0]) < 40:
                pieces.append((line, [[cell] for cell in cells]))
            elif pieces:  # a cell's text broken over lines: it continues the row above
                last = pieces[-1][1]
                last[-1].append(cells[0])
                last.extend([cell] for cell in cells[1:])
            elif not _is_empty(line.text):
                self.unread(line)
        rows = [(line, [" ".join(parts) for parts in cells]) for line, cells in pieces]
        channels: list[dict[str, Any]] = []
        per_channel: dict[str, tuple[tuple[int, int | None, bool] | None, list[tuple[str, int, str]], int]] = {}
        for line, cells in rows:
            kind = next(k for word, k in CHANNEL_WORDS if word in cells[0].lower())
            if kind in per_channel:
                continue
            time_text = cells[1] if len(cells) > 1 else ""
            fee_text = cells[2] if len(cells) > 2 else ""
            time = parse_time(time_text)
            description = " ".join(cells[3:]).strip()
            longest = LONGEST.search(description)
            if time is not None and longest and int(longest.group(1)) > max(time[0], time[1] or 0):
                time = (time[0], int(longest.group(1)), time[2])
            if time is None and time_text and not _is_empty(time_text):
                self.notes.append(Note(line.number, N_("không đọc được thời hạn giải quyết «{text}»"), {"text": _short(time_text)}))
            fees, other = parse_fees(fee_text)
            if other:
                self.notes.append(Note(line.number, N_("không đọc được phí, lệ phí «{text}»"), {"text": _short(fee_text)}))
            per_channel[kind] = (time, fees, line.number)
            channel: dict[str, Any] = {"kind": kind}
            if description and not _is_empty(description):
                channel["note"] = description
            channels.append(channel)
        if not rows:
            self.notes.append(Note(self.where.get("channels", 0), N_("không đọc được cách thức thực hiện: điền `channels`")))
        # a separate "Thời hạn giải quyết" / "Phí, lệ phí" section applies to every channel
        shared_time = parse_time(self.single("time")) if self.lines("time") else None
        if self.lines("time") and shared_time is None and not _is_empty(self.single("time")):
            self.notes.append(Note(self.where["time"], N_("không đọc được thời hạn giải quyết «{text}»"), {"text": _short(self.single("time"))}))
        shared_fees: list[tuple[str, int, str]] = []
        if self.lines("fees"):
            shared_fees, other = parse_fees(self.single("fees"))
            if other:
                self.notes.append(Note(self.where["fees"], N_("không đọc được phí, lệ phí «{text}»"), {"text": _short(self.single("fees"))}))
        channels.sort(key=lambda c: CHANNEL_ORDER.index(c["kind"]))
        return channels, self.time_limit(channels, per_channel, shared_time), self.fee_lines(per_channel, shared_fees, self.data.get("name", ""))

    def time_limit(self, channels: list[dict[str, Any]], per_channel: dict[str, Any], shared: Any) -> dict[str, Any]:
        """The procedure's limit is the desk's (else the first channel's); a channel whose
        limit differs keeps its own `working_days`."""
        times = {kind: t for kind, (t, _f, _n) in per_channel.items() if t is not None}
        main = shared or times.get("desk") or next(iter(times.values()), None)
        if main is None:
            self.notes.append(Note(self.where.get("channels", 0), N_("không tìm thấy thời hạn giải quyết: điền `info.processing_time`")))
            return {"working_days": 0}
        days, longest, calendar = main
        out: dict[str, Any] = {"working_days": days}
        if longest is not None:
            out["max_working_days"] = longest
        if calendar:
            out["calendar_days"] = True
        for channel in channels:
            mine = times.get(channel["kind"])
            if mine is not None and mine[0] != days:
                channel["working_days"] = mine[0]
        return out

    def fee_lines(self, per_channel: dict[str, Any], shared: list[tuple[str, int, str]], procedure: str) -> list[dict[str, Any]]:
        """One line per kind (phí, lệ phí): the first amount of each; a line that differs
        between channels applies only to its channels (`when` on `_channel`). Further amounts
        of the same kind depend on who files (students, exempt groups ...): the reader cannot
        write that condition, so it says so instead of charging them."""
        by_channel = {kind: fees for kind, (_t, fees, _n) in per_channel.items()}
        if shared:
            by_channel = {kind: shared for kind in by_channel} or {"desk": shared}
        lines: list[dict[str, Any]] = []
        taken: set[str] = set()
        groups: dict[tuple[str, int, str], list[str]] = {}
        for channel, fees in by_channel.items():
            seen_kind: set[str] = set()
            for kind, amount, note in fees:
                if kind in seen_kind:
                    number = per_channel.get(channel, (None, None, self.where.get("fees", 0)))[2]
                    message = (N_("thêm một mức lệ phí {amount} đồng ({note}): chưa đưa vào; viết điều kiện (`when`, `exempt_when`) cho mức này")
                               if kind == "charge" else
                               N_("thêm một mức phí {amount} đồng ({note}): chưa đưa vào; viết điều kiện (`when`, `exempt_when`) cho mức này"))
                    self.notes.append(Note(number, message, {"amount": amount, "note": note}))
                    continue
                seen_kind.add(kind)
                groups.setdefault((kind, amount, note), []).append(channel)
        every = set(by_channel)
        for (kind, amount, note), channels in groups.items():
            base = "le_phi" if kind == "charge" else "phi"
            line: dict[str, Any] = {"id": _unique(base, taken), "kind": kind,
                                    "name": f"{'Lệ phí' if kind == 'charge' else 'Phí'} {procedure[:1].lower()}{procedure[1:]}", "amount": amount}
            if set(channels) != every:
                ordered = sorted(channels, key=CHANNEL_ORDER.index)
                line["when"] = {"in": [{"var": "_channel"}, ordered]}
            if note:
                line["exemption_note" if amount == 0 or note.lower().startswith("miễn") else "note_"] = note
            lines.append(line)
        for line in lines:  # a note that is not an exemption is the fee's own wording
            note = line.pop("note_", None)
            if note:
                line["name"] = f"{line['name']} ({note})"
        return lines

    def components(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        names: list[list[str]] = []  # each attachment's name, in the parts of its lines
        taken: set[str] = set()
        case: _Line | None = None
        for line in self.lines("components"):
            cells = _cells(line.text)
            low = line.text.strip().lower()
            if not cells or _is_empty(line.text) or low in {"bao gồm", "hồ sơ bao gồm"} or cells[0].lower() in {"tên giấy tờ", "loại giấy tờ"}:
                continue
            counts = COUNT.search(line.text)
            if counts is None:
                if low.startswith(("trường hợp", "đối với", "* trường hợp", "- trường hợp")):
                    case = line
                    self.notes.append(Note(line.number, N_("thành phần hồ sơ theo trường hợp «{text}»: các giấy tờ sau đặt `required: false`; viết `required_when`"),
                                           {"text": _short(line.text.strip())}, guess=True))
                elif out and len(cells) == 1 and not BULLET.match(line.text.strip()):
                    names[-1].append(cells[0])  # a name broken over lines
                else:
                    self.unread(line, N_("không đọc được thành phần hồ sơ (không có số bản chính, bản sao): «{text}»"))
                continue
            name = BULLET.sub("", cells[0]).strip().rstrip(";.")
            attachment: dict[str, Any] = {"id": _unique(_slug(name), taken), "name": name}
            if case is not None:
                attachment["required"] = False
            attachment["originals"], attachment["copies"] = int(counts.group(1)), int(counts.group(2))
            template = next((c for c in cells[1:] if not COUNT.search(c) and not _is_empty(c)), None)
            if template:
                attachment["template"] = re.sub(r"\.(docx?|pdf|xlsx?)$", "", template, flags=re.IGNORECASE).strip()
            if re.match(r"^(tờ khai|đơn|phiếu yêu cầu|văn bản đề nghị)\b", name, re.IGNORECASE):
                self.notes.append(Note(line.number, N_("«{name}» là tờ khai: trên cổng, biểu mẫu (`form.fields`) thay cho nó; bỏ thành phần `{id}` khi đã viết biểu mẫu"),
                                       {"name": _short(name), "id": attachment["id"]}, guess=True))
            out.append(attachment)
            names.append([name])
        for attachment, parts in zip(out, names):  # joined once: line by line is quadratic
            attachment["name"] = " ".join(parts)
        if not self.lines("components"):
            self.notes.append(Note(0, N_("không tìm thấy thành phần hồ sơ")))
        return out

    def level(self, channels: list[dict[str, Any]], presence: bool, templates: bool) -> int:
        """The level as published ("Mức độ"), else a guess from the channels: online filing
        is level 4 unless the applicant must come in person (level 3); no online filing is
        level 2 with forms to download, else 1."""
        text = self.single("level").lower()
        explicit = re.search(r"[1-4]", text)
        if explicit:
            return int(explicit.group(0))
        if "toàn trình" in text:
            return 4
        if "một phần" in text:
            return 3
        online = any(c["kind"] == "online" for c in channels)
        level = (3 if presence else 4) if online else (2 if templates else 1)
        why = {4: N_("nộp trực tuyến, không cần có mặt"), 3: N_("nộp trực tuyến nhưng phải có mặt"),
               2: N_("không nộp trực tuyến, có mẫu đơn"), 1: N_("không nộp trực tuyến")}[level]
        self.notes.append(Note(0, N_("mức độ đoán là {level} ({why}); kiểm tra lại `level`"), {"level": level, "why": why}, guess=True))
        return level

    def left_out(self) -> None:
        for key, lines in self.found.items():
            if key.startswith("-") and _one_text(lines):
                self.notes.append(Note(lines[0].number, N_("mục «{label}» không đưa vào đặc tả: «{text}»"),
                                       {"label": key[1:], "text": _short(_one_text(lines))}))

    def keywords(self) -> None:
        text = self.single("keywords")
        if text:
            self.data["keywords"] = [k.strip() for k in re.split(r"[,;]", text) if k.strip()]


def _short(text: str, length: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1] + "…"


def _flow(value: Any) -> str:
    return yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, sort_keys=False, width=float("inf")).strip()


def read_record(text: str, *, version: str = "1") -> Imported:
    """The published record -> a draft spec's data (everything but `form`) and the notes.

    `version` is the draft's version (a new procedure's first, e.g. "2026.1"). RecordRefused
    for a text longer than a record (MAX_RECORD_CHARS) or with a line longer than a
    paragraph (MAX_LINE_CHARS): the caller says so and keeps the text."""
    check_size(text)
    reader = _Reader(text)
    reader.code()
    data = reader.data
    data["version"] = version
    reader.names()
    reader.performed_by()
    reader.filers()
    reader.keywords()
    reader.left_out()
    channels, time, fees = reader.channels()
    attachments = reader.components()
    info = reader.info(channels, time)
    level = reader.level(channels, bool(info.get("presence_required")), any("template" in a for a in attachments))
    if level == 4 and info.get("presence_required"):
        info.pop("presence_required")
    spec: dict[str, Any] = {
        "code": data["code"], "version": version, "name": data["name"], "sector": data["sector"],
        **({"kind": data["kind"]} if "kind" in data else {}),
        **({"decision": data["decision"]} if "decision" in data else {}),
        "performed_by": data["performed_by"], "filers": data["filers"],
        **({"keywords": data["keywords"]} if "keywords" in data else {}),
        "level": level, "info": info,
    }
    if level < 3:  # filed in person or by post: no online channel, no electronic result
        channels = [c for c in channels if c["kind"] != "online"]
    spec["channels"] = channels
    spec["delivery"] = _delivery(channels, level)
    if attachments:
        spec["attachments"] = attachments
    if fees:
        spec["fees"] = fees
    steps = _steps(spec)
    if steps:
        spec["steps"] = steps
    once: dict[tuple[str, str], Note] = {}
    for note in reader.notes:  # the same thing found on several lines (each channel's row) is said once
        once.setdefault((note.message, repr(sorted(note.params.items()))), note)
    notes = sorted(once.values(), key=lambda n: (n.line, not n.guess))
    return Imported(spec, notes, reader.found_code)


def check_size(text: str) -> None:
    """RecordRefused when the text is longer than a record or has a line longer than a
    paragraph: pasted by mistake, and not worth reading (every reader step is linear, but a
    request should not spend seconds on a file pasted whole)."""
    if len(text) > MAX_RECORD_CHARS:
        raise RecordRefused(N_("Nội dung đã dán dài {length} ký tự, quá giới hạn {limit} ký tự của một thủ tục: "
                               "hãy chỉ dán trang chi tiết của một thủ tục."), length=len(text), limit=MAX_RECORD_CHARS)
    for number, line in enumerate(text.splitlines(), start=1):
        if len(line) > MAX_LINE_CHARS:
            raise RecordRefused(N_("Dòng {line} dài {length} ký tự, quá giới hạn {limit} ký tự của một dòng: "
                                   "hãy kiểm tra lại nội dung đã dán."), line=number, length=len(line), limit=MAX_LINE_CHARS)


def _delivery(channels: Iterable[dict[str, Any]], level: int) -> list[dict[str, Any]]:
    """The result at the desk always; by post when the record offers the postal channel
    (Decision 45/2016: the post office returns results too); electronically at level 4."""
    kinds = {c["kind"] for c in channels}
    out: list[dict[str, Any]] = [{"kind": "desk"}]
    if "postal" in kinds:
        out.append({"kind": "postal"})
    if level == 4:
        out.append({"kind": "electronic"})
    return out


def _steps(spec: dict[str, Any]) -> list[Any]:
    """The workflow of a procedure filed online: payment when anything is charged (online at
    level 4, at the desk at level 3), review, postal return when offered, notification."""
    if spec["level"] < 3:
        return []
    steps: list[Any] = []
    if any(f["amount"] > 0 for f in spec.get("fees", [])):
        steps.append({"name": "payment", "config": {"mode": "online" if spec["level"] == 4 else "desk"}})
    steps.append("review")
    if any(d["kind"] == "postal" for d in spec["delivery"]):
        steps.append("postal")
    steps.append("notify")
    return steps


# --- the YAML -------------------------------------------------------------------------------

#: What YAML refuses anywhere in a stream, comments included (PyYAML's reader: "unacceptable
#: character"): C0 controls but tab and line breaks, DEL, C1 controls, surrogates, U+FFFE/F.
_NOT_YAML = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")


def _comment(text: str) -> str:
    """One `# ...` line whatever the note holds: its line breaks and runs of white space
    (YAML's line breaks include U+0085, U+2028, U+2029) become one space, and characters YAML
    refuses become U+FFFD, so no pasted text can end the comment or make the draft unreadable."""
    return "# " + " ".join(_NOT_YAML.sub("\uFFFD", text).split())


class _Dumper(yaml.SafeDumper):
    """Block style for mappings and lists, flow style for small leaf mappings (`{kind: desk}`)."""


def _represent_dict(dumper: yaml.SafeDumper, data: dict[str, Any]) -> Any:
    flow = all(not isinstance(v, (dict, list)) or (isinstance(v, list) and all(not isinstance(i, (dict, list)) for i in v)) for v in data.values()) \
        and len(_flow(data)) <= 90
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> Any:
    flow = all(isinstance(i, (str, int)) and len(str(i)) < 30 for i in data) and len(data) <= 8
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(list, _represent_list)


def to_yaml(imported: Imported, translate: Callable[..., str] | None = None) -> str:
    """The draft spec as YAML, the notes first as comments (`# TODO dòng N: ...`), and the
    form left for the author: the linter's "needs a `form`" error says what is missing."""
    say = translate or (lambda message, **params: message.format(**params))
    header = ["# yaml-language-server: $schema=../schema.json"]
    header.append(_comment(say(N_("Nhập từ Cơ sở dữ liệu quốc gia về thủ tục hành chính. Còn phải viết biểu mẫu (`form`: fields, contact)."))))
    for note in imported.notes:
        where = " (" + say(N_("dòng {line}"), line=note.line) + ")" if note.line else ""
        header.append(_comment(f"TODO{where}: {note.text(translate)}"))
    body = yaml.dump(imported.data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100_000, default_flow_style=False)
    return "\n".join(header) + "\n" + body
