"""Fuzz the JSON API from its own OpenAPI document (schemathesis, in-process through the WSGI
app): whatever a client sends, the answer is never a 500. Bounded in examples per operation
(and derandomized) so `make test` stays quick and a failure replays; `pytest --deep` draws
many more (docs/performance.md, "Test suite")."""

from __future__ import annotations

import pytest
import schemathesis
import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from motcua.app import create_app
from tests.conftest import SPECS, examples

EXAMPLES = examples(15, 300)


@pytest.fixture(autouse=True)
def _generate_through_hypothesis_jsonschema(monkeypatch):
    """schemathesis 4.32 asks jsonschema-rs' canonical schema for `is_satisfiable`, which
    jsonschema-rs 0.61 (the project's pin, motcua.answers_fast) no longer has; its own
    fallback for schemas it cannot model is hypothesis-jsonschema, used here for all."""
    from schemathesis.specs.openapi import _hypothesis

    if hasattr(_hypothesis, "_canonical_strategy_or_none"):
        monkeypatch.setattr(_hypothesis, "_canonical_strategy_or_none", lambda *args, **kwargs: None)


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    app = create_app({"DATA_DIR": str(tmp_path_factory.mktemp("fuzz") / "data"), "SPECS_DIR": str(SPECS), "TESTING": True})
    yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    app.extensions["motcua"].store.close()


def _operations(schema) -> list:
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.slow
def test_every_operation_is_fuzzed(api_schema):
    labels = {op.label for op in _operations(api_schema)}
    assert {"POST /procedures/{code}/dossiers", "POST /dossiers/{code}/supplement", "GET /procedures"} <= labels


@pytest.mark.slow
@pytest.mark.parametrize("label", ["GET /procedures", "GET /procedures/{code}", "POST /procedures/{code}/dossiers",
                                   "GET /units/{province}/communes", "GET /dossiers/{code}", "POST /dossiers/{code}",
                                   "POST /dossiers/{code}/supplement"])
def test_no_request_gets_a_server_error(api_schema, label):
    operation = next(op for op in _operations(api_schema) if op.label == label)

    codes = ["1.001193", "1.000894", "1.004222", "9.999999"]

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(operation.as_strategy(), st.sampled_from(codes))
    def call(case, code):
        if label.startswith(("GET /procedures/", "POST /procedures/")):
            case.path_parameters["code"] = code  # real procedures too, not only 404s
        response = case.call()
        assert response.status_code < 500, (case.method, case.formatted_path, case.body, response.text[:500])

    call()
