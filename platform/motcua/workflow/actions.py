"""What staff (and citizens) can do to a dossier: `Action`, and why they sometimes can't.

The back office renders one button (or small form) per `Action` the engine offers for a
dossier and a user, and posts back `engine.perform(code, action.name, user, **params)`
with the values of `action.fields`. Nothing here knows about HTTP.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

FieldKind = Literal["text", "textarea", "date", "select", "list", "checks", "file"]


class ActionField(BaseModel):
    """One extra input an action asks for (a new due date, a unit to transfer to ...).

    `list` is a multi-line text whose lines become a list of strings (the supplement list).
    `date` values are ISO dates (yyyy-mm-dd, as an HTML date input posts them).
    `checks` is a group of checkboxes over `choices`; its value is the list of values ticked.
    `file` is one uploaded file; its value is `UploadedFile` (None when none was chosen).
    """

    name: str
    label: dict[str, str]
    kind: FieldKind = "text"
    required: bool = True
    choices: list[tuple[str, dict[str, str]]] = Field(
        default_factory=list, description="(value, label) pairs for `select`"
    )
    help: dict[str, str] | None = None


class Action(BaseModel):
    """An action the engine offers on a dossier, e.g. receive, approve, record a payment."""

    name: str
    label: dict[str, str] = Field(description="Button text: {vi, en}")
    roles: tuple[str, ...] = Field(description="Staff roles allowed: desk / specialist / leader")
    needs_reason: bool = False
    fields: list[ActionField] = Field(default_factory=list)
    step: str | None = Field(default=None, description="The step offering it; None for the lifecycle")
    style: Literal["primary", "secondary", "danger"] = "secondary"
    blocked_reason: str | None = Field(
        default=None, description="Why a step holds it back now (Vietnamese); such actions are listed only by Engine.actions(include_blocked=True)"
    )

    def field(self, name: str) -> ActionField | None:
        return next((f for f in self.fields if f.name == name), None)


class UploadedFile(BaseModel):
    """A file posted with an action (a draft result): its name as sent and its bytes."""

    filename: str
    data: bytes


class ActionNotAllowed(Exception):
    """The action cannot be done now; `message` is Vietnamese and says why."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field  # the action field the message is about, if any

    def __str__(self) -> str:
        return self.message


def params_text(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    return value.strip() if isinstance(value, str) else ""
