"""A signed-in citizen's own documents ("Giấy tờ của tôi"): the files filed in the account's
dossiers, listed and attached again to a new dossier without uploading (once-only).

Only dossiers filed while this account was signed in (`Dossier.account`) count — not those
`citizens.owns` also gives it by ID number: a dossier anyone filed anonymously with that ID
must not bring its files into the account's list. A chosen file is looked up by id in that
list only, so an id guessed or copied from someone else's dossier is refused exactly like an
id that does not exist; and its bytes pass the slot's own checks (`submission.check_upload`),
as an upload would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from motcua import submission
from motcua.citizens import Account
from motcua.dossier import AttachmentRef
from motcua.i18n import N_, t
from motcua.spec.model import Attachment
from motcua.store.base import Store


@dataclass(frozen=True)
class Document:
    """One file as filed: which dossier, which component, when."""

    ref: AttachmentRef
    dossier_code: str
    procedure_code: str
    filed_at: datetime


def documents_of(store: Store, account: Account) -> list[Document]:
    """Every file filed in the account's own dossiers, newest dossier first."""
    mine = [d for d in store.dossiers.all() if d.account == account.key]
    mine.sort(key=lambda d: d.filed_at, reverse=True)
    return [Document(ref, d.code, d.procedure_code, d.filed_at) for d in mine for ref in d.attachments]


def choices_for(documents: list[Document], component: Attachment) -> list[Document]:
    """The documents this slot can take (type and size as filed), each file once."""
    seen: set[str] = set()
    out = []
    limit = int(component.max_size_mb * 1024 * 1024)
    for doc in documents:
        ref = doc.ref
        if ref.file_id in seen or ref.content_type not in component.accept or ref.size > limit:
            continue
        seen.add(ref.file_id)
        out.append(doc)
    return out


INVALID = N_("Giấy tờ đã chọn không có trong giấy tờ của bạn, hãy chọn lại")


def _t(text: str, lang: str) -> str:
    return t(text, lang)


def choose(store: Store, account: Account | None, component: Attachment, file_id: str, lang: str = "vi") -> tuple[AttachmentRef | None, str | None]:
    """(the reference to attach to this slot, None), or (None, the reason in the reader's language).

    Anonymous, an id not among the account's documents, and a file gone from the store all
    get the same answer: nothing tells whether someone else's file has that id."""
    invalid = _t(INVALID, lang)
    if account is None:
        return None, invalid
    found = next((d.ref for d in documents_of(store, account) if d.ref.file_id == file_id), None)
    if found is None or not store.files.exists(file_id):
        return None, invalid
    data = store.files.read(file_id)
    content_type, error = submission.check_upload(component, data, lang)
    if error:
        return None, error
    return AttachmentRef(component=component.id, file_id=file_id, filename=found.filename,
                         content_type=content_type or found.content_type, size=len(data), sha256=found.sha256), None
