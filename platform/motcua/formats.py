"""Formats of answers (`format:` in a spec's field), as one table of data.

Each `FieldFormat` says everything the platform does with a format: the check the server
runs, the JSON Schema published for it (a `pattern` carrying every rule a pattern can carry,
beside the `format` itself), the message {vi, en} of each rule that can fail, and a valid
example. The server's FormatChecker, the published submission schema (motcua.submission),
the messages and the tests all read this table, so a rule cannot be enforced without being
published, and a later field-type registry can take the rows as they are.

Digits are ASCII only: Python's `\\d` and `int()` accept Arabic-Indic, full-width and every
other Unicode digit, so patterns here spell `[0-9]` and nothing calls `isdigit()`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from jsonschema import FormatChecker

MOBILE_PREFIXES = r"3[2-9]|5[25689]|7[06-9]|8[1-9]|9[0-9]"
MOBILE = re.compile(rf"^0({MOBILE_PREFIXES})[0-9]{{7}}$")
#: First three digits: the province where the birth was registered, 001–096.
CCCD_PATTERN = r"^(0[0-8][0-9]|09[0-6])[0-9]{9}$"
CCCD = re.compile(CCCD_PATTERN)
TWELVE_DIGITS = re.compile(r"^[0-9]{12}$")
TAX_CODE = re.compile(r"^([0-9]{10})(-[0-9]{3})?$")
TAX_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)
ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class FormatProblem(ValueError):
    """Which rule of a format a value breaks: `str(exc)` is the Vietnamese message."""


@dataclass(frozen=True)
class FieldFormat:
    """One format: its check, its published JSON Schema, its messages, an example."""

    name: str
    check: Callable[[str], None]  # raises FormatProblem(<Vietnamese message>) when not valid
    schema: dict[str, Any]  # published beside `format: <name>`
    example: str
    documented: str  # what the format means, for docs and the published schema's description
    messages: dict[str, str] = field(default_factory=dict)  # Vietnamese -> English


def _fail(message: str) -> None:
    raise FormatProblem(message)


# --- checks ---------------------------------------------------------------------------------

CCCD_LENGTH = "Số định danh cá nhân phải gồm đúng 12 chữ số"
CCCD_PROVINCE = "Số định danh cá nhân không hợp lệ: ba chữ số đầu là mã tỉnh nơi đăng ký khai sinh, từ 001 đến 096"
MOBILE_LENGTH = "Số điện thoại di động không hợp lệ: cần 10 chữ số, ví dụ 0912345678"
MOBILE_PREFIX = "Số điện thoại di động không hợp lệ: đầu số phải là đầu số di động của Việt Nam (03, 05, 07, 08, 09), ví dụ 0912345678"
TAX_SHAPE = "Mã số thuế không hợp lệ: 10 chữ số (hoặc 10 chữ số, dấu gạch ngang và 3 chữ số), hoặc số định danh cá nhân 12 chữ số"
TAX_CHECK = "Mã số thuế không hợp lệ: chữ số kiểm tra (chữ số thứ 10) không đúng, hãy xem lại từng chữ số"
DATE_SHAPE = "Ngày không hợp lệ: nhập theo dạng ngày/tháng/năm, ví dụ 25/03/2024"
DATE_REAL = "Ngày không hợp lệ: nhập ngày, tháng, năm có thật"
EMAIL_BAD = "Địa chỉ thư điện tử không hợp lệ, ví dụ ten@example.com"


def check_cccd(value: str) -> None:
    """12 digits: province (3, 001–096), century+sex (1), birth year (2), random (6)."""
    if not TWELVE_DIGITS.match(value):
        _fail(CCCD_LENGTH)
    if not CCCD.match(value):
        _fail(CCCD_PROVINCE)


def check_mobile(value: str) -> None:
    """10 digits starting 0 and a Vietnamese mobile prefix; the web form turns `+84 912 345 678`
    into `0912345678` before this runs (motcua_renderers.form), the API takes the canonical form."""
    if not re.fullmatch(r"0[0-9]{9}", value):
        _fail(MOBILE_LENGTH)
    if not MOBILE.match(value):
        _fail(MOBILE_PREFIX)


def tax_check_digit(first_nine: str) -> int:
    """Digit 10 of a tax code: 10 − (weighted sum of digits 1–9 mod 11), mod 10."""
    return (10 - sum(w * int(d) for w, d in zip(TAX_WEIGHTS, first_nine)) % 11) % 10


def check_tax_code(value: str) -> None:
    """10 digits with a check digit, optionally `-NNN` for a dependent unit; or, for an
    individual since July 2025, the 12-digit personal ID (the CCCD rule)."""
    if TWELVE_DIGITS.match(value):
        check_cccd(value)
        return
    match = TAX_CODE.match(value)
    if not match:
        _fail(TAX_SHAPE)
    digits = match.group(1)
    if tax_check_digit(digits[:9]) != int(digits[9]):
        _fail(TAX_CHECK)


def check_date(value: str) -> None:
    """RFC 3339 full-date, `YYYY-MM-DD` in ASCII digits, a real day (no ISO week or ordinal
    dates, no `20000101`: Python's date.fromisoformat takes all of those)."""
    if not ISO_DATE.match(value):
        _fail(DATE_SHAPE)
    try:
        date.fromisoformat(value)
    except ValueError:
        _fail(DATE_REAL)


@lru_cache(maxsize=1)
def _email_validator() -> Any:
    """email-validator, imported by the first address checked (its import compiles the RFCs'
    patterns: a start that checks no address need not pay for it).

    Syntax is the rule, not where mail can go: email-validator's documented list of special-use
    names (.arpa, .local, .onion, .test ...) would refuse RFC-valid addresses that any client's
    JSON Schema `email` check accepts. Only `localhost`, never a citizen's mailbox, stays out."""
    import email_validator

    email_validator.SPECIAL_USE_DOMAIN_NAMES[:] = ["localhost"]
    return email_validator


def _email(value: str, international: bool) -> None:
    if len(value) > 254 or value != value.strip():
        _fail(EMAIL_BAD)
    checker = _email_validator()
    try:
        checker.validate_email(
            value,
            check_deliverability=False,
            allow_smtputf8=international,
            allow_quoted_local=True,
            allow_domain_literal=True,
            globally_deliverable=False,
        )
    except checker.EmailNotValidError:
        _fail(EMAIL_BAD)
    domain = value.rsplit("@", 1)[1]
    if not domain.startswith("[") and "." not in domain:
        _fail(EMAIL_BAD)  # `abc@localhost`: no mail reaches a citizen there


def check_email(value: str) -> None:
    """RFC 5321 mailbox, syntax only (email-validator, no DNS): dot-atom or quoted local part
    in ASCII, a domain of at least two labels (IDN allowed) or an address literal."""
    _email(value, international=False)


def check_idn_email(value: str) -> None:
    """As `email`, and the local part may hold non-ASCII letters (RFC 6531)."""
    _email(value, international=True)


# --- the table ------------------------------------------------------------------------------

FORMATS: dict[str, FieldFormat] = {
    f.name: f
    for f in (
        FieldFormat(
            "cccd", check_cccd, {"pattern": CCCD_PATTERN, "minLength": 12, "maxLength": 12}, "001099012345",
            "Personal ID (CCCD / số định danh cá nhân): 12 ASCII digits, the first three the province code 001–096.",
            {CCCD_LENGTH: "The citizen identity number must have exactly 12 digits",
             CCCD_PROVINCE: "Invalid citizen identity number: its first three digits are the province of birth registration, 001 to 096"},
        ),
        FieldFormat(
            "vn-mobile", check_mobile, {"pattern": MOBILE.pattern, "minLength": 10, "maxLength": 10}, "0912345678",
            "Vietnamese mobile number, 10 ASCII digits `0` + a mobile prefix (03x, 05x, 07x, 08x, 09x); "
            "the web form also takes `+84 912 345 678` and stores `0912345678`.",
            {MOBILE_LENGTH: "Invalid mobile phone number: 10 digits needed, e.g. 0912345678",
             MOBILE_PREFIX: "Invalid mobile phone number: it must start with a Vietnamese mobile prefix (03, 05, 07, 08, 09), e.g. 0912345678"},
        ),
        FieldFormat(
            "tax-code", check_tax_code,
            {"pattern": rf"^([0-9]{{10}}(-[0-9]{{3}})?|{CCCD_PATTERN[1:-1]})$", "maxLength": 14}, "0100109106",
            "Tax code: 10 ASCII digits whose 10th is the check digit (10 − Σ(digit × 31, 29, 23, 19, 17, 13, 7, 5, 3) "
            "mod 11, mod 10), optionally `-` and 3 digits for a dependent unit; or a personal ID (format cccd). "
            "The check digit is the one rule the pattern cannot carry.",
            {TAX_SHAPE: "Invalid tax code: 10 digits (or 10 digits, a hyphen and 3 digits), or a 12-digit citizen identity number",
             TAX_CHECK: "Invalid tax code: the check digit (the 10th digit) does not match; check each digit"},
        ),
        FieldFormat(
            "date", check_date, {"pattern": ISO_DATE.pattern}, "2024-03-25",
            "RFC 3339 full-date `YYYY-MM-DD` (ASCII digits, a real day).",
            {DATE_SHAPE: "Invalid date: enter it as day/month/year, e.g. 25/03/2024",
             DATE_REAL: "Invalid date: enter a day, month and year that exist"},
        ),
        FieldFormat(
            "email", check_email, {"maxLength": 254}, "ten@example.com",
            "E-mail address (RFC 5321 mailbox, ASCII local part; the domain has at least two labels or is an address literal).",
            {EMAIL_BAD: "Invalid e-mail address, e.g. ten@example.com"},
        ),
        FieldFormat(
            "idn-email", check_idn_email, {"maxLength": 254}, "nguyễn@example.com",
            "E-mail address as `email`, the local part may hold non-ASCII letters (RFC 6531).",
            {EMAIL_BAD: "Invalid e-mail address, e.g. ten@example.com"},
        ),
    )
}

CUSTOM_FORMATS = ("cccd", "vn-mobile", "tax-code")


def problem(fmt: str, value: Any) -> str | None:
    """The Vietnamese message of the first rule of `fmt` that `value` breaks, else None."""
    spec = FORMATS.get(fmt)
    if spec is None or not isinstance(value, str):
        return None
    try:
        spec.check(value)
    except FormatProblem as exc:
        return str(exc)
    return None


def english(message: str) -> str | None:
    for spec in FORMATS.values():
        if message in spec.messages:
            return spec.messages[message]
    return None


# --- the old predicates, kept for their callers ---------------------------------------------


def normalize_mobile(value: str) -> str:
    """`+84 912 345 678` -> `0912345678`: +84 means a leading 0."""
    digits = re.sub(r"[\s.\-()]", "", value)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits


def _passes(fmt: str, value: object) -> bool:
    return isinstance(value, str) and problem(fmt, value) is None


def is_vn_mobile(value: object) -> bool:
    """A mobile number as a citizen may type it (spaces, +84), normalized first."""
    return isinstance(value, str) and _passes("vn-mobile", normalize_mobile(value))


def is_cccd(value: object) -> bool:
    return _passes("cccd", value)


def cccd_matches(cccd: str, birth_year: int, sex: str) -> bool:
    """Cross-check a CCCD against date of birth and sex ('male' / 'female')."""
    century_digit = int(cccd[3])
    century = 1900 + (century_digit // 2) * 100
    female = century_digit % 2 == 1
    return century + int(cccd[4:6]) == birth_year and female == (sex == "female")


def is_tax_code(value: object) -> bool:
    return _passes("tax-code", value)


def is_iso_date(value: object) -> bool:
    return _passes("date", value)


def is_email(value: object, international: bool = False) -> bool:
    return _passes("idn-email" if international else "email", value)


def is_idn_email(value: object) -> bool:
    return is_email(value, international=True)


_OTHER_DIGITS = re.compile(r"[^\x00-\x7f]")


def _ascii_guard(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """A standard format (ipv4, date-time, uuid ...) refuses a string with a non-ASCII digit:
    their checkers call int() or \\d, which take any Unicode digit."""

    def guarded(value: Any) -> bool:
        if isinstance(value, str) and any(c.isdigit() for c in _OTHER_DIGITS.findall(value)):
            return False
        return check(value)

    return guarded


def format_checker() -> FormatChecker:
    """A FormatChecker: the standard formats (non-ASCII digits refused) plus this table's.
    A failed check carries the broken rule's message as the error's `cause` (FormatProblem)."""
    checker = FormatChecker()
    for name, (func, raises) in list(checker.checkers.items()):
        checker.checkers[name] = (_ascii_guard(func), raises)
    for name, spec in FORMATS.items():
        checker.checkers[name] = (_table_check(spec), FormatProblem)
    from motcua.integrations.widgets import formats

    for fmt, widget in formats().items():  # third-party field types (`motcua.widgets`)
        checker.checks(fmt)(lambda value, widget=widget: not isinstance(value, str) or widget.problem(value) is None)
    return checker


def _table_check(spec: FieldFormat) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        if not isinstance(value, str):
            return True  # a format applies to strings only; `type` judges the rest
        spec.check(value)
        return True

    return check
