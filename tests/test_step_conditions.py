"""Step conditions (`steps[].when`): a step runs only for the dossiers its condition holds for.

The plan is decided at filing over the answers as filed and the bill (`_fee_total`), kept in
the dossier, shown on the timeline when a step is passed over, and decided again after a
supplement only for the steps not reached yet (docs/specs.md, "Step conditions")."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest

from fixtures.workflow_kit import DESK, LEADER, SAMPLE, file_dossier, kinds, make_spec, propose
from motcua.catalogue import content_hash
from motcua.dossier import Status
from motcua.fees import compute_fees, total
from motcua.spec.cli import editor_schema
from motcua.web.labels import citizen_events, event_label
from motcua.workflow import ActionNotAllowed
from motcua.workflow.notes import render
from tests.portal_helpers import dump_yaml, read_yaml
from tests.test_portal_supplement import valid_answers

#: The findings' English wording is what these tests hold (Vietnamese is the default).
pytestmark = pytest.mark.usefixtures("english_findings")


HAS_FEE = {">": [{"var": "_fee_total"}, 0]}
REVIEW = {"name": "review", "config": {"units": ["Phòng Tư pháp"]}}


def _engine(app):
    return app.extensions["motcua"].engine


def test_an_online_payment_step_runs_only_when_there_is_a_fee(app):
    spec = make_spec([{"name": "payment", "config": {"mode": "online"}, "when": HAS_FEE}, REVIEW])
    engine = _engine(app)

    free = engine._get(file_dossier(app, spec, fee=0))
    assert "payment_requested" not in kinds(free) and Status(free.status) == Status.NEW
    skipped = next(e for e in free.events if e.kind == "step_skipped")
    assert skipped.data == {"step": "payment", "index": 0}
    assert render(skipped.message, "vi") == ("Bước “Thanh toán phí, lệ phí” không áp dụng cho hồ sơ này "
                                             "(điều kiện của bước không thỏa mãn) nên được bỏ qua.")
    assert render(skipped.message, "en").startswith("The “Fee payment” step does not apply to this dossier")
    # the citizen's timeline shows it, labelled in both languages
    assert skipped in citizen_events(free.events)
    assert event_label("step_skipped", lang="vi") == "Bỏ qua bước không áp dụng cho hồ sơ"
    assert event_label("step_skipped", lang="en") == "Step not applicable to this dossier, skipped"
    # a skipped step offers nothing and shows nothing
    with app.test_request_context():
        panels = "".join(str(p) for p in engine.citizen_panels(free))
    assert "Thanh toán" not in panels
    assert not {a.name for a in engine.actions(free, DESK)} & {"record_payment", "check_payment", "query_payment"}
    assert engine.cursor(free) == 1

    owed = engine._get(file_dossier(app, spec, fee=16000))
    assert "step_skipped" not in kinds(owed)
    assert "payment_requested" in kinds(owed) and Status(owed.status) == Status.PAYMENT_REQUESTED
    assert engine.cursor(owed) == 0


def test_the_plan_is_decided_at_filing_and_kept(app):
    """A skipped step stays skipped through the dossier's life (said on its pages from filing on),
    unless it collects a fee the dossier has come to owe: then it applies again, whatever raised
    the bill (here a change that is no supplement), and the result waits for the money."""
    spec = make_spec([REVIEW, {"name": "notify", "when": {"==": [{"var": "_channel"}, "desk"]}},
                      {"name": "payment", "config": {"mode": "desk"}, "when": HAS_FEE}])
    engine = _engine(app)
    code = file_dossier(app, spec, fee=0)
    assert engine._get(code).steps["_engine"]["skipped"] == [1, 2]
    # said from filing on, on the staff's and the citizen's pages, in the reader's language
    from flask import g

    with app.test_request_context():
        staff = "".join(str(p) for p in engine.staff_panels(engine._get(code)))
        g.lang = "en"
        citizen = "".join(str(p) for p in engine.citizen_panels(engine._get(code)))
    assert "Không áp dụng cho hồ sơ này (theo điều kiện của thủ tục): Thông báo, Thanh toán phí, lệ phí." in staff
    assert "Not applicable to this dossier (by the procedure&#39;s conditions): Notifications, Fee payment." in citizen
    app.extensions["motcua"].store.dossiers.update(code, lambda d: setattr(d, "fee_total", 16000))
    d = engine.perform(code, "receive", DESK)
    assert d.steps["_engine"]["skipped"] == [1]  # the notify step stays skipped; the payment step is back
    rejoined = next(e for e in d.events if e.kind == "step_replanned")
    assert rejoined.data == {"step": "payment", "index": 2, "applies": True, "rejoined": True}
    assert render(rejoined.message, "vi") == "Hồ sơ nay phải nộp phí, lệ phí nên bước “Thanh toán phí, lệ phí” được áp dụng lại cho hồ sơ."
    engine.perform(code, "process", DESK)
    propose(engine, code)
    d = engine.perform(code, "approve", LEADER)
    assert kinds(d).count("step_skipped") == 1 and "payment_due_at_desk" in kinds(d)
    assert engine.skipped_ahead(d) == []  # passed over now: the timeline says it
    with pytest.raises(ActionNotAllowed):
        engine.perform(code, "return_result", DESK)
    engine.perform(code, "record_payment", DESK, receipt_no="BL-2", amount="16000")
    assert engine.perform(code, "return_result", DESK).status == Status.RETURNED


def _supplemented(app, spec, filed_fee: int, copies: int):
    engine = _engine(app)
    code = file_dossier(app, spec, fee=filed_fee)
    engine.perform(code, "receive", DESK)
    engine.perform(code, "request_supplement", DESK, reason="Sai số bản sao", missing="Số bản sao trích lục")
    answers = {**valid_answers(spec), "extract_copies": copies}
    return code, engine.citizen_supplement(code, "Sửa số bản sao", [], answers=answers)


def test_a_supplement_brings_in_a_step_not_reached_yet(app):
    spec = make_spec([REVIEW, {"name": "payment", "config": {"mode": "desk"}, "when": HAS_FEE}])
    engine = _engine(app)
    code, d = _supplemented(app, spec, filed_fee=0, copies=3)
    assert d.fee_total == total(compute_fees(spec, d.data, d.channel)) > 0
    replanned = next(e for e in d.events if e.kind == "step_replanned")
    assert replanned.data == {"step": "payment", "index": 1, "applies": True}
    assert render(replanned.message, "vi") == "Sau khi bổ sung hồ sơ, bước “Thanh toán phí, lệ phí” được áp dụng cho hồ sơ này."
    assert kinds(d).index("supplemented") < kinds(d).index("step_replanned")
    assert d.steps["_engine"]["skipped"] == []
    engine.perform(code, "process", DESK)
    propose(engine, code)
    d = engine.perform(code, "approve", LEADER)
    assert "step_skipped" not in kinds(d)
    with pytest.raises(ActionNotAllowed):
        engine.perform(code, "return_result", DESK)  # the fee first, at the desk
    engine.perform(code, "record_payment", DESK, receipt_no="BL-1", amount=str(d.fee_total))
    assert engine.perform(code, "return_result", DESK).status == Status.RETURNED


def test_a_supplement_drops_a_step_that_no_longer_applies(app):
    spec = make_spec([REVIEW, {"name": "payment", "config": {"mode": "desk"}, "when": HAS_FEE}])
    assert total(compute_fees(spec, {**valid_answers(spec), "extract_copies": 0}, "online")) == 0
    engine = _engine(app)
    code, d = _supplemented(app, spec, filed_fee=16000, copies=0)
    assert d.fee_total == 0
    replanned = next(e for e in d.events if e.kind == "step_replanned")
    assert replanned.data == {"step": "payment", "index": 1, "applies": False}
    assert render(replanned.message, "en") == "After the supplement, the “Fee payment” step no longer applies to this dossier."
    engine.perform(code, "process", DESK)
    propose(engine, code)
    d = engine.perform(code, "approve", LEADER)
    assert d.events[-1].kind == "step_skipped"
    assert engine.perform(code, "return_result", DESK).status == Status.RETURNED


@pytest.mark.parametrize("mode", ["desk", "online"])
def test_a_payment_step_already_passed_comes_back_when_a_supplement_raises_the_fee(app, mode):
    """The payment step comes first and was skipped at filing (no fee then); the supplement
    raises the fee after the cursor passed it: the step applies again, so the fee is asked for
    (online: "payment requested" again) or recorded at the desk, and the result is not
    returned unpaid (the review finding: it was approved and returned without payment)."""
    spec = make_spec([{"name": "payment", "config": {"mode": mode}, "when": HAS_FEE}, REVIEW])
    engine = _engine(app)
    code, d = _supplemented(app, spec, filed_fee=0, copies=3)
    assert d.fee_total > 0 and d.steps["_engine"]["skipped"] == []
    assert any(e.kind == "step_replanned" and e.data["step"] == "payment" for e in d.events)
    if mode == "online":
        assert Status(d.status) == Status.PAYMENT_REQUESTED
        assert "record_payment" in {a.name for a in engine.actions(d, DESK)}  # cash settles it too
        d = engine.perform(code, "record_payment", DESK, receipt_no="BL-3", amount=str(d.fee_total))
        assert Status(d.status) == Status.RECEIVED
    engine.perform(code, "process", DESK)
    propose(engine, code)
    d = engine.perform(code, "approve", LEADER)
    if mode == "desk":
        blocked = {a.name: a.blocked_reason for a in engine.actions(d, DESK, include_blocked=True)}
        assert "record_payment" in blocked and blocked["return_result"]
        with pytest.raises(ActionNotAllowed, match="chưa nộp phí, lệ phí"):
            engine.perform(code, "return_result", DESK)
        engine.perform(code, "record_payment", DESK, receipt_no="BL-3", amount=str(d.fee_total))
    assert engine.perform(code, "return_result", DESK).status == Status.RETURNED


def test_the_result_is_never_returned_unpaid_whatever_the_steps(app, monkeypatch):
    """The core's own guard: even when the payment step does not hold the result back (here
    its `blocks` says nothing), a dossier whose fee total exceeds what was paid is not
    returned; staff are told why and what to do, and recording the payment lets it go."""
    from motcua_plugins.payment import PaymentStep

    monkeypatch.setattr(PaymentStep, "blocks", lambda self, ctx, action: None)
    spec = make_spec([REVIEW, {"name": "payment", "config": {"mode": "desk"}}])
    engine = _engine(app)
    code = file_dossier(app, spec, fee=16000)
    engine.perform(code, "receive", DESK)
    engine.perform(code, "process", DESK)
    propose(engine, code)
    d = engine.perform(code, "approve", LEADER)
    with pytest.raises(ActionNotAllowed) as refused:
        engine.perform(code, "return_result", DESK)
    assert str(refused.value) == ("Hồ sơ còn 16.000 ₫ phí, lệ phí chưa nộp nên chưa thể trả kết quả: ghi nhận đã thu "
                                  "phí tại quầy hoặc chờ công dân thanh toán trực tuyến.")
    assert "record_payment" in {a.name for a in engine.actions(d, DESK)}
    engine.perform(code, "record_payment", DESK, receipt_no="BL-4", amount="16000")
    assert engine.perform(code, "return_result", DESK).status == Status.RETURNED
    # a spec with no step collecting its fee keeps the fee outside the platform, as before
    outside = file_dossier(app, make_spec([REVIEW], version="no-payment"), fee=16000)
    for action in ("receive", "process"):
        engine.perform(outside, action, DESK)
    propose(engine, outside)
    engine.perform(outside, "approve", LEADER)
    assert engine.perform(outside, "return_result", DESK).status == Status.RETURNED


def test_a_condition_on_the_answers_and_the_older_shape(app):
    """A liaison-like step for some applicants only: here `notify`, for a requester who is not
    the child's father, written in the older `{field, not_equals}` shape."""
    spec = make_spec([{"name": "notify", "when": {"field": "requester.relation", "not_equals": "cha"}}, REVIEW])
    engine = _engine(app)
    store = app.extensions["motcua"].store
    codes = {}
    for relation in ("cha", "me"):
        code = file_dossier(app, spec, start=False)
        answers = {**valid_answers(spec)}
        answers["requester"] = {**answers["requester"], "relation": relation}
        store.dossiers.update(code, lambda d, a=answers: setattr(d, "data", a))
        engine.on_filed(code)
        codes[relation] = engine._get(code)
    assert codes["cha"].steps["_engine"]["skipped"] == [0] and "step_skipped" in kinds(codes["cha"])
    assert codes["me"].steps["_engine"]["skipped"] == [] and "step_skipped" not in kinds(codes["me"])


def test_a_spec_without_step_conditions_keeps_no_plan_and_its_hash(app):
    spec = make_spec([REVIEW])
    d = _engine(app)._get(file_dossier(app, spec))
    assert "skipped" not in d.steps["_engine"]
    dumped = spec.model_dump(mode="json", by_alias=True)
    assert dumped["steps"] == [{"name": "review", "config": {"units": ["Phòng Tư pháp"]}}]  # no `when: null`
    conditional = make_spec([{**REVIEW, "when": HAS_FEE}])
    assert content_hash(conditional) != content_hash(spec)


# --- lint and the editor schema --------------------------------------------------------------


def _lint(tmp_path, steps) -> list[str]:
    from motcua.spec.lint import lint_file

    data = read_yaml(SAMPLE)
    data["steps"] = steps
    path = tmp_path / "spec.yaml"
    path.write_text(dump_yaml(data), encoding="utf-8")
    return [f.message for f in lint_file(path).findings if f.severity == "error"]


def _base_steps() -> list:
    data = read_yaml(SAMPLE)
    return copy.deepcopy(data["steps"])


def test_lint_accepts_step_conditions(tmp_path):
    steps = _base_steps()
    steps[0] = {"name": steps[0]["name"] if isinstance(steps[0], dict) else steps[0],
                **({"config": steps[0]["config"]} if isinstance(steps[0], dict) and "config" in steps[0] else {}),
                "when": {"or": [HAS_FEE, {"<=": [{"var": "days_since_birth"}, 365]}]}}
    assert _lint(tmp_path, steps) == []
    steps.append({"name": "notify", "when": {"and": [HAS_FEE, {"<=": [{"var": "days_since_birth"}, 365]}]}})
    assert _lint(tmp_path, steps) == []


@pytest.mark.parametrize("when, expected", [
    ({">": [{"var": "_fee_totl"}, 0]}, "the `when` of step `review` reads `_fee_totl`, which is neither a field of `form.fields` nor a computed value; did you mean `_fee_total`?"),
    ({"==": [{"var": "requester.relaton"}, "cha"]}, "did you mean `requester.relation`?"),
    ({"=>": [{"var": "extract_copies"}, 1]}, "uses `=>`, which is not a JSON Logic operator; did you mean `>=`?"),
    ({"field": "requester.relaton", "equals": "cha"}, "did you mean `requester.relation`?"),
])
def test_lint_checks_a_step_condition(tmp_path, when, expected):
    steps = [s for s in _base_steps() if (s if isinstance(s, str) else s["name"]) != "review"]
    errors = _lint(tmp_path, steps + [{"name": "review", "when": when}])
    assert any(expected in m for m in errors), errors


def _payment_steps(when, first: bool = False) -> list:
    steps = [s for s in _base_steps() if (s if isinstance(s, str) else s["name"]) != "payment"]
    payment = {"name": "payment", "config": {"mode": "online"}, "when": when}
    return [payment] + steps if first else steps + [payment]


def _lint_all(tmp_path, steps) -> list[tuple[str, str]]:
    from motcua.spec.lint import lint_file

    data = read_yaml(SAMPLE)
    data["steps"] = steps
    path = tmp_path / "spec.yaml"
    path.write_text(dump_yaml(data), encoding="utf-8")
    return [(f.severity, f.message) for f in lint_file(path).findings]


@pytest.mark.parametrize("when", [{"==": [{"var": "_channel"}, "desk"]}, {">": [{"var": "_fee_total"}, 100000]},
                                  {"field": "requester.relation", "equals": "cha"}])
def test_lint_refuses_a_payment_step_condition_that_could_skip_a_fee_due(tmp_path, when):
    """A level-4 spec with fees whose payment step runs "only at the desk": lint used to pass
    it (the "fees but no way to pay" rule saw a payment step), and online dossiers went unpaid."""
    findings = _lint_all(tmp_path, _payment_steps(when))
    assert any(sev == "error" and "the `when` of the `payment` step must hold whenever a fee is due" in m
               for sev, m in findings), findings


def test_lint_warns_about_a_conditional_payment_step_before_review(tmp_path):
    early = _lint_all(tmp_path, _payment_steps(HAS_FEE, first=True))
    assert [m for sev, m in early if sev == "error"] == []
    assert any(sev == "warning" and "comes before `review`" in m for sev, m in early), early
    late = _lint_all(tmp_path, _payment_steps({"or": [HAS_FEE, {"==": [{"var": "_channel"}, "desk"]}]}))
    assert not [m for _sev, m in late if "payment" in m and "when" in m], late


def test_a_step_condition_that_cannot_be_evaluated_runs_the_step(app, caplog):
    """Fail closed: a spec with a loop among computed values (lint refuses it; this one
    bypasses lint) files, and the desk receives it, with the step run and the error logged
    (it used to fail the workflow's start and give the desk a 500 for ever)."""
    import logging

    data = read_yaml(SAMPLE)
    data.update(version="loop", steps=[{"name": "notify", "when": {">": [{"var": "loop"}, 0]}}, REVIEW],
                computed={**data.get("computed", {}), "loop": {"logic": {"+": [{"var": "loop"}, 1]}}})
    from motcua.spec.model import ProcedureSpec

    spec = ProcedureSpec.model_validate(data)
    engine = _engine(app)
    with caplog.at_level(logging.ERROR, logger="motcua.workflow.plan"):
        code = file_dossier(app, spec, fee=0)
    d = engine._get(code)
    assert d.steps["_engine"]["skipped"] == [] and "step_skipped" not in kinds(d)
    assert any("cannot be evaluated; the step runs" in r.getMessage() for r in caplog.records)
    assert Status(engine.perform(code, "receive", DESK).status) == Status.RECEIVED


def test_the_fee_total_is_a_step_condition_s_only(tmp_path):
    from motcua.spec.lint import lint_file

    data = read_yaml(SAMPLE)
    data["fees"][0]["when"] = HAS_FEE
    path = tmp_path / "spec.yaml"
    path.write_text(dump_yaml(data), encoding="utf-8")
    assert any("reads `_fee_total`" in f.message for f in lint_file(path).findings if f.severity == "error")


def test_the_editor_schema_completes_a_step_condition():
    schema = editor_schema()
    step = schema["properties"]["steps"]["items"]["anyOf"][1]
    assert step["properties"]["when"]["anyOf"][0] == {"$ref": "#/$defs/Condition"}
    data = read_yaml(SAMPLE)
    validator = jsonschema.Draft202012Validator(schema)
    data["steps"] = ["review", {"name": "payment", "config": {"mode": "online"}, "when": HAS_FEE}]
    assert list(validator.iter_errors(json.loads(json.dumps(data, default=str)))) == []
    data["steps"] = [{"name": "payment", "when": "có phí"}]
    assert list(validator.iter_errors(json.loads(json.dumps(data, default=str))))
