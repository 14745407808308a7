"""What a citizen owes for a procedure, from the spec's fee rules and the answers.

Pure: the fee shown on the form, the one on the check-your-answers page, the one recorded
on the dossier and the amount a payment callback is checked against all come from here.
"""

from __future__ import annotations

from typing import Any, Mapping

from pydantic import BaseModel

from motcua.spec.conditions import holds, lookup
from motcua.spec.model import FeeRule, ProcedureSpec


class FeeLine(BaseModel):
    """One line of the bill: a fee (phí) or a charge (lệ phí), in VND."""

    id: str
    kind: str
    name: dict[str, str]
    quantity: int
    amount: int
    exempt: bool = False


def _quantity(rule: FeeRule, answers: Mapping[str, Any]) -> int:
    if not rule.quantity_field:
        return 1
    value = lookup(answers, rule.quantity_field)
    try:
        return max(0, int(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0


def _line_amount(rule: FeeRule, quantity: int) -> int:
    total = 0
    for unit in range(rule.free_units + 1, quantity + 1):
        price = rule.amount
        for tier in rule.tiers:
            if unit >= tier.from_unit:
                price = tier.amount
        total += price
    if rule.max_amount is not None:
        total = min(total, rule.max_amount)
    return total


def compute_fees(spec: ProcedureSpec, answers: Mapping[str, Any], channel: str = "online") -> list[FeeLine]:
    """The bill for these answers: every applicable line, exempt ones at 0 and marked."""
    lines: list[FeeLine] = []
    for rule in spec.fees:
        if not holds(rule.when, answers, channel):
            continue
        quantity = _quantity(rule, answers)
        exempt = rule.exempt_when is not None and holds(rule.exempt_when, answers, channel)
        amount = 0 if exempt else _line_amount(rule, quantity)
        lines.append(
            FeeLine(id=rule.id, kind=rule.kind, name=dict(rule.name), quantity=quantity, amount=amount, exempt=exempt)
        )
    return lines


def total(lines: list[FeeLine]) -> int:
    return sum(line.amount for line in lines)


def format_vnd(amount: int) -> str:
    """`135000` -> `135.000 ₫`, the way amounts are written in Vietnam."""
    return f"{amount:,}".replace(",", ".") + " ₫"
