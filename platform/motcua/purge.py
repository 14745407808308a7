"""`motcua purge`: remove what nobody can reach any more, never what a dossier holds.

Two kinds of leftovers: drafts past their lifetime (DRAFT_DAYS after their last save, see
motcua.drafts), and uploaded files that no dossier and no remaining draft refers to (a
draft's replaced attachment, an expired draft's files, a request that died mid-way). An
unreferenced file is only removed when it was last stored longer ago than a grace period,
so an upload whose draft or dossier is being saved right now is never taken.

Order matters for a crash: expired drafts are deleted first and their files after, so an
interrupted purge leaves files nobody refers to (the next run removes them), never a draft
pointing to a missing file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import click

from motcua import drafts
from motcua.dossier import Dossier
from motcua.store.base import Store, StoreError

DEFAULT_GRACE = timedelta(days=1)
DRAFTS = "drafts"


@dataclass
class ExpiredDraft:
    token: str
    procedure: str
    updated: str


@dataclass
class OrphanFile:
    file_id: str
    size: int
    stored_at: datetime


@dataclass
class PurgeReport:
    dry_run: bool
    expired_drafts: list[ExpiredDraft] = field(default_factory=list)
    orphan_files: list[OrphanFile] = field(default_factory=list)
    files_in_use: int = 0
    recent_orphans: int = 0  # unreferenced but within the grace period: kept

    @property
    def bytes_freed(self) -> int:
        return sum(f.size for f in self.orphan_files)


def dossier_file_ids(dossier: Dossier) -> Iterator[str]:
    """Every file a dossier refers to: its attachments, any named by its events, and the
    issued forms kept with it (motcua.issued)."""
    for ref in dossier.attachments:
        yield ref.file_id
    for event in dossier.events:
        named = event.data.get("attachments") if isinstance(event.data, dict) else None
        if isinstance(named, list):
            yield from (x for x in named if isinstance(x, str))
    from motcua.issued import kept

    yield from (copy["file_id"] for copy in kept(dossier).values() if isinstance(copy.get("file_id"), str))


def draft_file_ids(draft: dict[str, Any]) -> Iterator[str]:
    for ref in (draft.get("attachments") or {}).values():
        if isinstance(ref, dict) and isinstance(ref.get("file_id"), str):
            yield ref["file_id"]


def purge(
    store: Store,
    *,
    draft_keep: timedelta = drafts.KEEP_FOR,
    grace: timedelta = DEFAULT_GRACE,
    dry_run: bool = False,
    now: datetime | None = None,
) -> PurgeReport:
    """Remove expired drafts, then unreferenced files older than `grace` (or only list them)."""
    now = now or datetime.now(timezone.utc)
    report = PurgeReport(dry_run=dry_run)
    records = store.records(DRAFTS)
    referenced: set[str] = set()
    for token, draft in list(records.all()):
        if drafts.is_expired(draft, draft_keep, now):
            report.expired_drafts.append(ExpiredDraft(token, str(draft.get("procedure", "")), str(draft.get("updated", ""))))
        else:
            referenced.update(draft_file_ids(draft))
    if not dry_run:
        for item in report.expired_drafts:
            records.delete(item.token)
    # Dossiers are read after the drafts: one filed meanwhile from a live draft holds files
    # already counted; one filed with a file stored again meanwhile is saved by the grace.
    for dossier in store.dossiers.all():
        referenced.update(dossier_file_ids(dossier))
    cutoff = now - grace
    for file_id in list(store.files.ids()):
        if file_id in referenced:
            report.files_in_use += 1
            continue
        at = store.files.stored_at(file_id)
        if at is None:
            continue
        if at >= cutoff:
            report.recent_orphans += 1
            continue
        size = _size(store, file_id)
        if dry_run or store.files.delete(file_id, older_than=cutoff):
            report.orphan_files.append(OrphanFile(file_id, size, at))
        else:
            report.recent_orphans += 1  # stored again since we looked
    return report


def _size(store: Store, file_id: str) -> int:
    try:
        return len(store.files.read(file_id))
    except (OSError, StoreError):
        return 0


def _lines(report: PurgeReport) -> Iterable[str]:
    verb = "would remove" if report.dry_run else "removed"
    for d in report.expired_drafts:
        # The token is the draft's only key: show a prefix, never a usable link.
        yield f"{verb} draft {d.token[:8]}… of {d.procedure or '?'} (last saved {d.updated})"
    for f in report.orphan_files:
        yield f"{verb} file {f.file_id} ({f.size} bytes, stored {f.stored_at:%Y-%m-%d %H:%M} UTC)"
    yield (
        f"{'Dry run: ' if report.dry_run else ''}{len(report.expired_drafts)} expired drafts and "
        f"{len(report.orphan_files)} unreferenced files {verb} ({report.bytes_freed} bytes); "
        f"kept {report.files_in_use} files in use and {report.recent_orphans} recent uploads."
    )


@click.command("purge")
@click.option("--data", "data_dir", default="data", show_default=True, envvar="MOTCUA_DATA_DIR",
              type=click.Path(file_okay=False, exists=True))
@click.option("--draft-days", type=int, default=None, envvar="MOTCUA_DRAFT_DAYS",
              help=f"Days a draft is kept after its last save (the portal's DRAFT_DAYS)  [default: {drafts.DEFAULT_DAYS}]")
@click.option("--grace-hours", type=click.FloatRange(min=1), default=DEFAULT_GRACE.total_seconds() / 3600,
              show_default=True, help="Unreferenced files younger than this are kept (uploads in progress).")
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
def purge_command(data_dir: str, draft_days: int | None, grace_hours: float, dry_run: bool) -> None:
    """Remove expired drafts and uploaded files no dossier or draft refers to."""
    from motcua.store import configured_store

    try:
        keep = drafts.lifetime({"DRAFT_DAYS": draft_days})
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--draft-days") from None
    try:
        report = purge(configured_store(data_dir), draft_keep=keep, grace=timedelta(hours=grace_hours), dry_run=dry_run)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    for line in _lines(report):
        click.echo(line)
