"""A fee line of several units says what each costs and what the line comes to: "2 × 8.000 ₫ =
16.000 ₫", never "16.000 ₫ (× 2)", which read as 16.000 ₫ a copy. When the units do not all cost
the same (free units, tiers, a cap) the line says its amount is the total. The shipped birth
registration spec, its real bill; the check-answers page through the real app."""

from __future__ import annotations

from motcua.fees import compute_fees, line_amount_text
from motcua.spec.model import FeeTier
from test_renderers_documents import ANSWERS, birth  # noqa: F401


def copies_line(spec, copies: int):
    return next(line for line in compute_fees(spec, {**ANSWERS, "extract_copies": copies})
                if line.id == "phi_ban_sao_trich_luc")


def test_units_of_one_price_say_count_times_price_equals_total(birth):  # noqa: F811
    line = copies_line(birth, 2)
    assert (line.quantity, line.unit_amount, line.amount) == (2, 8000, 16000)
    assert line_amount_text(line, "vi") == "2 × 8.000 ₫ = 16.000 ₫"
    assert line_amount_text(line, "en") == "2 × VND 8,000 = VND 16,000"
    # as recorded on a dossier (a dict), the same words
    assert line_amount_text(line.model_dump(mode="json"), "vi") == "2 × 8.000 ₫ = 16.000 ₫"
    assert line_amount_text(copies_line(birth, 1), "vi") == "8.000 ₫"  # one unit: just the amount


def test_units_of_different_prices_say_the_amount_is_the_total(birth):  # noqa: F811
    rule = next(r for r in birth.fees if r.id == "phi_ban_sao_trich_luc")
    tiered = birth.model_copy(update={"fees": [rule.model_copy(update={"tiers": [FeeTier(from_unit=2, amount=5000)]})]})
    line = compute_fees(tiered, {**ANSWERS, "extract_copies": 3})[0]
    assert (line.amount, line.unit_amount) == (18000, None)
    assert line_amount_text(line, "vi") == "18.000 ₫ (tổng cho 3 đơn vị)"
    assert line_amount_text(line, "en") == "VND 18,000 in total for 3 units"
    # a line recorded before the unit price was kept says the same
    old = {k: v for k, v in copies_line(birth, 2).model_dump(mode="json").items() if k != "unit_amount"}
    assert line_amount_text(old, "vi") == "16.000 ₫ (tổng cho 2 đơn vị)"


def test_tiers_that_happen_to_average_the_first_price_still_say_the_total(birth):  # noqa: F811
    """8.000, then 4.000, then 12.000: three units come to 24.000 = 3 × 8.000 by chance, yet the
    units do not cost 8.000 each, so the line must not say "3 × 8.000 ₫"."""
    rule = next(r for r in birth.fees if r.id == "phi_ban_sao_trich_luc")
    tiers = [FeeTier(from_unit=2, amount=4000), FeeTier(from_unit=3, amount=12000)]
    tiered = birth.model_copy(update={"fees": [rule.model_copy(update={"tiers": tiers})]})
    line = compute_fees(tiered, {**ANSWERS, "extract_copies": 3})[0]
    assert (line.amount, line.unit_amount) == (24000, None)
    assert line_amount_text(line, "vi") == "24.000 ₫ (tổng cho 3 đơn vị)"
