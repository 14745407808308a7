"""Vietnamese identity formats, as JSON Schema format checks (DOMAIN.md, "Identity").

Registered on a jsonschema FormatChecker so that a spec writes `format: cccd` and the
server, the API and the linter all apply the same rule.
"""

from __future__ import annotations

import re
from datetime import date

from email_validator import EmailNotValidError, validate_email
from jsonschema import FormatChecker

MOBILE = re.compile(r"^0(3[2-9]|5[25689]|7[06-9]|8[1-9]|9\d)\d{7}$")
CCCD = re.compile(r"^\d{12}$")
TAX_CODE = re.compile(r"^(\d{10})(-\d{3})?$")
TAX_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)


def normalize_mobile(value: str) -> str:
    """`+84 912 345 678` -> `0912345678`: +84 means a leading 0."""
    digits = re.sub(r"[\s.\-()]", "", value)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits


def is_vn_mobile(value: object) -> bool:
    return isinstance(value, str) and bool(MOBILE.match(normalize_mobile(value)))


def is_cccd(value: object) -> bool:
    """12 digits: province (3), century+sex (1), birth year (2), random (6)."""
    if not isinstance(value, str) or not CCCD.match(value):
        return False
    return value[3] in "0123456789" and int(value[:3]) <= 96


def cccd_matches(cccd: str, birth_year: int, sex: str) -> bool:
    """Cross-check a CCCD against date of birth and sex ('male' / 'female')."""
    century_digit = int(cccd[3])
    century = 1900 + (century_digit // 2) * 100
    female = century_digit % 2 == 1
    return century + int(cccd[4:6]) == birth_year and female == (sex == "female")


def is_tax_code(value: object) -> bool:
    """10 digits with a check digit, optionally `-NNN` for a dependent unit; or a 12-digit ID."""
    if not isinstance(value, str):
        return False
    if CCCD.match(value):
        return True  # individuals use their personal ID since July 2025
    match = TAX_CODE.match(value)
    if not match:
        return False
    digits = [int(c) for c in match.group(1)]
    check = (10 - sum(w * d for w, d in zip(TAX_WEIGHTS, digits)) % 11) % 10
    return check == digits[9]


def is_iso_date(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def is_email(value: object, international: bool = False) -> bool:
    """One @, a non-empty local part, a domain with a dot and valid labels, no spaces.

    jsonschema's own `email` check only looks for an "@", so `abc@` passed. email-validator
    (syntax only: no DNS lookup, check_deliverability=False) applies RFC 5321/5322 as mail
    servers do; `format: email` keeps the local part ASCII (a Vietnamese letter before the @
    is a typing slip far more often than a real SMTPUTF8 mailbox), `idn-email` allows it.
    """
    if not isinstance(value, str) or len(value) > 254:
        return False
    try:
        validate_email(value, check_deliverability=False, allow_smtputf8=international)
    except EmailNotValidError:
        return False
    return True


def is_idn_email(value: object) -> bool:
    return is_email(value, international=True)


def format_checker() -> FormatChecker:
    """A FormatChecker with the standard formats plus Vietnam's."""
    checker = FormatChecker()
    checker.checks("cccd")(is_cccd)
    checker.checks("vn-mobile")(is_vn_mobile)
    checker.checks("tax-code")(is_tax_code)
    checker.checks("date", raises=())(is_iso_date)
    checker.checks("email")(is_email)
    checker.checks("idn-email")(is_idn_email)
    from motcua.integrations.widgets import formats

    for fmt, widget in formats().items():  # third-party field types (`motcua.widgets`)
        checker.checks(fmt)(lambda value, widget=widget: not isinstance(value, str) or widget.problem(value) is None)
    return checker


CUSTOM_FORMATS = ("cccd", "vn-mobile", "tax-code")
