"""Uploads that are filed, or nothing: check every file first, store only for a submission
that goes through, and take back what was stored when filing fails after all.

The checks themselves are `submission.check_upload` (size and type read from the content),
the same the portal's attachment step runs through `submission.store_upload`. A draft's
upload is stored at its step on purpose (the draft refers to it at once); a file left behind
by a replaced or expired draft is `motcua purge`'s to remove.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from motcua import submission
from motcua.dossier import AttachmentRef
from motcua.spec.model import Attachment
from motcua.store.base import FileStore, Put


@dataclass(frozen=True)
class Checked:
    """An upload that passed the content checks, not stored yet."""

    component: Attachment
    filename: str
    data: bytes


def check(component: Attachment, filename: str, data: bytes, lang: str = "vi") -> tuple[Checked | None, str | None]:
    """(the checked upload, None), or (None, the reason in the reader's language)."""
    _type, error = submission.check_upload(component, data, lang)
    return (None, error) if error else (Checked(component, filename, data), None)


@contextmanager
def stored(
    files: FileStore,
    checked: Iterable[Checked],
    lang: str = "vi",
    rollback_on: tuple[type[BaseException], ...] = (Exception,),
) -> Iterator[list[AttachmentRef]]:
    """Store the checked uploads and give their references to the block that files them.

    When the block raises one of `rollback_on` (its filing wrote nothing), the files this
    call created are deleted again before the exception goes on. Whether it created a file
    is decided by the file store under the file's lock (`FileStore.add`), so a file that was
    already there (the same bytes, in someone's draft or dossier) is left alone, and so is
    one that another request stored again after us: the delete is conditional on the
    version our put left, checked under the same lock.
    """
    recording = _Recording(files)
    refs: list[AttachmentRef] = []
    try:
        for item in checked:
            ref, error = submission.store_upload(recording, item.component, item.filename, item.data, lang)
            if error or ref is None:  # checked before: only a changed spec could get here
                raise ValueError(error or "upload refused")
            refs.append(ref)
    except BaseException:
        discard(files, recording.puts)
        raise
    try:
        yield refs
    except rollback_on:
        discard(files, recording.puts)
        raise


class _Recording:
    """The file store as `submission.store_upload` sees it, keeping what each put did."""

    def __init__(self, files: FileStore) -> None:
        self.files = files
        self.puts: list[Put] = []

    def put(self, data: bytes) -> str:
        done = self.files.add(data)
        self.puts.append(done)
        return done.file_id


def discard(files: FileStore, puts: Iterable[Put]) -> None:
    """Delete the files these puts created, unless stored again since (see `stored`)."""
    for done in puts:
        if done.created:
            files.delete(done.file_id, version=done.version)
