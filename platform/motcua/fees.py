"""What a citizen owes for a procedure, from the spec's fee rules and the answers.

Pure: the fee shown on the form, the one on the check-your-answers page, the one recorded
on the dossier and the amount a payment callback is checked against all come from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timezone
from typing import Any

from pydantic import BaseModel

from motcua.i18n import N_, current_lang, money, t
from motcua.spec.conditions import holds, lookup
from motcua.spec.lint import field_at
from motcua.spec.model import FeeRule, ProcedureSpec


class FeeLine(BaseModel):
    """One line of the bill: a fee (phí) or a charge (lệ phí), in VND."""

    id: str
    kind: str
    name: dict[str, str]
    quantity: int
    amount: int
    exempt: bool = False
    #: What each unit costs when every counted unit costs the same (no free units, tier or cap
    #: in play), so a line can say "2 × 8.000 ₫ = 16.000 ₫"; None when they do not.
    unit_amount: int | None = None


#: Units counted when the quantity field's schema sets no `maximum` (the linter warns then):
#: fees are computed on unvalidated draft answers too, so a quantity must never be unbounded.
DEFAULT_MAX_QUANTITY = 10_000


def max_quantity(spec: ProcedureSpec, rule: FeeRule) -> int:
    """The most units a line counts: the field's schema `maximum`, else DEFAULT_MAX_QUANTITY."""
    if not rule.quantity_field or spec.form is None:
        return DEFAULT_MAX_QUANTITY
    schema = field_at(spec.form.fields, rule.quantity_field)
    maximum = schema.get("maximum") if isinstance(schema, dict) else None
    if isinstance(maximum, (int, float)) and not isinstance(maximum, bool) and maximum >= 0:
        return min(int(maximum), DEFAULT_MAX_QUANTITY)
    return DEFAULT_MAX_QUANTITY


def _quantity(rule: FeeRule, answers: Mapping[str, Any], cap: int) -> int:
    if not rule.quantity_field:
        return 1
    value = lookup(answers, rule.quantity_field)
    if isinstance(value, str) and len(value.strip()) > 12:  # int() of huge digit strings is slow
        return cap if value.strip().isdigit() else 0
    try:
        return min(cap, max(0, int(value)))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return 0


def _line_amount(rule: FeeRule, quantity: int, agency: str | None = None) -> int:
    """Closed form, band by band: the unit price changes only at the tiers' `from_unit`.

    A unit's price is that of the last listed tier whose `from_unit` it has reached (else
    `amount`), so within each band between two consecutive break points it is constant.
    """
    first = rule.free_units + 1
    if quantity < first:
        total = 0
    else:
        breaks = sorted({first} | {t.from_unit for t in rule.tiers if first < t.from_unit <= quantity})
        total = 0
        for i, start in enumerate(breaks):
            end = breaks[i + 1] - 1 if i + 1 < len(breaks) else quantity
            price = rule.by_agency.get(agency or "", rule.amount)  # the chosen office's own amount
            for tier in rule.tiers:
                if start >= tier.from_unit:
                    price = tier.amount
            total += (end - start + 1) * price
    if rule.max_amount is not None:
        total = min(total, rule.max_amount)
    return total


def filing_day(filed_at: datetime) -> date:
    """The day a dossier was filed, in Viet Nam: what its computed values count to."""
    from motcua.workdays import VN_TZ

    if filed_at.tzinfo is None:
        filed_at = filed_at.replace(tzinfo=timezone.utc)
    return filed_at.astimezone(VN_TZ).date()


def compute_fees(spec: ProcedureSpec, answers: Mapping[str, Any], channel: str = "online",
                 agency: str | None = None, today: date | None = None) -> list[FeeLine]:
    """The bill for these answers at office `agency`: every applicable line, exempt ones at 0
    and marked. A line's `by_agency` amount for that office replaces its `amount`.

    `today` is the filing date that computed values (days since the birth ...) count to:
    a dossier's bill is recomputed with the day it was filed, never the day it is read."""
    lines: list[FeeLine] = []
    for rule in spec.fees:
        if not holds(rule.when, answers, channel, spec.computed, today):
            continue
        quantity = _quantity(rule, answers, max_quantity(spec, rule))
        exempt = rule.exempt_when is not None and holds(rule.exempt_when, answers, channel, spec.computed, today)
        amount = 0 if exempt else _line_amount(rule, quantity, agency)
        unit = None  # "2 × 8.000 ₫" only when every unit costs the same (no tiers, no free units, no cap hit)
        if not exempt and quantity > 1 and not rule.tiers and not rule.free_units:
            single = _line_amount(rule, 1, agency)
            unit = single if single * quantity == amount else None
        lines.append(FeeLine(id=rule.id, kind=rule.kind, name=dict(rule.name), quantity=quantity, amount=amount,
                             exempt=exempt, unit_amount=unit))
    return lines


#: A line of several units whose units do not all cost the same: the amount is the line's total.
TOTAL_OF_UNITS = N_("{amount} (tổng cho {quantity} đơn vị)")


def line_amount_text(line: FeeLine | Mapping[str, Any], lang: str | None = None) -> str:
    """A line's amount, unambiguous when it counts several units: "2 × 8.000 ₫ = 16.000 ₫".

    "16.000 ₫ (× 2)" read as 16.000 ₫ a copy; the total is always the line's `amount`. A line
    recorded before `unit_amount` existed (or with free units, tiers or a cap) says it is a total.
    Exempt lines are the caller's to mark: their amount is 0."""
    get = line.get if isinstance(line, Mapping) else lambda key: getattr(line, key, None)
    amount, quantity, unit = int(get("amount") or 0), int(get("quantity") or 0), get("unit_amount")
    if quantity <= 1 or get("exempt"):
        return money(amount, lang)
    if isinstance(unit, int) and unit * quantity == amount:
        return f"{quantity} × {money(unit, lang)} = {money(amount, lang)}"
    return t(TOTAL_OF_UNITS, lang or current_lang(), amount=money(amount, lang), quantity=quantity)


def total(lines: list[FeeLine]) -> int:
    return sum(line.amount for line in lines)


# --- what is paid to whom ---------------------------------------------------------------------

#: The postal charge's line wherever fees are shown (Vietnamese source, as every message).
POSTAGE_LABEL = N_("Cước bưu chính (trả cho bưu điện khi nhận kết quả)")
TOTAL_LABEL = N_("Tổng cộng")
TOTAL_SPLIT = N_("{fees} phí, lệ phí nộp cho cơ quan giải quyết; {postage} cước bưu chính trả cho bưu điện")


class BillRow(BaseModel):
    """One line under the fee items: a label, an amount written the reader's way, a note."""

    label: str
    amount: str
    note: str = ""

    @property
    def line(self) -> str:
        return f"{self.label}: {self.amount}" + (f" ({self.note})" if self.note else "")


class Bill(BaseModel):
    """What the citizen pays, and to whom.

    The fees (phí, lệ phí) go to the agency: paid online, at the desk, or collected by the
    post on delivery for the agency (COD). The postal charge for returning the result is the
    post office's own price for its service (cước thu người nhận): the citizen pays it to
    the postman when the result arrives, so it is never part of what the agency's gateway
    or desk charges; the total shows both, each with who receives it.
    """

    fees: int
    postage: int = 0

    @property
    def total(self) -> int:
        return self.fees + self.postage

    def rows(self, lang: str = "vi") -> list[BillRow]:
        rows = []
        if self.postage:
            rows.append(BillRow(label=t(POSTAGE_LABEL, lang), amount=money(self.postage, lang)))
        note = t(TOTAL_SPLIT, lang, fees=money(self.fees, lang), postage=money(self.postage, lang)) if self.postage else ""
        rows.append(BillRow(label=t(TOTAL_LABEL, lang), amount=money(self.total, lang), note=note))
        return rows


def bill(fee_total: int, delivery: Any = None) -> Bill:
    """The bill of a dossier or draft: its fee total, and the postal charge if the result goes by post
    (`delivery`: a dossier.DeliveryChoice or None)."""
    postage = int(getattr(delivery, "postal_charge", 0) or 0) if getattr(delivery, "kind", None) == "postal" else 0
    return Bill(fees=int(fee_total or 0), postage=postage)
