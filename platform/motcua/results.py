"""Electronic results (kết quả điện tử): the result document(s) staff attach to a decided
dossier, which its owner downloads from "My dossiers" or the private tracking link.

A result is a PDF stored in the file store and recorded as a `result_attached` event (who
attached which file, when): the timeline is the only record, so attaching is never an edit
without trace. Downloads by the citizen are logged in the `result_downloads` collection.
Nobody but the dossier's reader (owner, filer, holder of the private link) and the agency's
staff reaches a result; the routes check that, this module does not know about requests.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any

from motcua.dossier import Dossier, Event, Status
from motcua.i18n import t
from motcua.signing import FIELD_NAME, AgencySigner, SigningFailed
from motcua.spec.model import Attachment
from motcua.store.base import Store

#: Results may be attached once decided (finished) and after the return.
ATTACHABLE = frozenset({Status.FINISHED, Status.RETURNED})
#: ... or from processing on, when the spec's `result` step says `attach_at: processing`
#: (the specialist prepares the result before the leader decides).
ATTACHABLE_FROM = {"decided": ATTACHABLE, "processing": ATTACHABLE | {Status.PROCESSING}}


#: Who may attach the official result: those who process and decide the dossier (a desk
#: clerk receives and returns, an author writes specs; neither issues a result).
ATTACH_ROLES: tuple[str, ...] = ("specialist", "leader")
#: Who may sign it with the agency's key: the leader, who signs the decision on paper too.
SIGN_ROLE = "leader"


def may_attach(user: Any) -> bool:
    """Whether staff `user` may attach a result, so that a desk- or author-only account
    serving the office cannot issue the official result."""
    return any(user.has(role) for role in ATTACH_ROLES)


def may_sign(user: Any) -> bool:
    """Whether staff `user` may have the result signed with the agency's key (the leader:
    the signature stands for the agency's decision)."""
    return bool(user.has(SIGN_ROLE))


def attachable(status: int, attach_at: str = "decided") -> bool:
    """Whether a dossier in `status` takes a result under the spec's `attach_at`."""
    return Status(status) in ATTACHABLE_FROM.get(attach_at, ATTACHABLE)
MAX_MB = 20
DOWNLOADS = "result_downloads"

#: What a result must be: a PDF (the type read from the bytes), at most MAX_MB.
RESULT = Attachment(id="ket_qua", name={"vi": "Kết quả giải quyết", "en": "Result"}, accept=["application/pdf"], max_size_mb=MAX_MB)


class ResultRefused(ValueError):
    """The result cannot be attached; the message says why (Vietnamese)."""


def results_of(dossier: Dossier) -> list[dict[str, Any]]:
    """The attached results, oldest first: file_id, filename, size, by, at."""
    return [{**(e.data or {}), "by": e.actor, "at": e.at} for e in dossier.events if e.kind == "result_attached"]


def result(dossier: Dossier, file_id: str) -> dict[str, Any] | None:
    return next((r for r in results_of(dossier) if r.get("file_id") == file_id), None)


def attach(store: Store, code: str, data: bytes, filename: str, actor: str, lang: str = "vi",
           signer: AgencySigner | None = None, reason: str = "", location: str = "",
           attach_at: str = "decided", signature: str = "optional") -> Dossier:
    """Store the PDF and record it on the dossier's timeline; ResultRefused when the file is
    not a PDF or too large, or the dossier is not decided yet.

    With `signer` (motcua.signing, loaded at start) the stored file is the PDF with the
    agency's signature added, and the event says who signed it: the citizen downloads
    exactly that signed file. The status is checked before signing, so nothing is signed
    for a dossier that cannot take a result. `attach_at` and `signature` are the spec's
    (`Engine.result_policy`): a result the spec wants signed is refused without a signer."""
    from motcua import submission

    _type, error = submission.check_upload(RESULT, data, lang)
    if error:
        raise ResultRefused(error)
    current = store.dossiers.get(code)
    if current is None or not attachable(current.status, attach_at):
        raise ResultRefused(_not_yet(attach_at, lang))
    if signature == "required" and signer is None:
        raise ResultRefused(t("Thủ tục này yêu cầu kết quả có chữ ký số của cơ quan: hãy chọn ký số khi đính kèm.", lang))
    if signature == "none":
        signer = None
    signed: dict[str, Any] = {}
    if signer is not None:
        try:
            data = signer.sign(data, reason=reason or f"Kết quả giải quyết hồ sơ {code}", location=location)
        except SigningFailed:
            raise ResultRefused(t("Không ký số được tệp kết quả: tệp PDF bị hỏng hoặc chứng thư số của cơ quan đã hết hạn.", lang)) from None
        signed = {"signed_by": signer.subject, "signature_field": FIELD_NAME}
    file_id = store.files.put(data)
    name = (filename or "ket-qua.pdf").replace("\\", "/").rsplit("/", 1)[-1][:200] or "ket-qua.pdf"

    def change(dossier: Dossier) -> None:
        if not attachable(dossier.status, attach_at):
            raise ResultRefused(_not_yet(attach_at, lang))
        dossier.record(Event(actor=actor, kind="result_attached", data={
            "file_id": file_id, "filename": name, "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(), **signed,
            "attachments": [file_id]}))  # how motcua.purge knows the file is kept

    dossier, _ = store.dossiers.update(code, change)
    return dossier


def _not_yet(attach_at: str, lang: str) -> str:
    if attach_at == "processing":
        return t("Chỉ đính kèm kết quả khi hồ sơ đang được xử lý hoặc đã có kết quả giải quyết.", lang)
    return t("Chỉ đính kèm kết quả khi hồ sơ đã có kết quả giải quyết.", lang)


def log_download(store: Store, code: str, file_id: str, who: str) -> None:
    """One record per download: which result of which dossier, by whom, when."""
    at = datetime.now(timezone.utc)
    store.records(DOWNLOADS).put(f"{code}:{file_id}:{at.timestamp():.6f}",
                                 {"code": code, "file_id": file_id, "by": who, "at": at.isoformat()})
