"""The dossier (hồ sơ): what a citizen filed, and its timeline.

A dossier is never edited without trace: every change is an `Event` appended to its
timeline, and `status` is the status the last status-changing event set. Status codes are
the ones provincial systems sync to the national portal (DOMAIN.md, "Dossier lifecycle").
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from enum import IntEnum
from typing import Any

from pydantic import BaseModel, Field


class Status(IntEnum):
    NEW = 1  # mới đăng ký
    RECEIVED = 2  # được tiếp nhận
    REFUSED = 3  # không được tiếp nhận
    PROCESSING = 4  # đang xử lý
    SUPPLEMENT_REQUESTED = 5  # yêu cầu bổ sung (pauses the clock)
    PAYMENT_REQUESTED = 6  # yêu cầu thực hiện nghĩa vụ tài chính (pauses the clock)
    WITHDRAWN = 7  # công dân rút hồ sơ
    STOPPED = 8  # dừng xử lý (pauses the clock)
    FINISHED = 9  # đã xử lý xong: result ready
    RETURNED = 10  # đã trả kết quả


STATUS_LABELS: dict[Status, dict[str, str]] = {
    Status.NEW: {"vi": "Mới đăng ký", "en": "Filed"},
    Status.RECEIVED: {"vi": "Đã tiếp nhận", "en": "Received"},
    Status.REFUSED: {"vi": "Không được tiếp nhận", "en": "Refused"},
    Status.PROCESSING: {"vi": "Đang xử lý", "en": "In processing"},
    Status.SUPPLEMENT_REQUESTED: {"vi": "Yêu cầu bổ sung", "en": "Supplement requested"},
    Status.PAYMENT_REQUESTED: {"vi": "Chờ thực hiện nghĩa vụ tài chính", "en": "Payment requested"},
    Status.WITHDRAWN: {"vi": "Đã rút hồ sơ", "en": "Withdrawn"},
    Status.STOPPED: {"vi": "Dừng xử lý", "en": "Processing stopped"},
    Status.FINISHED: {"vi": "Đã có kết quả", "en": "Result ready"},
    Status.RETURNED: {"vi": "Đã trả kết quả", "en": "Result returned"},
}

PAUSING = frozenset({Status.SUPPLEMENT_REQUESTED, Status.PAYMENT_REQUESTED, Status.STOPPED})
CLOSED = frozenset({Status.REFUSED, Status.WITHDRAWN, Status.RETURNED})


def now() -> datetime:
    return datetime.now(timezone.utc)


class Event(BaseModel):
    """One entry of the timeline: who did what, when and why. Never edited."""

    at: datetime = Field(default_factory=now)
    actor: str = Field(description="`citizen`, `staff:<username>`, `system`, `step:<name>`")
    kind: str = Field(description="What happened: filed, received, paid, supplement_requested ...")
    status: Status | None = Field(default=None, description="The status this event set, if any")
    note: str | None = Field(default=None, description="Reason or message, as written (Vietnamese for a system note)")
    message: dict[str, Any] | None = Field(
        default=None,
        description="A system note as a template and its values, rendered in the reader's language "
        "(motcua.workflow.notes); None for text a person typed",
    )
    data: dict[str, Any] = Field(default_factory=dict)


class AttachmentRef(BaseModel):
    """An uploaded file, stored by content id; the citizen's file name is only shown."""

    component: str
    file_id: str
    filename: str
    content_type: str
    size: int
    sha256: str


class DeliveryChoice(BaseModel):
    """How the citizen wants the result; a postal address when by post."""

    kind: str
    address: dict[str, str] | None = None
    postal_charge: int = 0


class Contact(BaseModel):
    """The applicant's contact, also the second factor for tracking."""

    name: str
    phone: str | None = None
    cccd: str | None = None
    email: str | None = None


class Dossier(BaseModel):
    code: str = Field(description="<agency code>-YYMMDD-NNNN (Circular 01/2018 art. 19)")
    procedure_code: str
    spec_version: str
    spec_hash: str | None = Field(
        default=None,
        description="Content hash of the spec filed under (motcua.catalogue.content_hash); "
        "absent on dossiers filed before it was recorded",
    )
    agency_code: str
    channel: str = Field(description="online | desk | postal")
    lang: str = "vi"
    data: dict[str, Any] = Field(default_factory=dict)
    attachments: list[AttachmentRef] = Field(default_factory=list)
    delivery: DeliveryChoice | None = None
    pickup_address: dict[str, str] | None = Field(
        default=None,
        description="Filed online with home pickup of the paper dossier (Decision 45/2016, a `postal` channel "
        "with `home_pickup`): where the post office collects the papers; None when not asked for",
    )
    contact: Contact
    account: str | None = Field(
        default=None,
        description="The citizen or business account (motcua.citizens) signed in when it was filed",
    )
    fees: list[dict[str, Any]] = Field(default_factory=list)
    fee_total: int = 0
    filed_at: datetime = Field(default_factory=now)
    due_date: date | None = None
    calendar_days: bool = Field(
        default=False,
        description="The time limit is counted in calendar days (the spec's processing_time."
        "calendar_days at filing): a pause of the clock and lateness count every day",
    )
    status: Status = Status.NEW
    events: list[Event] = Field(default_factory=list)
    steps: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Per-step state, owned by each step"
    )

    def record(self, event: Event) -> Event:
        """Append an event; it sets the status when it carries one."""
        self.events.append(event)
        if event.status is not None:
            self.status = event.status
        return event

    @property
    def spec_key(self) -> str:
        return f"{self.procedure_code}@{self.spec_version}"

    @property
    def received_on_paper(self) -> set[str]:
        """Components the desk ticked as handed in on paper (`paper_components` events): they
        count as submitted wherever the dossier's papers are listed, like an uploaded file."""
        return {c for e in self.events if e.kind == "paper_components" for c in (e.data or {}).get("received") or []}
