"""A request taking back its uploads never deletes a file another request stored meanwhile.

Two requests upload the very same bytes at the same time; the first one's filing fails and
it takes back the files it created. Whether it created a file is decided by the file store
under the file's lock (`FileStore.add`), and its delete only goes through if no put came
after its own (`delete(version=...)`, under the same lock). Real TinyDB folder, real threads.
"""

from __future__ import annotations

import threading

import pytest

from motcua import uploads
from motcua.store import open_store
from tests.portal_helpers import BIRTH_CODE, small_pdf


class PausedAfterFirstStore:
    """The real file store; the first store of `paused_thread` waits, once it is done,
    until the test lets it go on: the moment another request can come in between."""

    def __init__(self, files, paused_thread: str) -> None:
        self._files = files
        self._paused_thread = paused_thread
        self.stored = threading.Event()
        self.go_on = threading.Event()

    def _pause(self) -> None:
        if threading.current_thread().name == self._paused_thread and not self.stored.is_set():
            self.stored.set()
            assert self.go_on.wait(20)

    def put(self, data: bytes) -> str:
        file_id = self._files.put(data)
        self._pause()
        return file_id

    def add(self, data: bytes):
        done = self._files.add(data)
        self._pause()
        return done

    def __getattr__(self, name: str):
        return getattr(self._files, name)


class FilingFailed(Exception):
    pass


@pytest.fixture
def component(app):
    spec = app.extensions["motcua"].catalogue.get(BIRTH_CODE)
    return next(a for a in spec.attachments if a.id == "giay_chung_sinh")


def test_add_says_whether_it_created_the_file_and_versions_only_grow(tmp_path) -> None:
    files = open_store(tmp_path / "data").files
    first = files.add(b"%PDF-1.4 mot")
    assert first.created and files.exists(first.file_id)
    versions = [first.version]
    for _ in range(50):  # faster than the file system's clock ticks: still strictly later
        again = files.add(b"%PDF-1.4 mot")
        assert not again.created and again.file_id == first.file_id
        versions.append(again.version)
    assert versions == sorted(set(versions))
    assert files.delete(first.file_id, version=first.version) is False  # stored again since
    assert files.read(first.file_id) == b"%PDF-1.4 mot"
    assert files.delete(first.file_id, version=versions[-1]) is True
    assert not files.exists(first.file_id)
    assert files.put(b"%PDF-1.4 mot") == first.file_id  # put: as before, the id


def test_a_rollback_keeps_a_file_another_request_stored_meanwhile(app, component) -> None:
    files = app.extensions["motcua"].store.files
    data = small_pdf("cung mot tep")
    checked, error = uploads.check(component, "giay-chung-sinh.pdf", data)
    assert error is None
    paused = PausedAfterFirstStore(files, paused_thread="request-a")
    seen: dict[str, object] = {}

    def request_a() -> None:  # stores the file, then its filing fails
        try:
            with uploads.stored(paused, [checked]) as refs:
                seen["a"] = refs[0].file_id
                raise FilingFailed
        except FilingFailed:
            seen["a_rolled_back"] = True

    a = threading.Thread(target=request_a, name="request-a", daemon=True)
    a.start()
    assert paused.stored.wait(20)  # A created the file and is about to go on

    def request_b() -> None:  # the same bytes, filed successfully: its dossier refers to the file
        with uploads.stored(paused, [checked]) as refs:
            seen["b"] = refs[0].file_id

    b = threading.Thread(target=request_b, name="request-b", daemon=True)
    b.start()
    b.join(20)
    assert not b.is_alive()
    paused.go_on.set()
    a.join(20)
    assert not a.is_alive() and seen.get("a_rolled_back")

    assert seen["a"] == seen["b"]
    assert files.read(seen["b"]) == data  # B's dossier still has its file


def test_a_rollback_still_takes_back_what_only_it_stored(app, component) -> None:
    files = app.extensions["motcua"].store.files
    data = small_pdf("chi minh toi")
    checked, _ = uploads.check(component, "giay-chung-sinh.pdf", data)
    with pytest.raises(FilingFailed):
        with uploads.stored(files, [checked]) as refs:
            file_id = refs[0].file_id
            assert files.exists(file_id)
            raise FilingFailed
    assert not files.exists(file_id)


def test_a_rollback_never_takes_a_file_that_was_there_before(app, component) -> None:
    files = app.extensions["motcua"].store.files
    data = small_pdf("da co truoc")
    file_id = files.put(data)
    checked, _ = uploads.check(component, "giay-chung-sinh.pdf", data)
    with pytest.raises(FilingFailed):
        with uploads.stored(files, [checked]):
            raise FilingFailed
    assert files.read(file_id) == data
