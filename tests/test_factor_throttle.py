"""The second factor can't be guessed: one throttle, per code and per client, everywhere.

Tracking (/tra-cuu), the API and the rating form all check a dossier's second factor; they
count against the same limits, atomically, so guessing through one does not reset another.
"""

from __future__ import annotations

import re
import threading

import pytest

from motcua.app import create_app
from motcua.tracking_throttle import ATTEMPTS, Limits, Throttled, check_factor, purge
from tests.conftest import SPECS
from tests.test_portal_tracking import filed, lookup

RIGHT = "0987654321"
WRONG = "0911111111"


def api(client, code: str, factor: str):
    return client.get(f"/api/v1/dossiers/{code}", headers={"X-Motcua-Factor": factor})


def rate(client, code: str, factor: str):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/danh-gia").get_data(as_text=True)).group(1)
    return client.post("/danh-gia", data={"csrf_token": token, "code": code, "factor": factor, "score": "5"})


def test_the_factor_is_not_taken_from_the_url(app, client):
    code = filed(client)
    assert client.get(f"/api/v1/dossiers/{code}?factor={RIGHT}").status_code == 404
    assert api(client, code, RIGHT).status_code == 200
    posted = client.post(f"/api/v1/dossiers/{code}", json={"factor": RIGHT})
    assert posted.status_code == 200 and posted.get_json()["code"] == code
    assert client.post(f"/api/v1/dossiers/{code}", json={}).status_code == 400
    spec = client.get("/api/v1/openapi.json").get_json()["paths"]["/dossiers/{code}"]
    assert [p["in"] for p in spec["get"]["parameters"]] == ["path", "header"]
    assert "post" in spec and "429" in spec["get"]["responses"]


def test_api_guesses_are_throttled_per_code(app, client):
    code = filed(client)
    for _ in range(10):
        assert api(client, code, WRONG).status_code == 404
    blocked = api(client, code, RIGHT)
    assert blocked.status_code == 429
    assert "quá nhiều lần" in blocked.get_json()["errors"][0]["message"]


def test_all_entry_points_share_one_budget(app, client):
    code = filed(client)
    for _ in range(4):
        api(client, code, WRONG)
    for _ in range(4):
        lookup(client, code, WRONG)
    for _ in range(2):
        assert "không đúng" in rate(client, code, WRONG).get_data(as_text=True)
    # ten wrong in all: each place now refuses even the right factor
    assert "quá nhiều lần" in rate(client, code, RIGHT).get_data(as_text=True)
    assert api(client, code, RIGHT).status_code == 429
    assert lookup(client, code, RIGHT).status_code == 429


def test_rating_reveals_the_state_only_after_the_right_factor(app, client):
    code = filed(client)  # just filed: not returned, cannot be rated yet
    wrong = rate(client, code, WRONG).get_data(as_text=True)
    assert "Mã hồ sơ hoặc số điện thoại/CCCD không đúng." in wrong
    assert "Chỉ đánh giá được hồ sơ đã trả kết quả" not in wrong
    assert "Chỉ đánh giá được hồ sơ đã trả kết quả" in rate(client, code, RIGHT).get_data(as_text=True)


@pytest.fixture
def proxied(tmp_path):
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "SPECS_DIR": str(SPECS), "TESTING": True,
                      "PROXY_FIX_X_FOR": 1, "FACTOR_FAILURES_PER_CLIENT": 5})
    yield app
    app.extensions["motcua"].store.close()


def test_per_client_cap_with_the_address_from_the_proxy(proxied):
    client = proxied.test_client()
    codes = [filed(client) for _ in range(3)]
    guesser = {"X-Forwarded-For": "203.0.113.7"}
    for i in range(5):
        assert client.get(f"/api/v1/dossiers/{codes[i % 2]}", headers={**guesser, "X-Motcua-Factor": WRONG}).status_code == 404
    # the guesser is stopped on a code it never tried ...
    assert client.get(f"/api/v1/dossiers/{codes[2]}", headers={**guesser, "X-Motcua-Factor": RIGHT}).status_code == 429
    # ... while another citizen behind the same proxy is not
    other = {"X-Forwarded-For": "198.51.100.9", "X-Motcua-Factor": RIGHT}
    assert client.get(f"/api/v1/dossiers/{codes[2]}", headers=other).status_code == 200


def test_a_right_factor_gives_its_attempt_back(app, client):
    code = filed(client)
    for _ in range(9):
        lookup(client, code, WRONG)
    for _ in range(5):  # the owner may look as often as they like
        assert api(client, code, RIGHT).status_code == 200
    assert api(client, code, WRONG).status_code == 404  # the tenth failure
    assert api(client, code, RIGHT).status_code == 429


def test_counting_is_atomic_under_parallel_guesses(app, client):
    code = filed(client)
    store = app.extensions["motcua"].store
    outcomes: list[str] = []
    lock = threading.Lock()

    def guess() -> None:
        try:
            result = "open" if check_factor(store, code, WRONG, "", Limits()) else "wrong"
        except Throttled:
            result = "throttled"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=guess) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("wrong") == 10 and outcomes.count("throttled") == 20


def test_ended_windows_are_purged(app, client):
    code = filed(client)
    store = app.extensions["motcua"].store
    check_factor(store, code, WRONG, "10.0.0.1", Limits(), now=1000.0)
    assert len(list(store.records(ATTEMPTS).all())) == 2  # the code and the client
    assert purge(store, 3600, now=2000.0) == 0
    assert purge(store, 3600, now=5000.0) == 2
    assert list(store.records(ATTEMPTS).all()) == []
