"""The portal killed with SIGKILL during a burst of concurrent filings loses no filing it
answered 201 for (issue 17: the embedded store's journal and its group commit).

A real `motcua serve` (8 waitress threads) on the embedded store, eight client threads
filing the birth registration through the JSON API at once. After a set number of 201
answers the server is killed with SIGKILL, mid-burst, and started again on the same folder;
three rounds. The journal is made small (store.json `journal_fold_bytes`) so that folds into
the chunk files run, and get killed, during the bursts too. Then: every code answered 201
reads back whole, no code was handed out twice, and `motcua store check` finds nothing.
Nothing waits for a duration: each kill waits for a number of answers.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from motcua.store import open_store
from motcua.store.check import check_store
from tests.conftest import free_port, wait_for_server
from tests.portal_helpers import BIRTH_CODE, birth_spec, write_spec
from tests.test_api_portal import body

ROUNDS = 3
ACKS_BEFORE_KILL = 30
CLIENTS = 8
DEADLINE = 300


def _body() -> bytes:
    return json.dumps(body(), ensure_ascii=False).encode()  # the API tests' birth registration


def _serve(specs: Path, data: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "motcua"), "serve", "--specs", str(specs), "--data", str(data),
         "--host", "127.0.0.1", "--port", str(port), "--threads", "8"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "MOTCUA_JOBS_IN_PROCESS": "false"})
    url = f"http://127.0.0.1:{port}"
    wait_for_server(proc, url + "/", timeout=120)
    return proc, url


@pytest.mark.slow
def test_sigkill_during_a_burst_of_concurrent_filings_loses_no_201(tmp_path: Path):
    specs = tmp_path / "specs"
    write_spec(specs, "khai-sinh", birth_spec())
    data = tmp_path / "data"
    data.mkdir()
    (data / "store.json").write_text(json.dumps(
        {"format": "motcua-tinydb", "version": 1, "chunk_size": 7, "journal_fold_bytes": 40_000}))
    body = _body()
    acked: list[str] = []
    refused: list[int] = []
    lock = threading.Lock()
    deadline = time.monotonic() + DEADLINE

    for _ in range(ROUNDS):
        proc, url = _serve(specs, data)
        enough = threading.Event()
        start = len(acked)

        def client() -> None:
            while not enough.is_set() and time.monotonic() < deadline:
                request = urllib.request.Request(f"{url}/api/v1/procedures/{BIRTH_CODE}/dossiers", data=body,
                                                 headers={"Content-Type": "application/json"}, method="POST")
                try:
                    with urllib.request.urlopen(request, timeout=60) as response:
                        answer = json.loads(response.read())
                        status = response.status
                except (urllib.error.URLError, http.client.HTTPException, OSError):
                    return  # the server is gone: whatever was not answered was not acknowledged
                with lock:
                    if status != 201:
                        refused.append(status)
                        return
                    acked.append(answer["code"])
                    if len(acked) - start >= ACKS_BEFORE_KILL:
                        enough.set()

        threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
        for t in threads:
            t.start()
        assert enough.wait(timeout=max(1.0, deadline - time.monotonic())), "the burst did not get its answers"
        proc.send_signal(signal.SIGKILL)  # mid-burst: the other clients' filings are in flight
        proc.wait(timeout=30)
        for t in threads:
            t.join(timeout=60)

    assert not refused, refused
    assert len(acked) >= ROUNDS * ACKS_BEFORE_KILL
    assert len(acked) == len(set(acked)), "a code was answered twice"
    store = open_store(data)  # no repair by hand
    for code in acked:
        dossier = store.dossiers.get(code)
        assert dossier is not None, f"filing {code} answered 201 and lost"
        assert dossier.data["child"]["full_name"] == "Lê Gia Bảo" and dossier.events[0].kind == "filed"
    stored = [d.code for d in store.dossiers.all()]
    assert len(stored) == len(set(stored)) and set(acked) <= set(stored)
    assert store.dossiers.count() == len(stored)
    store.close()
    report = check_store(data)
    assert not report.damaged, [str(f) for f in report.findings]
