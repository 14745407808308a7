"""Several processes, each with several threads, filing and updating at once lose nothing.

Every worker files its own dossiers (codes from next_code), appends an event to each, and
also appends to one dossier that all of them share, bumps one shared counter and races
for the same idempotency keys: the classic lost-update and double-insert cases. Run on
the embedded store and on PostgreSQL (a database of its own).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from conftest import BACKENDS

from motcua.dossier import Contact, Dossier, Event, Status
from motcua.store import open_store
from motcua.store.summary import summarize

WORKER = r'''
import json
import sys
import threading
from datetime import date, datetime, timezone
from pathlib import Path

from motcua.dossier import Contact, Dossier, Event, Status
from motcua.store import open_store

target, proc, threads, rounds, data = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
store = open_store(target, data)
results = []
lock = threading.Lock()

def work(t):
    mine = {"codes": [], "wins": []}
    for i in range(rounds):
        who = f"{proc}.{t}.{i}"
        code = store.dossiers.next_code("H56", date(2025, 5, 10))
        store.dossiers.add(Dossier(
            code=code, procedure_code="p", spec_version="1", agency_code="H56", channel="online",
            contact=Contact(name="Võ Thị Sáu"), data={"who": who},
            filed_at=datetime(2025, 5 + i % 2, 10, tzinfo=timezone.utc),
        ))
        store.dossiers.update(code, lambda d: d.record(Event(actor="system", kind="note", data={"who": who})))
        store.dossiers.update("SHARED", lambda d: d.record(Event(actor="system", kind="touch", data={"who": who})))
        store.records("counters").update("c", lambda cur: {"n": (cur or {"n": 0})["n"] + 1})
        if store.records("payments").insert_new(f"txn-{i}", {"who": who}):
            mine["wins"].append(f"txn-{i}")
        mine["codes"].append([code, who])
    with lock:
        results.append(mine)

ts = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(json.dumps(results))
'''

PROCESSES, THREADS, ROUNDS = 3, 3, 12


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_processes_and_threads_filing_and_updating_at_once_lose_nothing(tmp_path: Path, backend, store_target):
    data = tmp_path / "data"
    data.mkdir()
    if backend == "tinydb":  # small chunks for the embedded store; a PostgreSQL folder holds no store.json of it
        (data / "store.json").write_text(json.dumps({"format": "motcua-tinydb", "version": 1, "chunk_size": 5}))
    store = open_store(store_target, data)
    store.dossiers.add(Dossier(code="SHARED", procedure_code="p", spec_version="1", agency_code="H56",
                               channel="online", contact=Contact(name="Chung")))
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    procs = [
        subprocess.Popen([sys.executable, str(script), store_target, str(p), str(THREADS), str(ROUNDS), str(data)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for p in range(PROCESSES)
    ]
    reports = []
    for proc in procs:
        # Only a hang reaches this: the workers do a fixed amount of work, however slowly.
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        reports.extend(json.loads(out))

    filed = {code: who for r in reports for code, who in r["codes"]}
    total = PROCESSES * THREADS * ROUNDS
    assert len([c for r in reports for c, _ in r["codes"]]) == total
    assert len(filed) == total, "next_code handed out a code twice"
    numbers = sorted(int(code.rsplit("-", 1)[1]) for code in filed)
    assert numbers == list(range(1, total + 1)), "the codes of the office's day have a gap"

    stored = [d for d in store.dossiers.all() if d.code != "SHARED"]
    assert Counter(d.code for d in stored) == Counter(filed.keys()), "a dossier is missing or stored twice"
    assert store.dossiers.count() == total + 1
    assert list(store.dossiers.summaries()) == [summarize(d) for d in store.dossiers.all()]
    for d in stored:
        assert d.data["who"] == filed[d.code]
        assert [(e.kind, e.data) for e in d.events] == [("note", {"who": filed[d.code]})]

    shared = store.dossiers.get("SHARED")
    touches = Counter(e.data["who"] for e in shared.events)
    assert touches == Counter(filed.values()), "an update of the shared dossier was lost or doubled"
    assert store.records("counters").get("c") == {"n": total}
    wins = Counter(k for r in reports for k in r["wins"])
    assert wins == Counter({f"txn-{i}": 1 for i in range(ROUNDS)}), "insert_new let two writers win"
    assert {k for k, _ in store.records("payments").all()} == set(wins)
    assert shared.status == Status.NEW and isinstance(shared.events[0], Event)
    store.close()
