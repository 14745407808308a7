"""`motcua export` and `motcua import`: a whole data folder to one JSON Lines file and back."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from motcua.store import configured_store, open_store
from motcua.store.base import Damage, StoreError
from motcua.store.durable import open_private
from motcua.store.transfer import export_store, import_store


@click.command("export")
@click.option("--data", "data_dir", default="data", show_default=True, type=click.Path(file_okay=False, exists=True))
@click.option("-o", "--output", default="-", show_default=True, type=click.Path(dir_okay=False), help="File to write; - for stdout.")
@click.option("--skip-damaged", is_flag=True,
              help="Export everything readable and list what was skipped (beside the output as OUTPUT.skipped, "
                   "and on stderr), instead of failing on the first damaged file.")
def export_command(data_dir: str, output: str, skip_damaged: bool) -> None:
    """Write every dossier, record and file of the store in DATA as JSON Lines."""
    skipped: list[Damage] | None = [] if skip_damaged else None
    try:
        store = configured_store(data_dir)
        if output == "-":
            counts = export_store(store, sys.stdout.buffer, skipped)
            sys.stdout.buffer.flush()
        else:
            # Write beside the target and rename, so a failed export never looks complete.
            target = Path(output)
            tmp = target.with_name(target.name + ".part")
            try:
                with open_private(tmp) as out:  # the export holds every citizen's data
                    counts = export_store(store, out, skipped)
                    out.flush()
                    os.fsync(out.fileno())
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            os.replace(tmp, target)
    except StoreError as exc:
        raise click.ClickException(
            f"{exc}\nNo export was written. `motcua export --skip-damaged` exports everything readable "
            "and lists what it left out."
        ) from None
    click.echo(f"Exported {counts} from {data_dir}", err=True)
    if skipped:
        listing = "".join(f"{d}\n" for d in skipped)
        where = ""
        if output != "-":
            listed = Path(output).with_name(Path(output).name + ".skipped")
            with open_private(listed) as f:  # it names dossiers: as private as the export
                f.write(listing.encode("utf-8"))
            where = f", listed in {listed}"
        click.echo(f"SKIPPED {len(skipped)} damaged item(s){where}; the export lacks them:", err=True)
        click.echo(listing, err=True, nl=False)


@click.command("check")
@click.option("--data", "data_dir", default="data", show_default=True, type=click.Path(file_okay=False, exists=True))
@click.option("--repair", is_flag=True, help="Restore what the folder's own copies (.bak files, the chunks the index "
              "and summaries derive from) can restore, and say what could not be. Stop the portal first.")
@click.option("--no-files", is_flag=True, help="Do not read every uploaded file to check its sha256 (faster).")
@click.option("--store", "store_url", envvar="MOTCUA_STORE", default=None, metavar="URL",
              help="Check this PostgreSQL store (default: the one DATA's marker names, else the folder itself).")
def check_command(data_dir: str, repair: bool, no_files: bool, store_url: str | None) -> None:
    """Check every file of the store in DATA (or every row of its PostgreSQL store): exit
    status 1 when anything is damaged (after --repair: when anything could not be repaired)."""
    from motcua.store import store_target
    from motcua.store.check import check_store
    from motcua.store.pg_store import is_url

    try:
        target = store_target(data_dir, store_url)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    if is_url(target):
        from motcua.store.pg_check import check_pg_store

        try:
            store = open_store(target, data_dir)
        except StoreError as exc:
            raise click.ClickException(str(exc)) from None
        try:
            report = check_pg_store(store, repair=repair, files=not no_files)
        finally:
            store.close()
    else:
        report = check_store(Path(data_dir), repair=repair, files=not no_files)
    for line in report.lines():
        click.echo(line)
    serious = [f for f in report.findings if f.serious]
    if not report.findings:
        click.echo(f"{data_dir}: no damage found")
    elif not serious:
        click.echo(f"{data_dir}: no damage found ({len(report.findings)} note(s) above)")
    if repair:
        if report.not_repaired:
            click.echo(f"{len(report.not_repaired)} problem(s) could not be repaired (above).")
            sys.exit(1)
        if serious:
            click.echo("Repaired. Run `motcua store check` again to confirm.")
        return
    if serious:
        click.echo(f"{len(serious)} problem(s) found. `motcua store check --repair --data {data_dir}` (portal stopped) "
                   "restores what the folder's own copies can restore.")
        sys.exit(1)


@click.command("import")
@click.option("--data", "data_dir", default="data", show_default=True, type=click.Path(file_okay=False))
@click.argument("file", type=click.File("rb"))
def import_command(data_dir: str, file) -> None:
    """Load an export FILE (- for stdin) into the EMPTY store in DATA."""
    try:
        counts = import_store(configured_store(data_dir), file, source=file.name)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Imported {counts} into {data_dir}", err=True)


@click.group("store")
def store_group() -> None:
    """Look after the store: move it to another backend."""


@store_group.command("migrate")
@click.option("--from", "source", required=True, type=click.Path(file_okay=False, exists=True),
              help="The data folder of the embedded store to move.")
@click.option("--to", "target", required=True, metavar="URL",
              help="The empty store to move it into: a postgresql:// URL (or another, new data folder).")
@click.option("--data", "data_dir", default=None, type=click.Path(file_okay=False),
              help="The new data folder beside a PostgreSQL target: uploaded files and the session key go there "
                   "(serve with --data this --store URL). Must not hold files yet.")
def migrate_command(source: str, target: str, data_dir: str | None) -> None:
    """Move every dossier, record and file of the store in SOURCE into the empty TARGET,
    then check that both hold the same number of each (exit 1 if not)."""
    import shutil

    from motcua.store.moving import move_store
    from motcua.store.pg_store import is_url, safe_url

    if is_url(target) and not data_dir:
        raise click.UsageError("a PostgreSQL target keeps uploaded files in a local folder: give it with --data")
    if not (Path(source) / "store.json").is_file():
        raise click.UsageError(f"{source} holds no Motcua store (no store.json)")
    if data_dir and Path(data_dir).resolve() == Path(source).resolve():
        raise click.UsageError("--data must be a new folder, not the one moved from")
    try:
        source_store = open_store(source, files="folder")
        target_store = open_store(target, data_dir)
        try:
            counts = move_store(source_store, target_store)
        finally:
            target_store.close()
            source_store.close()
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    # The session key signs staff sessions and the citizens' private links: it moves too.
    key, new_home = Path(source) / "secret_key", Path(data_dir or target)
    if key.is_file() and not (new_home / "secret_key").exists():
        shutil.copy2(key, new_home / "secret_key")
    shown = safe_url(target) if is_url(target) else target
    click.echo(f"Moved {counts} from {source} to {shown}; the counts of both agree.", err=True)


store_group.add_command(check_command)  # `motcua store check`
