"""`bien-so-xe`: a Vietnamese vehicle registration plate (biển số xe) as a Motcua field type.

A spec uses it as a JSON Schema format: `{"type": "string", "format": "bien-so-xe"}`.
Accepted as typed (`29a 12345`, `29A-123.45`, `59-x1 234.56`), stored and printed the way
plates are written: `29A-123.45` (a car: province code, series letter(s), five digits),
`29A-1234` (an older four-digit plate), `59-X1 234.56` (a motorbike: a digit after the
series letter). The province code is two digits, 11 to 99; series letters never use I, O, Q
or W (they read as digits).
"""

from __future__ import annotations

import re
from motcua.integrations.widgets import Widget

#: province, series letters, then 4 digits (an old plate), 5 (a car: 123.45) or 6 (a
#: motorbike: the series digit, then 234.56); typed without separators, 5 digits read as a car
_COMPACT = re.compile(r"(\d{2})([A-Z]{1,2})(\d{4,6})")
_SEPARATORS = re.compile(r"[\s.\-]")
_NOT_SERIES = set("IOQW")


def compact(value: str) -> str:
    return _SEPARATORS.sub("", str(value)).upper()


class VehiclePlate(Widget):
    id = "bien-so-xe"
    title = {"vi": "Biển số xe", "en": "Vehicle registration plate"}
    #: published with the format: the shape a plate may be typed in (the province range and
    #: the letters are checked by the format itself)
    schema = {"type": "string", "minLength": 6, "maxLength": 14,
              "pattern": r"^\s*[0-9]{2}\s*-?\s*[A-Za-z]{1,2}[0-9]?[\s.\-]*[0-9]{3}[\s.]?[0-9]{1,2}\s*$"}
    #: hints for the citizen's browser: capitals, no spelling fixes, an example in each language
    input_attrs = {"autocapitalize": "characters", "autocomplete": "off", "spellcheck": False, "maxlength": 14,
                   "placeholder": {"vi": "Ví dụ 29A-123.45", "en": "For example 29A-123.45"}}

    def clean(self, value: str) -> str:
        found = _COMPACT.fullmatch(compact(value))
        return self.display(value) if found and self.problem(value) is None else value.strip()

    def problem(self, value: str) -> dict[str, str] | None:
        found = _COMPACT.fullmatch(compact(value))
        if found is None:
            return {"vi": "Biển số xe không đúng định dạng (ví dụ 29A-123.45 hoặc 59-X1 234.56)",
                    "en": "The plate number is not in a valid form (for example 29A-123.45 or 59-X1 234.56)"}
        province, series, _digits = found.groups()
        if not 11 <= int(province) <= 99:
            return {"vi": "Hai chữ số đầu của biển số (mã tỉnh) phải từ 11 đến 99",
                    "en": "The first two digits of the plate (the province code) must be between 11 and 99"}
        if _NOT_SERIES & set(series):
            return {"vi": "Sê-ri biển số không dùng các chữ I, O, Q, W",
                    "en": "Plate series never use the letters I, O, Q or W"}
        return None

    def display(self, value: str) -> str:
        found = _COMPACT.fullmatch(compact(value))
        if found is None:
            return str(value)
        province, series, digits = found.groups()
        digit, serial = (digits[0], digits[1:]) if len(digits) == 6 else ("", digits)
        number = f"{serial[:3]}.{serial[3:]}" if len(serial) == 5 else serial
        return f"{province}-{series}{digit} {number}" if digit else f"{province}{series}-{number}"
