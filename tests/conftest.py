"""Shared fixtures: a real app on a real TinyDB folder in a tmp dir, and a real server.

Nothing of our own is mocked. Browser tests drive Debian's Chromium and fail (never skip)
when it is missing, so a CI machine without it goes red. A test parametrized over
`backend` (indirect) also runs on a real PostgreSQL database of its own, created and
dropped around it; it fails (never skips) when PostgreSQL does not answer.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
import sys
import threading
from pathlib import Path
from typing import Iterator

# Compiled bytecode is kept (in the git-ignored __pycache__ folders) even where the
# environment says not to (PYTHONDONTWRITEBYTECODE): without it every run compiles the
# project and rewrites the asserts of every test module again (~4 s of CPU before the first
# test), and every `motcua serve` / `motcua worker` a test spawns compiles the project anew.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

import pytest  # noqa: E402

from motcua.app import create_app  # noqa: E402
from tests import route_builders  # noqa: E402
from tests.pg_databases import PG_ADMIN_URL, finish as _finish_pg_databases, pg_database  # noqa: F401 (re-exported)

route_builders.install()  # each app's URL builders: compiled once per rule for the run, not per app

REPO = Path(__file__).resolve().parent.parent
SPECS = REPO / "procedure_specs"
#: Debian's headless shell first: Chromium's own headless build (the one Playwright launches
#: for headless by default: same Blink and V8, no browser UI layers), ~40 % less CPU per
#: browser test than the full browser in headless mode (docs/performance.md, "Test suite");
#: the full browser when it is all there is. MOTCUA_TEST_CHROMIUM names another binary.
CHROMIUM_CANDIDATES = ("/usr/bin/chromium-headless-shell", "/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ENV = "MOTCUA_TEST_CHROMIUM"


#: Set by `pytest --deep` (or in the environment): the property-based tests draw many more
#: examples (docs/performance.md, "Test suite"). The default run keeps them bounded.
DEEP_ENV = "MOTCUA_TEST_DEEP"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--deep", action="store_true",
                     help="property-based tests draw their deep number of examples (MOTCUA_TEST_DEEP=1)")


def pytest_configure(config: pytest.Config) -> None:
    # an environment variable, not a global: test modules import this file as
    # `tests.conftest`, a second module object beside the one pytest loaded
    if config.getoption("--deep"):
        os.environ[DEEP_ENV] = "1"
    _temporary_folders_in_memory(config)
    _one_lint_cache(config)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto` (make test) starts two workers per CPU, not one: much of a test's time is spent
    waiting on a process it started (`motcua serve`, a worker it kills), Chromium or
    PostgreSQL, and a second worker per CPU runs its tests meanwhile (docs/performance.md,
    "Test suite": 268 s -> 190 s on two CPUs). Capped at 16 (a big machine's CPUs may not
    all be this run's); xdist's own answer when PYTEST_XDIST_AUTO_NUM_WORKERS or
    `-n logical` says otherwise."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS") or config.option.numprocesses == "logical":
        return None  # type: ignore[return-value]
    return min(2 * len(os.sched_getaffinity(0)), 16)


def _one_lint_cache(config: pytest.Config) -> None:
    """Every app and every process the run starts (`motcua serve`, `motcua worker`, the CLI)
    keeps its lint results in one folder (SPEC_CACHE_DIR, docs/deploy.md), as a deployment's
    processes may: each starts on a fresh data folder, and linting the shipped specs there
    cost ~0.4 s of CPU per process started. Made by the controller; xdist's workers and the
    processes the tests start inherit it. Tests of the data folder's own cache unset it."""
    if os.environ.get(SPEC_CACHE_ENV) or hasattr(config, "workerinput"):
        return
    folder = tempfile.mkdtemp(prefix="motcua-spec-cache-")
    os.environ[SPEC_CACHE_ENV] = folder
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


#: The variable _one_lint_cache sets for the run.
SPEC_CACHE_ENV = "MOTCUA_SPEC_CACHE_DIR"


#: Where tmp_path folders go when the machine has a memory file system (docs/performance.md,
#: "Test suite"). The store fsyncs every acknowledged write (an app's start alone: 8 fsyncs;
#: the suite: tens of thousands), and on a disk shared with other runs each waits ~1-18 ms; on
#: tmpfs an fsync returns at once. What the crash tests check is unchanged: a SIGKILLed
#: process leaves the kernel's page cache behind on either, so they test our ordering of
#: writes, renames and acknowledgements, never the disk.
MEMORY_TEMP_ROOT = Path("/dev/shm")
MEMORY_TEMP_NEEDS = 2 * 1024**3


def _temporary_folders_in_memory(config: pytest.Config) -> None:
    """tmp_path under MEMORY_TEMP_ROOT unless the run names its own (--basetemp or pytest's
    PYTEST_DEBUG_TEMPROOT); xdist's workers inherit it from the controller's environment."""
    if config.option.basetemp or os.environ.get("PYTEST_DEBUG_TEMPROOT"):
        return
    if not (MEMORY_TEMP_ROOT.is_dir() and os.access(MEMORY_TEMP_ROOT, os.W_OK | os.X_OK)):
        return
    # a container's /dev/shm is often 64 MB: a run's folders (~150 MB, three runs kept) need room
    if shutil.disk_usage(MEMORY_TEMP_ROOT).free >= MEMORY_TEMP_NEEDS:
        os.environ["PYTEST_DEBUG_TEMPROOT"] = str(MEMORY_TEMP_ROOT)


def examples(quick: int, deep: int) -> int:
    """How many examples a property-based test draws: `quick` in the default run, `deep` with
    `--deep`. Read when the test module is collected (after the options are parsed)."""
    return deep if os.environ.get(DEEP_ENV, "") not in ("", "0") else quick


#: Real scrypt with a lower work factor for every account a test makes or signs in with:
#: at the shipped cost each hash is ~80 ms of CPU, and staff tests make and sign in several
#: accounts each (~1 s of CPU per test in the back-office files, docs/performance.md).
CHEAP_HASH = "scrypt:1024:8:1"


@pytest.fixture(autouse=True, scope="session")
def cheap_hashes() -> Iterator[str]:
    """The whole run hashes at CHEAP_HASH; yields the shipped method, which
    test_default_hash_is_full_strength_scrypt puts back to check it. Processes a test spawns
    (`motcua serve`, the CLI in a subprocess) hash at the shipped cost."""
    from motcua import accounts

    shipped = accounts.HASH_METHOD
    accounts.HASH_METHOD = CHEAP_HASH
    yield shipped
    accounts.HASH_METHOD = shipped


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


BACKENDS = ["tinydb", "postgresql"]


def pytest_sessionfinish(session: pytest.Session) -> None:
    _finish_pg_databases()  # the test databases' drops, run in the background, and the template


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A new empty database (no schema yet: the migrations' own tests start from nothing)."""
    with pg_database(empty=True) as url:
        yield url


@pytest.fixture
def backend(request) -> str:
    """The store backend of this test: "tinydb" unless parametrized (indirect) over BACKENDS."""
    return getattr(request, "param", "tinydb")


@pytest.fixture
def store_target(backend: str, data_dir: Path) -> Iterator[str]:
    """What `open_store` and the app's STORE get: the data folder, or a fresh database URL."""
    if backend == "postgresql":
        with pg_database() as url:
            yield url
    else:
        yield str(data_dir)


@pytest.fixture
def app(data_dir: Path, store_target: str):
    app = create_app({"DATA_DIR": str(data_dir), "SPECS_DIR": str(SPECS), "TESTING": True, "STORE": store_target})
    yield app
    app.extensions["motcua"].store.close()


@pytest.fixture
def client(app):
    return app.test_client()


def free_port() -> int:
    """A port nothing listens on now, for a server bound after this returns. Drawn below the
    kernel's ephemeral range (32768-60999): a port from bind(0) is one the kernel also gives
    outgoing connections, which may take it in the seconds a spawned `motcua serve` needs to
    bind it. A multiple of 8, so `serve --demo`'s simulators find the next ports free too; drawn
    from the system's randomness, never from a `random` a test (or Hypothesis) has seeded."""
    from random import SystemRandom

    while True:
        port = SystemRandom().randrange(20000, 32760, 8)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


#: Ports `refused_port` holds: port -> its bound, never listening socket.
_REFUSING: dict[int, socket.socket] = {}


def refused_port() -> int:
    """A port where a connection is refused (an outside service that is down) and that no
    other server can take meanwhile: bound here, never listening. A port merely free when
    drawn (`free_port`) may be bound by another worker's server a moment later, which then
    answers in the down service's place. `LiveServer(app, port=port)` lets it go just before
    binding it (the service is back)."""
    while True:
        port = free_port()
        sock = socket.socket()
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.close()
            continue
        _REFUSING[port] = sock
        return port


def wait_for_server(process, url: str, timeout: float = 90.0) -> str:
    """The body of `url` once the spawned server answers it. A start-up wait, not a timing:
    under the suite's parallel workers a `motcua serve` may take many seconds to start, so
    the wait ends only when it answers, exits (the failure names its exit code) or `timeout`."""
    import urllib.request
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the server at {url} did not answer (exit code {process.poll()})")


class LiveServer:
    """A real waitress server on 127.0.0.1 in a background thread."""

    def __init__(self, wsgi_app, port: int | None = None, **settings) -> None:
        from motcua.wsgi_server import make_server

        self.port = port or free_port()
        held = _REFUSING.pop(self.port, None)
        if held is not None:  # a `refused_port`: the service comes back on it
            held.close()
        # the server `motcua serve` runs (QuietChannel): every live-server test sends through it
        self.server = make_server(wsgi_app, host="127.0.0.1", port=self.port, **{"threads": 4, **settings})
        self.thread = threading.Thread(target=self._run, daemon=True)
        self._closing = False

    def _run(self) -> None:
        try:
            self.server.run()
        except (OSError, ValueError):
            # close() from the test's thread pulls the socket from under the loop's select():
            # expected while closing, a real error otherwise
            if not self._closing:
                raise

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Close from inside the server's loop: its trigger wakes the loop's select() at once
        (closing the socket from here left the loop asleep for its 1-second timeout), every
        channel and the listening socket close there, the loop ends as its map empties, and
        the worker threads are stopped instead of left behind."""
        from waitress import wasyncore

        self._closing = True
        try:
            self.server.trigger.pull_trigger(lambda: wasyncore.close_all(self.server._map))
        except OSError:
            # the trigger is closed already: the loop has ended (it closed its map as it
            # went), so whatever is left is closed from here, with no loop to race
            wasyncore.close_all(self.server._map)
        self.thread.join(timeout=5)
        self.server.task_dispatcher.shutdown(timeout=5)


@pytest.fixture
def live_server(app) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        yield server


@pytest.fixture(scope="session")
def chromium_path() -> str:
    named = os.environ.get(CHROMIUM_ENV)
    if named:
        if not Path(named).exists():
            pytest.fail(f"{CHROMIUM_ENV}={named}: no such file")
        return named
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    found = shutil.which("chromium-headless-shell") or shutil.which("chromium")
    if found:
        return found
    pytest.fail("Chromium is not installed: browser tests need it (apt-get install chromium-headless-shell)")


@pytest.fixture(scope="session")
def browser(chromium_path: str):
    from playwright.sync_api import expect, sync_playwright

    # an `expect` waits as long as an action does (30 s), not 5 s: a loaded CI machine
    expect.set_options(timeout=30_000)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def watch_csp(page) -> list[str]:
    """Collect the Content-Security-Policy violations `page` reports (console errors):
    a page that breaks the site's own policy has a script or style that silently did not run."""
    violations: list[str] = []

    def on_console(message) -> None:  # noqa: ANN001
        if message.type == "error" and "Content Security Policy" in message.text:
            violations.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    return violations


@pytest.fixture
def page(browser):
    """A fresh browser page; every browser test that uses it fails if a page it visited
    broke the Content-Security-Policy."""
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    violations = watch_csp(page)
    yield page
    context.close()
    assert violations == [], "Content-Security-Policy violations:\n" + "\n".join(violations)


@pytest.fixture
def jobs_run_at_once(app, monkeypatch):
    """A worker that runs every job the moment an engine call has deferred it: for the tests
    written before the carrier bookings became jobs, which check the parcel right after the
    action. The real queue runs the real jobs (engine.flush); tests of what the citizen and
    staff see while a booking is still a job (tests/test_postal_jobs.py) do not use it."""
    engine = app.extensions["motcua"].engine
    for name in ("perform", "file", "on_filed", "signal", "citizen_withdraw", "citizen_supplement"):
        real = getattr(engine, name)

        def at_once(*args, _real=real, **kwargs):
            result = _real(*args, **kwargs)
            engine.flush()
            code = getattr(result, "code", None)  # a dossier returned: as it is after the jobs
            return engine.store.dossiers.get(code) if code else result

        monkeypatch.setattr(engine, name, at_once)
    return engine


@pytest.fixture
def english_findings(monkeypatch) -> Iterator[None]:
    """Lint findings worded in English (they are Vietnamese by default, docs/i18n.md): for the
    tests that hold the linter's wording, written in English when they were. The CLI reads
    MOTCUA_LANG; the library the lint language (motcua.spec.words.speaking)."""
    from motcua.spec.words import speaking

    monkeypatch.setenv("MOTCUA_LANG", "en")
    with speaking("en"):
        yield
