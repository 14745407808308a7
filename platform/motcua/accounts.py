"""Staff accounts (cán bộ): who may act on which agency's dossiers.

FIRST CUT: the model the workflow checks permissions against; the back-office issue adds
login, password hashing and management around it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Role = Literal["desk", "specialist", "leader", "admin"]
ROLE_LABELS = {
    "desk": {"vi": "Cán bộ một cửa", "en": "Desk officer"},
    "specialist": {"vi": "Chuyên viên xử lý", "en": "Specialist"},
    "leader": {"vi": "Lãnh đạo", "en": "Leader"},
    "admin": {"vi": "Quản trị", "en": "Administrator"},
}


class StaffUser(BaseModel):
    username: str
    name: str
    roles: list[Role] = Field(default_factory=list)
    agencies: list[str] = Field(default_factory=list, description="Agency codes this person serves")
    password_hash: str = ""
    active: bool = True

    def serves(self, agency_code: str) -> bool:
        return "admin" in self.roles or agency_code in self.agencies

    def has(self, role: str) -> bool:
        return role in self.roles or "admin" in self.roles

    @property
    def actor(self) -> str:
        """How this person appears on a dossier's timeline."""
        return f"staff:{self.username}"
