"""Citizens' ratings of returned dossiers, and their feedback and complaints.

- A *rating* (đánh giá mức độ hài lòng) scores a dossier whose result was returned, 1 to 5,
  once, by the applicant (the same second factor as tracking). Ratings feed the
  "satisfaction" component of the provincial scoring (Decision 766) in the statistics.
- *Feedback* (phản ánh, kiến nghị) is a message with the sender's contact; staff answer it,
  and the sender reads the answer through a private link carrying a random token (only
  its hash is stored, so a copy of the store does not open the links).

Stored as plain documents in `store.records("ratings")` (key: dossier code, so
`insert_new` makes "only once" hold across processes) and `store.records("feedback")`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, Field

from motcua.dossier import Dossier, Status
from motcua.formats import is_email, is_vn_mobile, normalize_mobile
from motcua.i18n import gettext as _
from motcua.store.base import Store
from motcua.tracking_throttle import Limits, Throttled, check_factor

RATINGS = "ratings"
FEEDBACK = "feedback"
MAX_COMMENT = 2000
MAX_CONTENT = 5000

FeedbackKind = Literal["phan_anh", "kien_nghi"]
KIND_LABELS = {
    "phan_anh": {"vi": "Phản ánh", "en": "Report a problem"},
    "kien_nghi": {"vi": "Kiến nghị", "en": "Recommendation"},
}
SCORE_LABELS = {
    5: {"vi": "Rất hài lòng", "en": "Very satisfied"},
    4: {"vi": "Hài lòng", "en": "Satisfied"},
    3: {"vi": "Bình thường", "en": "Neutral"},
    2: {"vi": "Không hài lòng", "en": "Dissatisfied"},
    1: {"vi": "Rất không hài lòng", "en": "Very dissatisfied"},
}


class Invalid(Exception):
    """What the citizen sent cannot be accepted; `errors` maps each field to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Rating(BaseModel):
    code: str
    agency_code: str
    procedure_code: str
    score: int = Field(ge=1, le=5)
    comment: str | None = None
    at: datetime = Field(default_factory=_now)


class Answer(BaseModel):
    text: str
    by: str = Field(description="The staff member's timeline actor, `staff:<username>`")
    by_name: str
    at: datetime = Field(default_factory=_now)


class Feedback(BaseModel):
    id: str
    kind: FeedbackKind
    name: str
    phone: str | None = None
    email: str | None = None
    content: str
    dossier_code: str | None = None
    agency_code: str | None = Field(default=None, description="From the dossier, when one is named")
    created_at: datetime = Field(default_factory=_now)
    token_sha256: str
    answers: list[Answer] = Field(default_factory=list)

    @property
    def answered(self) -> bool:
        return bool(self.answers)


def _clean(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


# --- ratings ---------------------------------------------------------------------------------


def rate(
    store: Store, code: str, factor: str, score: Any, comment: Any = "", at: datetime | None = None,
    *, client: str = "", limits: Limits | None = None,
) -> Rating:
    """Record the applicant's rating of a returned dossier, once.

    A wrong code and a wrong second factor give the same message, so the form cannot be used
    to learn which codes exist; the factor is checked through the shared throttle (per code
    and per `client`) before anything about the dossier's state is said.
    """
    errors: dict[str, str] = {}
    code = _clean(code).upper()
    try:
        score_value = int(_clean(score) if isinstance(score, str) else score)
    except (TypeError, ValueError):
        score_value = 0
    if not 1 <= score_value <= 5:
        errors["score"] = _("Hãy chọn mức độ hài lòng từ 1 đến 5.")
    comment_text = _clean(comment)
    if len(comment_text) > MAX_COMMENT:
        errors["comment"] = _("Ý kiến dài tối đa {n} ký tự.", n=MAX_COMMENT)
    if not code:
        errors["code"] = _("Hãy nhập mã hồ sơ.")
    if not _clean(factor):
        errors["factor"] = _("Hãy nhập số điện thoại hoặc số định danh cá nhân đã khai khi nộp hồ sơ.")
    dossier: Dossier | None = None
    if code and _clean(factor):
        try:
            dossier = check_factor(store, code, factor, client, limits or Limits())
        except Throttled:
            errors["factor"] = _("Đã nhập sai quá nhiều lần cho hồ sơ này hoặc từ máy này. Vui lòng thử lại sau một giờ.")
        else:
            if dossier is None:
                errors["factor"] = _("Mã hồ sơ hoặc số điện thoại/CCCD không đúng.")
    if dossier is not None and dossier.status != Status.RETURNED:
        errors["code"] = _("Chỉ đánh giá được hồ sơ đã trả kết quả.")
    if errors:
        raise Invalid(errors)
    assert dossier is not None
    rating = Rating(
        code=dossier.code,
        agency_code=dossier.agency_code,
        procedure_code=dossier.procedure_code,
        score=score_value,
        comment=comment_text or None,
        at=at or _now(),
    )
    if not store.records(RATINGS).insert_new(dossier.code, rating.model_dump(mode="json")):
        raise Invalid({"code": _("Hồ sơ này đã được đánh giá; mỗi hồ sơ chỉ đánh giá một lần.")})
    return rating


def rating_of(store: Store, code: str) -> Rating | None:
    data = store.records(RATINGS).get(code)
    return Rating.model_validate(data) if data else None


# --- feedback --------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def submit(store: Store, form: dict[str, Any], at: datetime | None = None) -> tuple[Feedback, str]:
    """Store a citizen's feedback; returns it with the private token for its link."""
    values = {k: _clean(form.get(k)) for k in ("kind", "name", "phone", "email", "content", "dossier_code")}
    errors: dict[str, str] = {}
    if values["kind"] not in KIND_LABELS:
        errors["kind"] = _("Hãy chọn phản ánh hoặc kiến nghị.")
    if not values["name"]:
        errors["name"] = _("Hãy nhập họ và tên.")
    elif len(values["name"]) > 200:
        errors["name"] = _("Họ và tên dài tối đa 200 ký tự.")
    if not values["phone"] and not values["email"]:
        errors["phone"] = _("Hãy nhập số điện thoại hoặc thư điện tử để nhận trả lời.")
    if values["phone"] and not is_vn_mobile(values["phone"]):
        errors["phone"] = _("Số điện thoại di động không đúng (10 chữ số, ví dụ 0912345678).")
    if values["email"] and not is_email(values["email"]):
        errors["email"] = _("Thư điện tử không đúng (ví dụ ten@example.vn).")
    if not values["content"]:
        errors["content"] = _("Hãy nhập nội dung phản ánh, kiến nghị.")
    elif len(values["content"]) > MAX_CONTENT:
        errors["content"] = _("Nội dung dài tối đa {n} ký tự.", n=MAX_CONTENT)
    if len(values["dossier_code"]) > 64:
        errors["dossier_code"] = _("Mã hồ sơ không đúng.")
    if errors:
        raise Invalid(errors)
    dossier_code = values["dossier_code"].upper() or None
    dossier = store.dossiers.get(dossier_code) if dossier_code else None
    token = secrets.token_urlsafe(24)
    feedback = Feedback(
        id=secrets.token_hex(8),
        kind=values["kind"],  # type: ignore[arg-type]
        name=values["name"],
        phone=normalize_mobile(values["phone"]) if values["phone"] else None,
        email=values["email"] or None,
        content=values["content"],
        dossier_code=dossier_code,
        agency_code=dossier.agency_code if dossier else None,
        created_at=at or _now(),
        token_sha256=_token_hash(token),
    )
    if not store.records(FEEDBACK).insert_new(feedback.id, feedback.model_dump(mode="json")):
        raise RuntimeError("feedback id collision")  # 64 random bits: practically never
    return feedback, token


def get(store: Store, feedback_id: str) -> Feedback | None:
    data = store.records(FEEDBACK).get(feedback_id) if re.fullmatch(r"[0-9a-f]{16}", feedback_id or "") else None
    return Feedback.model_validate(data) if data else None


def for_citizen(store: Store, feedback_id: str, token: str) -> Feedback | None:
    """The feedback if `token` is the one handed out when it was sent; else None."""
    feedback = get(store, feedback_id)
    if feedback is None or not token:
        return None
    if not hmac.compare_digest(feedback.token_sha256, _token_hash(token)):
        return None
    return feedback


def visible_to(feedback: Feedback, staff: Any) -> bool:
    """Staff see feedback about their agencies' dossiers; feedback about no dossier carries
    a citizen's name and contact and belongs to no agency, so only administrators see it
    (and pass it on)."""
    if feedback.agency_code is None:
        return "admin" in staff.roles
    return staff.serves(feedback.agency_code)


def for_staff(store: Store, staff: Any, *, answered: bool | None = None) -> list[Feedback]:
    items = [Feedback.model_validate(v) for _k, v in store.records(FEEDBACK).all()]
    items = [f for f in items if visible_to(f, staff) and (answered is None or f.answered == answered)]
    return sorted(items, key=lambda f: f.created_at, reverse=True)


def answer(store: Store, feedback_id: str, staff: Any, text: str, at: datetime | None = None) -> Feedback:
    """Record a staff member's answer (who and when); earlier answers are kept."""
    text = _clean(text)
    if not text:
        raise Invalid({"answer": _("Hãy nhập nội dung trả lời.")})
    if len(text) > MAX_CONTENT:
        raise Invalid({"answer": _("Nội dung dài tối đa {n} ký tự.", n=MAX_CONTENT)})

    def change(current: dict[str, Any] | None) -> dict[str, Any]:
        if current is None:
            raise KeyError(feedback_id)
        feedback = Feedback.model_validate(current)
        if not visible_to(feedback, staff):
            raise PermissionError(feedback_id)
        feedback.answers.append(Answer(text=text, by=staff.actor, by_name=staff.name, at=at or _now()))
        return feedback.model_dump(mode="json")

    return Feedback.model_validate(store.records(FEEDBACK).update(feedback_id, change))


def all_ratings(store: Store) -> Iterator[Rating]:
    for _key, value in store.records(RATINGS).all():
        yield Rating.model_validate(value)
