"""What is published is what is enforced (issue 10): documents generated from each
procedure's *published* schema are filed through the API. Valid ones must all be 201; each
mutated one must be 422 with the mutation's pointer, never 201 or 500.

The generator reads only what the API publishes: the submission schema (hypothesis-jsonschema),
the documented formats (cccd, vn-mobile, tax-code: docs/specs.md), the documented keywords
`formatMinimum` / `formatMaximum` (relative dates resolved for today) and `x-units` (the
commune is one of the province's, GET /api/v1/units/{province}/communes), and each
attachment's `required_if`. Examples are bounded so each procedure takes a second or two;
`pytest --deep` draws many more (docs/performance.md, "Test suite").
"""

from __future__ import annotations

import base64
import copy
from functools import lru_cache
from typing import Any, Iterator

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator

from motcua.formats import CCCD_PATTERN, MOBILE, tax_check_digit
from tests.conftest import SPECS, examples
from tests.portal_helpers import small_pdf

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
SETTINGS = settings(max_examples=examples(4, 100), deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


@lru_cache(maxsize=1)
def _codes() -> list[str]:
    import yaml

    codes = []
    for path in sorted(SPECS.glob("*/*.yaml")):  # read once per run, with libyaml when there
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        if data.get("form") and any(c.get("kind") == "online" for c in data.get("channels") or []):
            codes.append(str(data["code"]))
    return codes


CUSTOM_FORMATS = {
    "cccd": st.from_regex(CCCD_PATTERN, fullmatch=True),
    "vn-mobile": st.from_regex(MOBILE.pattern, fullmatch=True),
    # the documented meaning: ten digits whose tenth is the check digit, maybe `-NNN`
    "tax-code": st.builds(lambda nine, branch: nine + str(tax_check_digit(nine)) + branch,
                          st.from_regex(r"[0-9]{9}", fullmatch=True),
                          st.sampled_from(["", "-001", "-123"])),
}


def _nodes(schema: Any, value: Any, path: tuple = ()) -> Iterator[tuple[tuple, dict, Any]]:
    """(path, published node, value) for every value of `value` the schema's structure names."""
    if not isinstance(schema, dict):
        return
    yield path, schema, value
    if isinstance(value, dict):
        for name, sub in (schema.get("properties") or {}).items():
            if name in value:
                yield from _nodes(sub, value[name], path + (name,))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            yield from _nodes(schema["items"], item, path + (i,))


def _repair(schema: dict, answers: dict, units: list[tuple[str, str]], draw_index: int) -> dict:
    """Apply the documented keywords hypothesis-jsonschema does not know."""
    answers = copy.deepcopy(answers)
    for path, node, value in list(_nodes(schema, answers)):
        if "x-units" in node and isinstance(value, dict):
            province, commune = units[draw_index % len(units)]
            value["province"], value["commune"] = province, commune
            value.pop("province_code", None)
            value.pop("commune_code", None)
            value.pop("district", None)
        if isinstance(value, str) and ("formatMaximum" in node or "formatMinimum" in node):
            low, high = node.get("formatMinimum", "0001-01-01"), node.get("formatMaximum", "9999-12-31")
            if not low <= value <= high:
                _set(answers, path, high if value > high else low)
    return answers


def _set(doc: Any, path: tuple, value: Any) -> None:
    for part in path[:-1]:
        doc = doc[part]
    doc[path[-1]] = value


def _pointer(path: tuple) -> str:
    return "/answers" + "".join(f"/{p}" for p in path)


def _files(detail: dict, answers: dict) -> list[dict]:
    files = []
    for a in detail["attachments"]:
        condition = a["required_if"]
        if condition is True or (isinstance(condition, dict) and Draft202012Validator(condition).is_valid(answers)):
            data = small_pdf() if "application/pdf" in a["accept"] else PNG
            files.append({"component": a["id"], "filename": "f", "content_base64": base64.b64encode(data).decode()})
    return files


def _delivery(detail: dict, units: list[tuple[str, str]]) -> dict:
    kinds = [d["kind"] for d in detail["delivery"]]
    if "desk" in kinds or not kinds:
        return {"kind": "desk"} if kinds else {}
    if "postal" in kinds:
        province, commune = units[0]
        return {"kind": "postal", "address": {"province": province, "commune": commune, "street": "Số 1"}}
    return {"kind": kinds[0]}


@pytest.fixture(scope="module")
def units() -> list[tuple[str, str]]:
    from motcua import units as u

    pairs = []
    for province in u.provinces()[::5]:
        communes = u.communes(province.code)
        pairs += [(province.code, c.code) for c in communes[:: max(1, len(communes) // 3)]][:3]
    return pairs


def _post(client, code: str, detail: dict, answers: dict, units: list[tuple[str, str]]):
    request = {"answers": answers, "attachments": _files(detail, answers)}
    offices = detail["request_schema"]["properties"]["agency"]["enum"]  # the performers to choose among
    request["agency"] = offices[len(offices) // 2]
    delivery = _delivery(detail, units)
    if delivery:
        request["delivery"] = delivery
    assert Draft202012Validator(detail["request_schema"]).is_valid(request)
    return client.post(f"/api/v1/procedures/{code}/dossiers", json=request)


@pytest.mark.slow
@pytest.mark.parametrize("code", _codes())
def test_valid_documents_from_the_published_schema_are_all_filed(app, units, code):
    client = app.test_client()
    detail = client.get(f"/api/v1/procedures/{code}").get_json()
    schema = detail["submission_schema"]

    @SETTINGS
    @given(from_schema(schema, custom_formats=CUSTOM_FORMATS), st.integers(0, 10_000))
    def file_one(answers, pick):
        answers = _repair(schema, answers, units, pick)
        assert Draft202012Validator(schema).is_valid(answers)
        response = _post(client, code, detail, answers, units)
        assert response.status_code == 201, (answers, response.get_json())

    file_one()


def _mutations(schema: dict, answers: dict) -> Iterator[tuple[str, dict, str]]:
    """(what, mutated answers, the pointer the server must name) for one valid document."""
    for path, node, value in _nodes(schema, answers):
        if isinstance(value, dict) and node.get("additionalProperties") is False:
            bad = copy.deepcopy(answers)
            target = bad
            for part in path:
                target = target[part]
            target["ghi_chu_la"] = "x" * 100
            yield "unknown key", bad, _pointer(path + ("ghi_chu_la",))
            for name in node.get("required") or []:
                if name in value:
                    bad = copy.deepcopy(answers)
                    target = bad
                    for part in path:
                        target = target[part]
                    del target[name]
                    yield "missing required", bad, _pointer(path + (name,))
        if path and node.get("type") == "string" and isinstance(value, str):
            for wrong in (True, 12345, ["x"]):
                bad = copy.deepcopy(answers)
                _set(bad, path, wrong)
                yield "wrong type", bad, _pointer(path)
            if isinstance(node.get("maxLength"), int):
                bad = copy.deepcopy(answers)
                _set(bad, path, "a" * (node["maxLength"] + 1))
                yield "too long", bad, _pointer(path)
            if "pattern" in node or node.get("format") in CUSTOM_FORMATS:
                bad = copy.deepcopy(answers)
                _set(bad, path, "٠" * len(value) if value else "x")
                yield "non-ASCII digits", bad, _pointer(path)
            if "formatMaximum" in node:
                bad = copy.deepcopy(answers)
                from datetime import date, timedelta

                _set(bad, path, (date.fromisoformat(node["formatMaximum"]) + timedelta(days=1)).isoformat())
                yield "after the published maximum", bad, _pointer(path)
        if path and node.get("type") == "integer" and isinstance(value, int) and not isinstance(value, bool):
            bad = copy.deepcopy(answers)
            _set(bad, path, str(value))
            yield "integer as text", bad, _pointer(path)


@pytest.mark.slow
@pytest.mark.parametrize("code", _codes())
def test_mutated_documents_are_refused_with_their_pointer(app, units, code):
    client = app.test_client()
    detail = client.get(f"/api/v1/procedures/{code}").get_json()
    schema = detail["submission_schema"]
    before = app.extensions["motcua"].store.dossiers.count()
    seen: set[str] = set()

    @settings(SETTINGS, max_examples=examples(2, 25))
    @given(from_schema(schema, custom_formats=CUSTOM_FORMATS), st.integers(0, 10_000))
    def refuse(answers, pick):
        answers = _repair(schema, answers, units, pick)
        for what, bad, pointer in _mutations(schema, answers):
            if Draft202012Validator(schema).is_valid(bad):
                continue  # e.g. a mutation a sibling `anyOf` still allows: not invalid
            response = client.post(f"/api/v1/procedures/{code}/dossiers",
                                   json={"answers": bad, "attachments": _files(detail, answers),
                                         **({"delivery": d} if (d := _delivery(detail, units)) else {})})
            assert response.status_code == 422, (what, pointer, bad, response.status_code, response.get_data(as_text=True)[:500])
            pointers = {e["pointer"] for e in response.get_json()["errors"]}
            assert any(p == pointer or p.startswith(pointer + "/") or pointer.startswith(p + "/") for p in pointers), (what, pointer, pointers)
            seen.add(what)

    refuse()
    assert app.extensions["motcua"].store.dossiers.count() == before
    assert {"unknown key", "wrong type", "missing required"} <= seen
