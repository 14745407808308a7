"""Fees: closed-form lines equal the unit-by-unit definition, and quantities are bounded.

Fees are computed on unvalidated draft answers (every page of a draft shows the running
bill), so a posted `extract_copies=20000000` must cost no more work than `2`.
"""

from __future__ import annotations

import random

import pytest
import yaml

from motcua.catalogue import Catalogue
from motcua.fees import DEFAULT_MAX_QUANTITY, _line_amount, compute_fees
from motcua.spec.lint import lint_file
from motcua.spec.model import FeeRule
from tests.portal_helpers import BIRTH, BIRTH_CODE, GOOD_ANSWERS, birth_spec, csrf, write_spec
from tests.test_spec_lint import base, findings


def unit_by_unit(rule: FeeRule, quantity: int) -> int:
    """The definition: each unit past the free ones at the last listed tier it reached."""
    total = 0
    for unit in range(rule.free_units + 1, quantity + 1):
        price = rule.amount
        for tier in rule.tiers:
            if unit >= tier.from_unit:
                price = tier.amount
        total += price
    return total if rule.max_amount is None else min(total, rule.max_amount)


def test_closed_form_equals_the_unit_by_unit_definition():
    rng = random.Random(7)
    for _ in range(400):
        tiers = [{"from_unit": rng.randint(2, 40), "amount": rng.choice([0, 500, 1000, 2000, 5000])} for _ in range(rng.randint(0, 4))]
        rule = FeeRule.model_validate({
            "id": "x", "kind": "fee", "name": {"vi": "Phí"}, "amount": rng.choice([0, 1000, 8000]),
            "quantity_field": "n", "free_units": rng.randint(0, 5), "tiers": tiers,
            "max_amount": rng.choice([None, 20000, 150000]),
        })
        for quantity in (0, 1, 2, 3, rng.randint(0, 60), 100):
            assert _line_amount(rule, quantity) == unit_by_unit(rule, quantity), (rule, quantity)


def birth():
    return Catalogue.from_folder(BIRTH.parent.parent).get(BIRTH_CODE)


def test_quantity_is_clamped_to_the_fields_maximum():
    spec = birth()
    line = next(l for l in compute_fees(spec, {"extract_copies": 20_000_000}) if l.id == "phi_ban_sao_trich_luc")
    assert (line.quantity, line.amount) == (20, 20 * 8000)  # schema: maximum 20
    huge = "9" * 5000  # int() of this would raise or crawl: it is simply "the most"
    line = next(l for l in compute_fees(spec, {"extract_copies": huge}) if l.id == "phi_ban_sao_trich_luc")
    assert line.quantity == 20


def test_quantity_without_a_maximum_is_clamped_to_the_default(tmp_path):
    data = birth_spec()
    del data["form"]["fields"]["properties"]["extract_copies"]["maximum"]
    write_spec(tmp_path / "specs", "khai-sinh", data)
    spec = Catalogue.from_folder(tmp_path / "specs").get(BIRTH_CODE)
    line = next(l for l in compute_fees(spec, {"extract_copies": 10**12}) if l.id == "phi_ban_sao_trich_luc")
    assert line.quantity == DEFAULT_MAX_QUANTITY
    assert line.amount == DEFAULT_MAX_QUANTITY * 8000


@pytest.mark.usefixtures("english_findings")  # the findings' English wording
def test_linter_warns_when_a_quantity_field_has_no_maximum(tmp_path):
    data = base()
    del data["form"]["fields"]["properties"]["copies"]["maximum"]
    found = findings(tmp_path, data)
    assert [f.severity for f in found] == ["warning"]
    assert "has no `maximum`" in found[0].message


def test_shipped_specs_lint_clean():
    from pathlib import Path

    for path in sorted((Path(BIRTH).parent.parent).rglob("*.yaml")):
        result = lint_file(path)
        assert not [f for f in result.findings if "maximum" in f.message], path


def test_a_huge_copy_count_posted_to_a_draft_is_bounded_on_every_page(client):
    start = client.get(f"/thu-tuc/{BIRTH_CODE}/nop")
    token_csrf = csrf(start.get_data(as_text=True))
    response = client.post(f"/thu-tuc/{BIRTH_CODE}/nop", data={**GOOD_ANSWERS["requester"], "csrf_token": token_csrf})
    assert response.status_code == 302
    draft_url = response.headers["Location"].rsplit("/", 1)[0]
    response = client.post(f"{draft_url}/copies", data={"extract_copies": "20000000", "csrf_token": token_csrf})
    page = client.get(f"{draft_url}/kiem-tra").get_data(as_text=True)
    assert ">20 × 8.000 ₫ = 160.000 ₫<" in page  # the quantity on the bill is clamped to the field's maximum
    assert "<strong data-fee-total>160.000 ₫</strong>" in page  # 20 copies x 8.000 VND
