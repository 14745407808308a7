"""Benchmark (issue 17): CPU per filing in process, and what each journal fold costs, for
two source trees run alternately in the same session (the fold's share of a filing, and
whether a fold's cost grows with the number of dossiers kept).

    .venv/bin/python bench/filing_fold.py --tree before=/tmp/main-copy [--tree after=.]
                                          [--filings 1800] [--rounds 2]

Each tree is measured in a child process of its own (`PYTHONPATH=<tree>/platform`), one tree
after the other, `--rounds` times: a fresh data folder, the shipped specs, 30 warm-up
filings, then `--filings` births filed through the JSON API with Flask's test client on one
thread (no job queue in process, as `bench/portal.py` runs the server). The journal folds in
a thread of the same process every ~4 MB (~600 filings), so the CPU of the process
(`time.process_time`, every thread) per filing includes the folds' share; the bench waits for
the last fold to end before it stops the clock. Each fold's own CPU is `time.thread_time`
around `TinyStore.fold` in the thread that runs it. Take `before=` from `git archive` of the
commit to compare with (the child needs only its `platform/` folder: plugins and renderers
come from this checkout's install).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIRTH = "1.001193"
WARM_UP = 30


def seed(store, like: str, n: int) -> None:
    """`n` dossiers and their outbox records filed in the year before, copies of the dossier
    `like` under codes of their own day (300 a day), through the bulk paths (import's)."""
    from datetime import timedelta

    from motcua.dossier import Dossier

    model = store.dossiers.get(like)
    outbox = store.records("outbox").get(like) or {}
    office, start = model.agency_code, model.filed_at - timedelta(days=400)
    dossiers, records = [], []
    for i in range(n):
        at = start + timedelta(days=i // 300)
        code = f"{office}-{at.strftime('%y%m%d')}-{i % 300 + 1:04d}"
        dossiers.append(Dossier.model_validate({**model.model_dump(mode="json"), "code": code, "filed_at": at.isoformat()}))
        records.append((code, {**json.loads(json.dumps(outbox).replace(like, code))}))
    store.dossiers.add_many(dossiers)
    store.records("outbox").put_many(records)


def child(filings: int, batch: int, seeded: int) -> dict[str, object]:
    sys.path.insert(0, str(REPO / "bench"))
    from portal import filing_body

    from motcua.app import create_app
    from motcua.store.tinydb_store import TinyStore

    folds: list[tuple[float, float]] = []  # (thread CPU s, wall s) of each fold that wrote something
    plain_fold = TinyStore.fold

    def timed_fold(self: TinyStore) -> None:
        if self.journal.is_empty():
            return plain_fold(self)
        cpu, wall = time.thread_time(), time.perf_counter()
        try:
            return plain_fold(self)
        finally:
            folds.append((time.thread_time() - cpu, time.perf_counter() - wall))

    TinyStore.fold = timed_fold  # measured, not changed: the same method runs
    body = filing_body()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SPECS_DIR": str(REPO / "procedure_specs"), "DATA_DIR": str(Path(tmp) / "data"),
                          "PUBLIC_URL": "http://127.0.0.1", "JOBS_IN_PROCESS": False})
        store = app.extensions["motcua"].store
        client = app.test_client(use_cookies=False)
        url = f"/api/v1/procedures/{BIRTH}/dossiers"

        def file_one() -> None:
            answer = client.post(url, data=body, content_type="application/json", base_url="http://127.0.0.1")
            if answer.status_code != 201:
                raise SystemExit(f"filing answered {answer.status_code}: {answer.get_data(as_text=True)[:300]}")

        for _ in range(WARM_UP):
            file_one()
        if seeded:
            seed(store, json.loads(client.post(url, data=body, content_type="application/json",
                                               base_url="http://127.0.0.1").get_data())["code"], seeded)
            store.fold()
        folds.clear()  # the warm-up's and the seeding's
        batches: list[float] = []
        start = time.process_time()
        for done in range(filings):
            if done % batch == 0:
                batch_start = time.process_time()
            file_one()
            if done % batch == batch - 1 or done == filings - 1:
                batches.append((time.process_time() - batch_start) * 1000 / (done % batch + 1))
        with store._folding:  # the last background fold, if one runs, ends before the clock stops
            pass
        total = time.process_time() - start
        journal_left = sum(store.journal.path(g).stat().st_size for g in store.journal.generations())
        folded = list(folds)  # not the fold of close() below
        store.close()
    folds = folded
    return {"cpu_ms_per_filing": total * 1000 / filings, "batches": batches,
            "folds": [f[0] for f in folds], "fold_walls": [f[1] for f in folds], "journal_left": journal_left}


def run_tree(tree: Path, filings: int, batch: int, seeded: int) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(tree / "platform")}
    out = subprocess.run([sys.executable, __file__, "--child", "--filings", str(filings), "--batch", str(batch),
                          "--seed", str(seeded)],
                         cwd=REPO, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{tree}: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", action="append", default=[], help="NAME=DIR, a source tree to measure (repeatable)")
    parser.add_argument("--filings", type=int, default=1800)
    parser.add_argument("--batch", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="dossiers (and outbox records) stored before, in the year before")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.filings, args.batch, args.seed)))
        return
    trees = [(name, Path(path).resolve()) for name, _, path in (t.partition("=") for t in args.tree or ["this=."])]
    if not any(name for name, _ in trees):
        raise SystemExit("--tree NAME=DIR")
    print(f"{args.filings} filings per run, {args.seed} stored before, batches of {args.batch}, {args.rounds} round(s), load average "
          f"{os.getloadavg()[0]:.1f}", flush=True)
    results: dict[str, list[dict[str, object]]] = {name: [] for name, _ in trees}
    for r in range(args.rounds):
        for name, tree in trees:
            result = run_tree(tree, args.filings, args.batch, args.seed)
            results[name].append(result)
            folds = ", ".join(f"{f:.3f}" for f in result["folds"])  # type: ignore[union-attr]
            batches = ", ".join(f"{b:.2f}" for b in result["batches"])  # type: ignore[union-attr]
            print(f"round {r + 1} {name:<8} CPU {result['cpu_ms_per_filing']:.2f} ms/filing (batches: {batches}); "
                  f"folds' CPU s: {folds}", flush=True)
    base_name = trees[0][0]
    base = statistics.median(r["cpu_ms_per_filing"] for r in results[base_name])  # type: ignore[misc]
    print()
    print(f"{'tree':<8} {'CPU ms/filing':>14} {'ratio to ' + base_name:>16} {'fold CPU s (1st, last)':>24} {'ms/filing of folds':>20}")
    for name, _ in trees:
        runs = results[name]
        cpu = statistics.median(r["cpu_ms_per_filing"] for r in runs)  # type: ignore[misc]
        firsts = [r["folds"][0] for r in runs if r["folds"]]  # type: ignore[index]
        lasts = [r["folds"][-1] for r in runs if r["folds"]]  # type: ignore[index]
        share = statistics.median(sum(r["folds"]) * 1000 / args.filings for r in runs)  # type: ignore[arg-type]
        folds = f"{statistics.median(firsts):.3f}, {statistics.median(lasts):.3f}" if firsts else "-"
        print(f"{name:<8} {cpu:>14.2f} {cpu / base:>16.2f} {folds:>24} {share:>20.3f}")


if __name__ == "__main__":
    main()
