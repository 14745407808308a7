"""`motcua agencies`: generate a province's agency registry from the unit table, check one.

The registry is data (motcua.agencies); this writes it from two inputs that are data too:
the administrative-unit table the project depends on (motcua.units: every commune of the
province after 1 July 2025) and `data/agency_template.yaml` (the provincial departments and
the offices each commune has). Refreshing keeps every code already given: a commune keeps
its offices' codes, a new commune gets the next free number, because dossier codes carry
them (docs/agencies.md).
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import click
import yaml

from motcua import units
from motcua.agencies import DEFAULT_REGISTRY, RegistryError, load_registry, parse_registry, registry_path
from motcua.i18n import t
from motcua.spec.cli import lang_option
from motcua.spec.words import speaking

TEMPLATE = Path(__file__).parent / "data" / "agency_template.yaml"
#: The level-2 block (Y1Y2) of the first 99 communes' People's Committees; the next 99 take the next.
FIRST_BLOCK = 50
PER_BLOCK = 99
#: Level-4 numbers (V1V2V3) run 001-999.
MAX_COMMUNES = 999


def commune_slots(sequence: int) -> dict[str, str]:
    """Where the 0-based `sequence`-th commune's offices sit in QCVN 102:2016 codes (digits
    only): `block` (Y1Y2) and `z` (Z1Z2, 01-99) for its People's Committee, `v` (V1V2V3,
    001-999) for a level-4 office such as its police."""
    if not 0 <= sequence < MAX_COMMUNES:
        raise ValueError(f"more than {MAX_COMMUNES} communes in one province: the three-digit level-4 numbering is full")
    return {"block": f"{FIRST_BLOCK + sequence // PER_BLOCK:02d}", "z": f"{sequence % PER_BLOCK + 1:02d}",
            "v": f"{sequence + 1:03d}"}


def _sequence_in(code: str, stem: str) -> int | None:
    """The commune sequence a code written from template `stem` ("000.{z}.{block}") carries,
    or None when the code does not have that shape (it was renumbered by hand)."""
    import re

    pattern = re.escape(stem).replace(r"\{z\}", r"(?P<z>[0-9]{2})").replace(r"\{block\}", r"(?P<block>[0-9]{2})")
    pattern = pattern.replace(r"\{v\}", r"(?P<v>[0-9]{3})")
    found = re.match(pattern + r"\.", code)
    if found is None:
        return None
    parts = found.groupdict()
    if parts.get("v"):
        return int(parts["v"]) - 1
    if parts.get("z") and parts.get("block") and int(parts["z"]) >= 1 and int(parts["block"]) >= FIRST_BLOCK:
        return (int(parts["block"]) - FIRST_BLOCK) * PER_BLOCK + int(parts["z"]) - 1
    return None


def level1_code(province_code: str, template_path: Path = TEMPLATE) -> str | None:
    """The province's QCVN 102:2016 level-1 code (M X1X2) when the template knows it."""
    template = yaml.safe_load(template_path.read_text(encoding="utf-8"))
    return (template.get("level1") or {}).get(province_code)


def _lower_kind(name: str) -> str:
    """"Phường Hải Châu" -> "phường Hải Châu" (after "Ủy ban nhân dân")."""
    kind, _, rest = name.partition(" ")
    return f"{kind.lower()} {rest}" if rest else name


def _english_commune(commune: units.Commune) -> str:
    from unidecode import unidecode

    kind_en = {"xã": "Commune", "phường": "Ward", "đặc khu": "Special Zone"}.get(commune.kind, "Commune")
    bare = commune.name
    for prefix in ("Phường ", "Xã ", "Đặc khu ", "Thị trấn "):
        if bare.startswith(prefix):
            bare = bare[len(prefix):]
            break
    return f"{unidecode(bare)} {kind_en}"


def build_registry(province_code: str, suffix: str, previous: dict[str, Any] | None = None,
                   template_path: Path = TEMPLATE) -> dict[str, Any]:
    """The registry data of one province, keeping the codes `previous` (an older file's
    data) gave to each commune's offices."""
    province = units.province(province_code)
    if province is None:
        raise click.BadParameter(f"unknown province code {province_code!r}", param_hint="--province")
    template = yaml.safe_load(template_path.read_text(encoding="utf-8"))
    kept: dict[tuple[str, str], str] = {}  # (kind, commune code) -> code given before
    for entry in (previous or {}).get("agencies") or []:
        if entry.get("commune_code"):
            kept[(entry["kind"], entry["commune_code"])] = entry["code"]

    def code(stem: str) -> str:
        return f"{stem}.{suffix}"

    city = province.name.startswith("Thành phố")
    fill = {"province": province.name, "province_en": province.en,
            "level": "thành phố" if city else "tỉnh", "level_en": "City" if city else "Provincial"}
    head = template["province"]
    top = code(head["code"])
    agencies: list[dict[str, Any]] = [{
        "code": top, "name": {k: v.format(**fill) for k, v in head["name"].items()}, "tier": "province",
        "kind": head["kind"], "parent": None, "province_code": province.code}]
    for dept in template["departments"]:
        agencies.append({"code": code(f"000.00.{dept['y']}"), "name": {"vi": dept["vi"].format(**fill), "en": dept["en"].format(**fill)},
                         "tier": "province", "kind": dept["kind"], "parent": top, "province_code": province.code})
    for unit in template["units"]:
        agencies.append({"code": code(f"000.{unit['z']}.{unit['parent_y']}"), "name": {"vi": unit["vi"].format(**fill), "en": unit["en"].format(**fill)},
                         "tier": "province", "kind": unit["kind"], "parent": code(f"000.00.{unit['parent_y']}"),
                         "province_code": province.code})
    communes = sorted(units.communes(province.code), key=lambda c: c.code)
    # one number per commune, shared by its offices: the one given before, else the next free
    numbers: dict[str, int] = {}
    for commune in communes:
        for office in template["communes"]:
            old = kept.get((office["kind"], commune.code))
            if old and commune.code not in numbers:
                found = _sequence_in(old, office["code"])
                if found is not None:
                    numbers[commune.code] = found
    following = max(numbers.values(), default=-1) + 1
    for commune in communes:
        if commune.code not in numbers:
            numbers[commune.code] = following
            following += 1
    for office in template["communes"]:
        for commune in communes:
            cfill = {"commune_lower": _lower_kind(commune.name), "commune_en": _english_commune(commune)}
            agencies.append({
                "code": kept.get((office["kind"], commune.code)) or code(office["code"].format(**commune_slots(numbers[commune.code]))),
                "name": {k: v.format(**cfill) for k, v in office["name"].items()}, "tier": "commune", "kind": office["kind"],
                "parent": code(office["parent"]), "province_code": province.code, "commune_code": commune.code})
    return {
        "version": date.today().strftime("%Y.%m.%d"),
        "province_code": province.code,
        "source": f"motcua agencies generate --province {province.code} --suffix {suffix}; units: {units.version()}; "
                  f"template: {template.get('version_note', '')}",
        "hours": template["hours"],
        "agencies": agencies,
    }


def dump_registry(data: dict[str, Any]) -> str:
    """The registry as YAML, one office per line group, readable in a diff."""
    header = ("# Agency registry (docs/agencies.md). Generated by `motcua agencies generate`; it is data:\n"
              "# edit addresses, phones and hours here, codes are kept when it is generated again.\n"
              "# Codes: QCVN 102:2016/BTTTT (V1V2V3.Z1Z2.Y1Y2.MX1X2). The level-1 part is the province's\n"
              "# code in the standard's table (data/agency_template.yaml, `level1`, with its sources); the\n"
              "# lower levels are the generator's own numbering: no published list of the province's\n"
              "# offices after 1 July 2025 was found. Replace them with the province's published codes.\n"
              "# Unit codes: Decision 124/2004/QĐ-TTg as published after 1 July 2025 (vietnam-provinces).\n")
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=200)
    return header + body


@click.group("agencies")
def agencies_group() -> None:
    """The agency registry: generate it for a province, check a file."""


@agencies_group.command("generate")
@click.option("--province", "province_code", required=True, help="Province code after 1 July 2025, e.g. 48")
@click.option("--suffix", default=None, help="The province's level-1 code (M X1X2) of QCVN 102:2016, e.g. H15; "
              "default: the template's `level1` table")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_REGISTRY, show_default=True)
@click.option("--renumber", is_flag=True, help="Give every office a fresh code instead of keeping OUTPUT's")
def generate(province_code: str, suffix: str | None, output: Path, renumber: bool) -> None:
    """Write the registry of one province: its departments and every commune's offices.

    Codes already in OUTPUT are kept (dossier codes carry them), unless --renumber."""
    import re

    province_code = f"{int(province_code):02d}" if province_code.isdigit() else province_code
    if units.province(province_code) is None:
        raise click.BadParameter(f"unknown province code {province_code!r}", param_hint="--province")
    suffix = suffix or level1_code(province_code)
    if not suffix:
        raise click.BadParameter(f"the QCVN 102:2016 level-1 code of province {province_code} is not in the template: "
                                 "give it (e.g. --suffix H15)", param_hint="--suffix")
    if not re.fullmatch(r"[A-Z][0-9]{2}", suffix):
        raise click.BadParameter(f"{suffix!r} is not a level-1 code (a letter and two digits, e.g. H15)", param_hint="--suffix")
    previous = yaml.safe_load(output.read_text(encoding="utf-8")) if output.exists() and not renumber else None
    if previous and previous.get("province_code") not in (None, province_code):
        previous = None  # another province's file: nothing to keep
    data = build_registry(province_code, suffix, previous)
    text = dump_registry(data)
    parse_registry(text, str(output))  # never write a file the portal would refuse
    output.write_text(text, encoding="utf-8")
    click.echo(f"{output}: {len(data['agencies'])} agencies of province {data['province_code']}")


@agencies_group.command("check")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@lang_option
def check(path: Path | None, lang: str) -> None:
    """Load a registry (default: AGENCY_REGISTRY / the shipped one) and print its problems."""
    target = path or registry_path()
    try:
        with speaking(lang):  # a registry refused is read again each time (only a good one is kept)
            registry = load_registry(target)
    except RegistryError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    click.echo(t("{path}: {count} cơ quan, phiên bản {version}", lang, path=target, count=len(registry), version=registry.version))
