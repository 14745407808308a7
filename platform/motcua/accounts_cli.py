"""`motcua staff`: manage staff accounts from the command line.

This is how the first administrator comes to exist (there is no web sign-up):

    motcua staff add admin --name "Quản trị hệ thống" --role admin --data data

The password is asked for twice and never echoed or passed as an argument (it would end
up in the shell history and the process list).
"""

from __future__ import annotations

from pathlib import Path

import click

from motcua.accounts import ROLE_LABELS, ROLES, AccountError, all_accounts, create_account, set_active, set_password
from motcua.store import open_store

class StaffError(click.ClickException):
    """The account commands speak Vietnamese to the administrator, including the prefix
    click puts before an error."""

    def format_message(self) -> str:
        return self.message

    def show(self, file=None) -> None:  # type: ignore[no-untyped-def]
        click.echo(f"Lỗi: {self.message}", err=True)


def _roles_text(roles: tuple[str, ...] | list[str]) -> str:
    return ", ".join(ROLE_LABELS[r]["vi"] for r in roles)


def _unknown_agencies(agencies: tuple[str, ...], specs_dir: str) -> list[str]:
    """Agency codes no loaded spec names: almost always a typo, which would leave the new
    account with an empty queue and nobody the wiser."""
    folder = Path(specs_dir)
    if not agencies or not folder.is_dir():
        return []
    from motcua.catalogue import Catalogue

    known = {spec.agency.code for spec in Catalogue.from_folder(folder)}
    return [a for a in agencies if a not in known]


_data_option = click.option(
    "--data",
    "data_dir",
    default="data",
    show_default=True,
    envvar="MOTCUA_DATA_DIR",
    type=click.Path(file_okay=False),
    help="The store folder (as given to `motcua serve --data`).",
)


@click.group()
def staff() -> None:
    """Staff accounts (cán bộ): add, list, reset a password, disable."""


@staff.command("add")
@click.argument("username")
@click.option("--name", required=True, help="Full name, as shown on dossiers' timelines.")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES), help="Repeat for several roles.")
@click.option("--agency", "agencies", multiple=True, help="Agency code served (QCVN 102:2016); repeat for several.")
@click.password_option(help="Asked for when not given (recommended).")
@click.option(
    "--specs",
    "specs_dir",
    default="procedure_specs",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Spec folder, to warn about an agency code no procedure names.",
)
@_data_option
def add(
    username: str, name: str, roles: tuple[str, ...], agencies: tuple[str, ...], password: str, specs_dir: str, data_dir: str
) -> None:
    """Create the account USERNAME."""
    store = open_store(data_dir)
    try:
        user = create_account(store, username, name, roles, agencies, password)
    except AccountError as exc:
        raise StaffError(str(exc)) from exc
    click.echo(f"Đã tạo tài khoản {user.username} ({_roles_text(user.roles)}).")
    for code in _unknown_agencies(agencies, specs_dir):
        click.echo(f"Cảnh báo: không thủ tục nào trong {specs_dir} thuộc cơ quan {code}; tài khoản sẽ không thấy hồ sơ nào.", err=True)


@staff.command("list")
@_data_option
def list_(data_dir: str) -> None:
    """Every account with its roles and agencies."""
    accounts = all_accounts(open_store(data_dir))
    if not accounts:
        click.echo("Chưa có tài khoản nào. Tạo quản trị viên đầu tiên: motcua staff add admin --name ... --role admin")
        return
    for user in accounts:
        roles = _roles_text(user.roles)
        state = "" if user.active else "  [đã khóa]"
        click.echo(f"{user.username}\t{user.name}\t{roles}\t{' '.join(user.agencies) or '*'}{state}")


@staff.command("passwd")
@click.argument("username")
@click.password_option()
@_data_option
def passwd(username: str, password: str, data_dir: str) -> None:
    """Set a new password for USERNAME (ends its open sessions)."""
    try:
        set_password(open_store(data_dir), username, password)
    except AccountError as exc:
        raise StaffError(str(exc)) from exc
    click.echo(f"Đã đổi mật khẩu của {username}.")


@staff.command("disable")
@click.argument("username")
@_data_option
def disable(username: str, data_dir: str) -> None:
    """Stop USERNAME from logging in (the account and its history stay)."""
    try:
        set_active(open_store(data_dir), username, False)
    except AccountError as exc:
        raise StaffError(str(exc)) from exc
    click.echo(f"Đã khóa tài khoản {username}.")
