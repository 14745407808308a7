"""`motcua export` and `motcua import`: a whole data folder to one JSON Lines file and back."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from motcua.store import open_store
from motcua.store.base import StoreError
from motcua.store.durable import open_private
from motcua.store.transfer import export_store, import_store


@click.command("export")
@click.option("--data", "data_dir", default="data", show_default=True, type=click.Path(file_okay=False, exists=True))
@click.option("-o", "--output", default="-", show_default=True, type=click.Path(dir_okay=False), help="File to write; - for stdout.")
def export_command(data_dir: str, output: str) -> None:
    """Write every dossier, record and file of the store in DATA as JSON Lines."""
    try:
        store = open_store(data_dir)
        if output == "-":
            counts = export_store(store, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        else:
            # Write beside the target and rename, so a failed export never looks complete.
            target = Path(output)
            tmp = target.with_name(target.name + ".part")
            with open_private(tmp) as out:  # the export holds every citizen's data
                counts = export_store(store, out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Exported {counts} from {data_dir}", err=True)


@click.command("import")
@click.option("--data", "data_dir", default="data", show_default=True, type=click.Path(file_okay=False))
@click.argument("file", type=click.File("rb"))
def import_command(data_dir: str, file) -> None:
    """Load an export FILE (- for stdin) into the EMPTY store in DATA."""
    try:
        counts = import_store(open_store(data_dir), file, source=file.name)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Imported {counts} into {data_dir}", err=True)
