"""A writer process killed with SIGKILL at random moments loses nothing it acknowledged.

The writer is a real process on the real store: it files a dossier, appends an event, and
saves a draft, printing each code only after the call returned. The test kills it many
times (the next writer starts on the same folder each time), then opens the store as a
portal would: no repair by hand, every acknowledged write is there and whole, and the
summaries (kept beside each chunk) say exactly what the dossiers say.

Nothing here depends on the machine's speed: each kill waits for a set number of
acknowledgements read from the writer's output (then a random few milliseconds), never for
a duration, so a loaded machine makes the test slower, not different. The only clock is a
generous deadline that turns a hung writer into a failure instead of a hung test run.
Run on the embedded store and on PostgreSQL (a database of its own).
"""

from __future__ import annotations

import json
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import BACKENDS

from motcua.dossier import Status
from motcua.store import open_store
from motcua.store.summary import summarize

WRITER = r'''
import sys
from datetime import date, datetime, timezone
from pathlib import Path

from motcua.dossier import Contact, Dossier, Event, Status
from motcua.store import open_store

store = open_store(sys.argv[1], Path(sys.argv[2]))
print("ready", flush=True)
i = 0
while True:
    i += 1
    code = store.dossiers.next_code("H56", date(2025, 5, 10))
    month = 5 + i % 2  # two filing months, so two chunk sequences grow at once
    store.dossiers.add(Dossier(
        code=code, procedure_code="dang-ky-khai-sinh", spec_version="1", agency_code="H56",
        channel="online", contact=Contact(name="Phạm Văn Đồng", phone="0987654321"),
        data={"child": {"full_name": "Phạm Gia Bảo"}, "note": "ý kiến " * 40, "code": code},
        filed_at=datetime(2025, month, 10, tzinfo=timezone.utc),
        events=[Event(actor="citizen", kind="filed", status=Status.NEW)],
    ))
    print("added", code, flush=True)
    store.dossiers.update(code, lambda d: d.record(Event(actor="system", kind="received", status=Status.RECEIVED)))
    print("updated", code, flush=True)
    store.records("drafts").put(code, {"answers": {"code": code, "pad": "x" * 300}})
    print("drafted", code, flush=True)
'''

KILLS = 20
DEADLINE = 600  # seconds for the whole test: only a hang reaches it


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_sigkill_at_random_moments_loses_no_acknowledged_write(tmp_path: Path, backend, store_target):
    data = tmp_path / "data"
    data.mkdir()
    # Small chunks so that kills also land while a new chunk is being started.
    if backend == "tinydb":  # a PostgreSQL store refuses a folder holding an embedded store's marker
        # and a small journal, so that folds into the chunk files run (and get killed) too
        (data / "store.json").write_text(json.dumps({"format": "motcua-tinydb", "version": 1, "chunk_size": 7,
                                                     "journal_fold_bytes": 6000}))
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    rng = random.Random(20250510)
    deadline = time.monotonic() + DEADLINE

    def next_line(lines: queue.Queue[str]) -> str:
        return lines.get(timeout=max(0.1, deadline - time.monotonic()))

    acked: dict[str, list[str]] = {"added": [], "updated": [], "drafted": []}
    for _ in range(KILLS):
        proc = subprocess.Popen([sys.executable, str(script), store_target, str(data)], stdout=subprocess.PIPE, text=True)
        lines: queue.Queue[str] = queue.Queue()
        reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True)
        reader.start()
        assert next_line(lines).strip() == "ready"
        # Kill after a random number of acknowledged writes (0-8, counted from the writer's
        # output) plus a random few milliseconds, so the kill lands anywhere in the write
        # path, however loaded the machine is.
        seen = [next_line(lines) for _ in range(rng.randint(0, 8))]
        time.sleep(rng.uniform(0, 0.02))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        reader.join(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        seen += list(lines.queue)
        for line in seen:
            what, _, code = line.strip().partition(" ")
            if line.endswith("\n") and what in acked:  # a line cut by the kill was no ack
                acked[what].append(code)
    # Sanity of the test itself, true by construction on any machine: the seeded draws wait
    # for 68 acknowledgements in all (28 of them "added": a writer acknowledges added,
    # updated, drafted in turn), whatever happens after each wait.
    assert len(acked["added"]) >= 28

    store = open_store(store_target, data)  # no repair by hand
    assert not list((data / "tmp").glob("*.tmp")), "temp files of killed writers are cleaned on open"
    stored = list(store.dossiers.all())  # every partition reads
    codes = [d.code for d in stored]
    assert len(codes) == len(set(codes)), "a code was handed out twice"
    assert store.dossiers.count() == len(stored)
    assert list(store.dossiers.summaries()) == [summarize(d) for d in stored]
    for code in acked["added"]:
        dossier = store.dossiers.get(code)
        assert dossier is not None, f"acknowledged dossier {code} lost"
        assert dossier.data["code"] == code and dossier.events[0].kind == "filed"
    for code in acked["updated"]:
        dossier = store.dossiers.get(code)
        assert dossier.status == Status.RECEIVED
        assert [e.kind for e in dossier.events] == ["filed", "received"]
    drafts = dict(store.records("drafts").all())
    for code in acked["drafted"]:
        assert drafts[code]["answers"]["code"] == code
    if backend == "tinydb":
        from motcua.store.check import check_store

        report = check_store(data)
        assert not report.damaged, [str(f) for f in report.findings]
    # and the store still takes writes after all that
    code = store.dossiers.next_code("H56", __import__("datetime").date(2025, 5, 10))
    assert code not in set(codes)
    store.close()
