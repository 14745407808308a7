"""The embedded store's journal never deadlocks (docs/store.md, "Locks"): a scan inside an
`update` callback while a fold runs, writers folding through (`journal_fold_bytes: 0`),
two processes writing and scanning while folds happen all the time, one folder opened by
two paths, a fork while a lock is held. Each would hang before the fix: they run in a
thread (or a subprocess) with a deadline, so a hang fails the test instead of the run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

import pytest

from motcua.dossier import Event, Status
from motcua.store import open_store
from motcua.store.check import check_store
from motcua.store.tinydb_store import bucket
from tests.test_store_contract import dossier

DEADLINE = 60.0  # seconds; a healthy run takes well under one


def _finishes(target: Callable[[], None], deadline: float = DEADLINE) -> None:
    """Run `target` in a thread; fail (not hang) when it has not returned by the deadline."""
    failed: list[BaseException] = []

    def run() -> None:
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            failed.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(deadline)
    assert not thread.is_alive(), f"deadlock: still waiting after {deadline:.0f} s"
    if failed:
        raise failed[0]


def _folder(tmp_path: Path, fold_bytes: int | None = None, chunk_size: int = 5) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    layout = {"format": "motcua-tinydb", "version": 1, "chunk_size": chunk_size}
    if fold_bytes is not None:
        layout["journal_fold_bytes"] = fold_bytes
    (data / "store.json").write_text(json.dumps(layout))
    return data


def _code_in_bucket_of(code: str, prefix: str) -> str:
    """Another code whose index bucket is `code`'s (so a fold needs that bucket)."""
    return next(c for i in range(100_000) if bucket(c := f"{prefix}-{i}") == bucket(code))


def test_a_scan_inside_an_update_callback_while_a_fold_needs_its_index_bucket(tmp_path: Path):
    store = open_store(_folder(tmp_path))
    store.dossiers.add(dossier("A-1"))
    store.dossiers.add(dossier(_code_in_bucket_of("A-1", "B")))  # journaled, not folded yet
    inside, folding = threading.Event(), threading.Event()
    seen: list[int] = []

    def callback(d) -> None:
        inside.set()
        assert folding.wait(DEADLINE)
        time.sleep(0.3)  # the fold is under way (before the fix: waiting for our bucket's lock)
        seen.append(len(store.dossiers.find()))
        d.events.append(Event(actor="staff", kind="received", status=Status.RECEIVED))
        d.status = Status.RECEIVED

    def fold() -> None:
        assert inside.wait(DEADLINE)
        folding.set()
        store.fold()  # what the background fold runs

    folder = threading.Thread(target=fold, daemon=True)
    folder.start()
    _finishes(lambda: store.dossiers.update("A-1", callback))
    folder.join(DEADLINE)
    assert not folder.is_alive(), "deadlock: the fold never finished"
    assert seen == [2]
    assert store.dossiers.get("A-1").status == Status.RECEIVED
    assert [d.code for d in store.dossiers.all()] == ["A-1", _code_in_bucket_of("A-1", "B")]


def test_a_records_scan_inside_a_records_update_while_a_fold_needs_its_bucket(tmp_path: Path):
    store = open_store(_folder(tmp_path))
    drafts = store.records("drafts")
    drafts.put("k", {"n": 0})  # journaled: the fold writes k's bucket
    inside, folding = threading.Event(), threading.Event()
    seen: list[list[str]] = []

    def callback(current):
        inside.set()
        assert folding.wait(DEADLINE)
        time.sleep(0.3)
        seen.append(sorted(key for key, _ in drafts.all()))
        return {"n": current["n"] + 1}

    def fold() -> None:
        assert inside.wait(DEADLINE)
        folding.set()
        store.fold()

    folder = threading.Thread(target=fold, daemon=True)
    folder.start()
    _finishes(lambda: drafts.update("k", callback))
    folder.join(DEADLINE)
    assert not folder.is_alive(), "deadlock: the fold never finished"
    assert seen == [["k"]] and drafts.get("k") == {"n": 1}
    assert dict(drafts.all()) == {"k": {"n": 1}}


def test_threads_writing_through_with_folds_inside_their_locks(tmp_path: Path):
    """`journal_fold_bytes: 0`: every add folds while holding its index bucket's lock, so
    before the fix two threads deadlocked (one folding, waiting for the other's bucket)."""
    store = open_store(_folder(tmp_path, fold_bytes=0))
    counters = store.records("counters")

    def writer(t: int) -> None:
        for i in range(12):
            store.dossiers.add(dossier(f"T{t}-{i}"))
            counters.update("shared", lambda cur: {"n": (cur or {"n": 0})["n"] + 1})
            store.dossiers.update(f"T{t}-{i}", lambda d: d.events.append(
                Event(actor="staff", kind="note", status=Status.NEW)))

    def all_writers() -> None:
        threads = [threading.Thread(target=writer, args=(t,), daemon=True) for t in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    _finishes(all_writers)
    assert store.dossiers.count() == 48 and counters.get("shared") == {"n": 48}
    assert all(len(d.events) == 2 for d in store.dossiers.all())
    assert store.journal.is_empty()


WORKER = r'''
import sys
from datetime import datetime, timezone
from motcua.dossier import Contact, Dossier, Event, Status
from motcua.store import open_store

data, me, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = open_store(data)
drafts = store.records("drafts")

def dossier(code):
    return Dossier(code=code, procedure_code="dang-ky-khai-sinh", spec_version="1",
                   agency_code="000.00.01.H56", channel="online",
                   contact=Contact(name="Nguyễn Thị Hồng", phone="0912345678"),
                   data={"child": {"full_name": "Trần Minh Khôi"}},
                   filed_at=datetime(2025, 5, 10, 3, 0, tzinfo=timezone.utc),
                   events=[Event(actor="citizen", kind="filed", status=Status.NEW)])

def receive(d):
    # scans inside the callback, while this dossier's index bucket lock is held
    assert store.dossiers.count() >= 1
    assert any(s.code == d.code for s in store.dossiers.summaries())
    d.events.append(Event(actor="staff", kind="received", status=Status.RECEIVED))
    d.status = Status.RECEIVED

def bump(current):
    seen = dict(drafts.all())  # a records scan inside a records update
    return {"n": (current or {"n": 0})["n"] + 1, "saw": len(seen)}

for i in range(rounds):
    code = f"{me}-{i}"
    store.dossiers.add(dossier(code))
    store.dossiers.update(code, receive)
    drafts.update("shared", bump)
    drafts.put(code, {"by": me})
    assert len(store.dossiers.find(status=Status.RECEIVED)) >= i + 1
print("done", flush=True)
store.close()
'''


def test_two_processes_writing_and_scanning_while_folds_run_all_the_time(tmp_path: Path):
    # ~1 change per fold: every write starts a background fold, every scan folds too
    data = _folder(tmp_path, fold_bytes=200, chunk_size=4)
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    rounds = 15
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent.parent), os.environ.get("PYTHONPATH", "")])}
    procs = [subprocess.Popen([sys.executable, str(script), str(data), name, str(rounds)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for name in ("P", "Q")]
    outputs = []
    try:
        for proc in procs:
            outputs.append(proc.communicate(timeout=240))
    except subprocess.TimeoutExpired:
        pytest.fail("deadlock: a writer process did not finish in 240 s")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0 and out.strip() == "done", err[-3000:]

    store = open_store(data)
    stored = list(store.dossiers.all())
    assert sorted(d.code for d in stored) == sorted(f"{p}-{i}" for p in "PQ" for i in range(rounds))
    assert all(d.status == Status.RECEIVED and len(d.events) == 2 for d in stored)
    assert store.dossiers.count() == 2 * rounds
    drafts = dict(store.records("drafts").all())
    assert drafts["shared"]["n"] == 2 * rounds  # no update lost between the processes
    store.close()
    report = check_store(data)
    assert not report.damaged, [str(f) for f in report.findings]


def test_one_folder_opened_by_two_paths_shares_its_locks(tmp_path: Path, monkeypatch):
    """An flock is per open file description: the same lock file opened twice by one thread
    would wait for itself. A relative and an absolute path (or a symlink) are one lock."""
    data = _folder(tmp_path)
    (tmp_path / "link").symlink_to(data)
    monkeypatch.chdir(tmp_path)
    by_link, by_name = open_store(Path("link")), open_store(data)
    other = next(k for i in range(100_000) if bucket(k := f"k{i}") == bucket("k") and k != "k")

    def nested() -> None:
        # the same records bucket's lock, taken again through the other store object
        by_link.records("drafts").update("k", lambda cur: (by_name.records("drafts").put(other, {"n": 2}), {"n": 1})[1])

    _finishes(nested, deadline=20)
    assert dict(by_name.records("drafts").all()) == {"k": {"n": 1}, other: {"n": 2}}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fork with threads, on purpose
def test_a_forked_child_neither_inherits_a_held_lock_nor_keeps_the_parents(tmp_path: Path):
    """A thread holds a partition lock while another forks. The child must be able to take
    the lock once the parent lets it go (its copy of the thread lock would be held by a
    thread that does not exist there), and the parent must get it back while the child lives
    (the child's inherited descriptor would keep the parent's flock)."""
    store = open_store(_folder(tmp_path))
    records = store.records("drafts")
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with store._f.lock("records", "drafts", bucket("k")):
            held.set()
            release.wait(DEADLINE)

    thread = threading.Thread(target=holder, daemon=True)
    thread.start()
    assert held.wait(DEADLINE)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: wait for the parent's go, then write under the lock
        os.close(write_end)
        code = 1
        try:
            os.read(read_end, 1)
            records.put("child", {"n": 1})
            code = 0
        finally:
            os._exit(code)
    os.close(read_end)
    reaped = False
    try:
        release.set()
        thread.join(DEADLINE)
        # the child is alive and waiting on the pipe: the lock must be ours again
        _finishes(lambda: records.update("k", lambda cur: {"n": 1}), deadline=20)
        os.write(write_end, b"x")
        deadline = time.monotonic() + DEADLINE
        while not (reaped := os.waitpid(pid, os.WNOHANG)[0] == pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert reaped, "deadlock: the forked child never got the lock"
    finally:
        os.close(write_end)
        if not reaped:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
    assert records.get("k") == {"n": 1} and records.get("child") == {"n": 1}


def test_transaction_blocks_take_turns_and_their_fsyncs_are_still_shared(tmp_path: Path, monkeypatch):
    """The bodies of the process's `transaction` blocks run one at a time, while the fsync
    that ends each one is waited for outside its turn, so blocks that appended meanwhile
    share the next one (a slow disk: 20 ms a flush, far longer than a block's body even on
    a loaded machine)."""
    from motcua.store import journal as journal_module
    from motcua.store import transaction

    store = open_store(_folder(tmp_path))
    records = store.records("drafts")
    syncs: list[int] = []
    real = os.fdatasync

    def slow_fdatasync(fd: int) -> None:
        syncs.append(fd)
        time.sleep(0.02)
        real(fd)

    monkeypatch.setattr(journal_module.os, "fdatasync", slow_fdatasync)
    inside, most = [0], [0]
    guard = threading.Lock()

    def block(t: int, i: int) -> None:
        with transaction(store):
            with guard:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            records.put(f"t{t}-{i}", {"n": i})
            store.dossiers.add(dossier(f"T{t}-{i}"))
            time.sleep(0.001)  # a thread switch inside the body: another block would start here
            with guard:
                inside[0] -= 1

    def writer(t: int) -> None:
        for i in range(4):
            block(t, i)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE)
    assert most[0] == 1, "two transaction blocks ran at once"
    assert all(records.get(f"t{t}-{i}") == {"n": i} and store.dossiers.get(f"T{t}-{i}") for t in range(8) for i in range(4))
    assert len(syncs) < 32 * 2 / 3, f"{len(syncs)} fsyncs for 32 blocks: the blocks' fsyncs are not shared"


def test_a_transaction_inside_an_update_callback_does_not_wait_for_its_turn(tmp_path: Path):
    """A block whose turn it is waits for a partition lock; the thread holding that lock opens
    a block of its own (the portal's draft filing a dossier inside its update). Waiting for
    its turn there would deadlock: it enters at once."""
    from motcua.store import transaction

    store = open_store(_folder(tmp_path))
    drafts = store.records("drafts")
    b_holds_lock, a_in_block = threading.Event(), threading.Event()

    def a() -> None:
        with transaction(store):
            a_in_block.set()
            assert b_holds_lock.wait(DEADLINE)
            drafts.put("k", {"by": "a"})  # the bucket B holds: waits for B

    def b() -> None:
        def inside(current):
            b_holds_lock.set()
            assert a_in_block.wait(DEADLINE)
            with transaction(store):  # A's turn: must not wait for it
                store.records("other").put("x", {"by": "b"})
            return {"by": "b"}

        drafts.update("k", inside)

    thread = threading.Thread(target=a, daemon=True)
    thread.start()
    _finishes(b, deadline=20)
    thread.join(20)
    assert not thread.is_alive(), "deadlock: the block whose turn it was never got its lock"
    assert drafts.get("k") == {"by": "a"} and store.records("other").get("x") == {"by": "b"}
