"""Uploads that are filed, or nothing: check every file first, store only for a submission
that goes through, and take back what was stored when filing fails after all.

The checks themselves are `submission.check_upload` (size and type read from the content),
the same the portal's attachment step runs through `submission.store_upload`. A draft's
upload is stored at its step on purpose (the draft refers to it at once); a file left behind
by a replaced or expired draft is `motcua purge`'s to remove.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Iterator

from motcua import submission
from motcua.dossier import AttachmentRef
from motcua.spec.model import Attachment
from motcua.store.base import FileStore


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
    call added are deleted again before the exception goes on. A file that was already
    there (the same bytes, in someone's draft or dossier) is left alone, and so is one that
    another request stored again after us (`older_than` is decided under the file's lock).
    """
    refs: list[AttachmentRef] = []
    added: list[tuple[str, datetime]] = []
    try:
        for item in checked:
            existed = files.exists(hashlib.sha256(item.data).hexdigest())
            ref, error = submission.store_upload(files, item.component, item.filename, item.data, lang)
            if error or ref is None:  # checked before: only a changed spec could get here
                raise ValueError(error or "upload refused")
            refs.append(ref)
            at = files.stored_at(ref.file_id)
            if not existed and at is not None:
                added.append((ref.file_id, at))
    except BaseException:
        discard(files, added)
        raise
    try:
        yield refs
    except rollback_on:
        discard(files, added)
        raise


def discard(files: FileStore, added: Iterable[tuple[str, datetime]]) -> None:
    """Delete files this request stored, unless stored again since (see `stored`)."""
    for file_id, at in added:
        files.delete(file_id, older_than=at + timedelta(microseconds=1))
