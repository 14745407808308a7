"""`motcua stats`: the transparency figures in the terminal, as a table, JSON or CSV.

`--table dinh-nghia` prints what each figure counts and its source (`stats.figures`); the
JSON carries the same under `definitions`.

Reads the same store and specs as the portal and calls the same computation as the web
pages, so the terminal, the CSV downloads and `/api/v1/stats` always agree.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal, InvalidOperation

import click

from motcua.offices import TIER_LABELS, TIERS
from motcua.stats.tables import TABLES


@click.command()
@click.option("--data", "data_dir", default="data", show_default=True, type=click.Path(file_okay=False, exists=True))
@click.option("--specs", "specs_dir", default="procedure_specs", show_default=True, type=click.Path(file_okay=False, exists=True))
@click.option("--year", type=int, help="Calendar year (default: this year).")
@click.option("--quarter", type=click.IntRange(1, 4), help="Quarter 1-4 of --year.")
@click.option("--month", type=click.IntRange(1, 12), help="Month 1-12 of --year.")
@click.option("--from", "start", help="First day, yyyy-mm-dd or dd/mm/yyyy (a custom range).")
@click.option("--to", "end", help="Last day, included (default: today).")
@click.option("--agency", multiple=True, help="Agency code; repeat for several (default: all).")
@click.option("--tier", type=click.Choice(list(TIERS)), default=None, help="Only the offices of this tier (default: all).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--table", "table_name", type=click.Choice(list(TABLES)), default=None,
              help="For table/csv: which table (default: tong-hop, the summary).")
@click.option("--online-target", default="0.20", show_default=True, help="Online share target, as a fraction.")
def stats(
    data_dir: str,
    specs_dir: str,
    year: int | None,
    quarter: int | None,
    month: int | None,
    start: str | None,
    end: str | None,
    agency: tuple[str, ...],
    tier: str | None,
    fmt: str,
    table_name: str | None,
    online_target: str,
) -> None:
    """Procedures per level, dossiers per channel, on-time rate, satisfaction for a period."""
    from motcua.agencies import load_registry, registry_path
    from motcua.catalogue import published_catalogue
    from motcua.stats import period as periods
    from motcua.stats.source import build_report
    from motcua.stats.tables import table, to_csv, to_text
    from motcua.store import StoreError, configured_store

    params = {k: str(v) for k, v in {"year": year, "quarter": quarter, "month": month, "from": start, "to": end}.items() if v}
    try:
        period = periods.parse(params)
    except periods.PeriodError as exc:
        raise click.BadParameter(str(exc)) from None
    try:
        target = Decimal(online_target)
    except InvalidOperation:
        raise click.BadParameter("--online-target must be a fraction such as 0.20") from None
    try:
        store = configured_store(data_dir)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        # the portal's catalogue (folder + studio publications, the same rule as create_app),
        # so the terminal counts the procedures the statistics page counts
        catalogue = published_catalogue(specs_dir, store, agencies=load_registry(registry_path()))
        report = build_report(store, catalogue, period=period, agencies=list(agency) or None, tier=tier,
                              online_target=target)
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps(report.to_dict(with_overdue=True), ensure_ascii=False, indent=2))
        return
    header, rows = table(report, table_name or "tong-hop")
    if fmt == "csv":
        # No byte-order mark on a terminal or pipe: only files meant for Excel carry one.
        sys.stdout.write(to_csv(header, rows, bom=False))
        return
    scope = ", ".join(agency) if agency else "tất cả cơ quan"
    if tier:
        scope += f" – {TIER_LABELS[tier]['vi']}"
    click.echo(f"{period.label()} – {scope} – {TABLES[table_name or 'tong-hop']}")
    click.echo(to_text(header, rows))
    if table_name != "dinh-nghia":
        click.echo("Định nghĩa và nguồn của từng chỉ tiêu: motcua stats --table dinh-nghia (docs/statistics.md)")
