"""The linter warns when fees paid at the desk meet postal return without cash on delivery:
the result is posted only once the fee is paid, so the citizen would have to come anyway."""

from __future__ import annotations

import pytest
from test_spec_lint import base, findings, level, line_of, one, write

from motcua.spec.lint import lint_file

#: The findings' English wording is what these tests hold (Vietnamese is the default).
pytestmark = pytest.mark.usefixtures("english_findings")


RULE = "postal return is offered without `cash_on_delivery`"


def desk_paid_postal(cod: bool | None = None) -> dict:
    data = level(base(), "partial")
    data["steps"][0]["config"]["mode"] = "desk"
    postal = {"kind": "postal", "postal_charge": 30000}
    if cod is not None:
        postal["cash_on_delivery"] = cod
    data["delivery"] = [{"kind": "desk"}, postal]
    data["steps"].append("postal")
    return data


def test_desk_fees_with_postal_return_without_cod_warn_at_the_option(tmp_path):
    path = write(tmp_path, desk_paid_postal())
    finding = one(lint_file(path).findings, "warning")
    assert RULE in finding.message and "defeats postal return" in finding.message
    assert (finding.path, finding.line) == (str(path), line_of(path, "kind: postal"))
    assert lint_file(path).ok  # a warning: the spec is still served


def test_an_explicit_false_is_pointed_at(tmp_path):
    path = write(tmp_path, desk_paid_postal(cod=False))
    finding = one(lint_file(path).findings, "warning")
    assert RULE in finding.message
    assert finding.line == line_of(path, "cash_on_delivery: false")
    assert f"{path}:{finding.line}:{finding.col}" in str(finding)


def test_no_warning_with_cod_online_payment_or_no_fee(tmp_path):
    assert findings(tmp_path, desk_paid_postal(cod=True)) == []
    free = desk_paid_postal()
    free["fees"][0]["amount"] = 0
    assert findings(tmp_path, free) == []
    online = desk_paid_postal()
    online["level"] = "full"
    online["steps"][0]["config"]["mode"] = "online"
    assert findings(tmp_path, online) == []


def test_published_postal_return_on_level_1_is_not_concerned(tmp_path):
    """Paper dossiers: the fee is paid when handing in (at the desk or to the postal worker)."""
    from test_spec_lint import info_only

    data = info_only()
    data["delivery"].append({"kind": "postal"})
    assert findings(tmp_path, data) == []
