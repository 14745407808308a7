"""`motcua staff`: manage staff accounts from the command line.

This is how the first administrator comes to exist (there is no web sign-up):

    motcua staff add admin --name "Quản trị hệ thống" --role admin --data data

The password is asked for twice and never echoed or passed as an argument (it would end
up in the shell history and the process list); a script may pipe it on standard input.
It is asked for only once the rest of the command has been checked.

The commands work on an existing store only, so that a wrong `--data` (or running from
another directory) cannot quietly make a second, empty store: `add` creates a new one only
for an administrator (the first account) or when given `--create`.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from motcua.accounts import (
    ROLE_LABELS,
    ROLES,
    AccountError,
    all_accounts,
    create_account,
    get_account,
    new_account,
    set_active,
    set_password,
)
from motcua.app import _data_folder
from motcua.store import Store, configured_store

class StaffError(click.ClickException):
    """The account commands speak Vietnamese to the administrator, including the prefix
    click puts before an error."""

    def format_message(self) -> str:
        return self.message

    def show(self, file=None) -> None:  # type: ignore[no-untyped-def]
        click.echo(f"Lỗi: {self.message}", err=True)


def _has_store(data_dir: str) -> bool:
    return bool(os.environ.get("MOTCUA_STORE")) or (Path(data_dir) / "store.json").is_file()  # either backend's marker


def _existing_store(data_dir: str) -> Store:
    """The store in `data_dir`, never a new empty one made by mistake."""
    if not _has_store(data_dir):
        raise StaffError(
            f"Không có kho dữ liệu ở {Path(data_dir).resolve()}: chạy lệnh trong thư mục của cổng hoặc dùng --data."
        )
    return configured_store(data_dir)


def _ask_password() -> str:
    """Asked for twice, never echoed; after every other check, so a typo in the command
    does not cost a password typed for nothing."""
    return click.prompt(
        "Mật khẩu",
        hide_input=True,
        confirmation_prompt="Nhập lại mật khẩu",
        prompt_suffix=": ",
    )


def _roles_text(roles: tuple[str, ...] | list[str]) -> str:
    return ", ".join(ROLE_LABELS[r]["vi"] for r in roles)


def _unknown_agencies(agencies: tuple[str, ...], specs_dir: str) -> list[str]:
    """Agency codes that perform no loaded spec: almost always a typo, which would leave the
    new account with an empty queue and nobody the wiser."""
    folder = Path(specs_dir)
    if not agencies or not folder.is_dir():
        return []
    from motcua.agencies import load_registry, registry_path
    from motcua.catalogue import Catalogue

    catalogue = Catalogue.from_folder(folder, agencies=load_registry(registry_path()))
    known = {office.code for spec in catalogue for office in catalogue.performers(spec)}
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
@click.option(
    "--specs",
    "specs_dir",
    default="procedure_specs",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Spec folder, to warn about an agency code no procedure names.",
)
@click.option("--create", is_flag=True, help="Create the store if the folder holds none (done anyway for an admin).")
@_data_option
def add(
    username: str, name: str, roles: tuple[str, ...], agencies: tuple[str, ...], specs_dir: str, create: bool, data_dir: str
) -> None:
    """Create the account USERNAME; the password is asked for (twice, not echoed)."""
    fresh = not _has_store(data_dir)
    if fresh and not (create or "admin" in roles):
        raise StaffError(
            f"Không có kho dữ liệu ở {Path(data_dir).resolve()}: chạy lệnh trong thư mục của cổng, "
            "dùng --data, hoặc thêm --create để tạo kho mới."
        )
    if fresh:
        _data_folder(Path(data_dir))
    store = configured_store(data_dir)
    try:
        new_account(store, username, name, roles, agencies)
        user = create_account(store, username, name, roles, agencies, _ask_password())
    except AccountError as exc:
        raise StaffError(str(exc)) from exc
    if fresh:
        click.echo(f"Đã tạo kho dữ liệu mới ở {Path(data_dir).resolve()}.")
    click.echo(f"Đã tạo tài khoản {user.username} ({_roles_text(user.roles)}).")
    for code in _unknown_agencies(agencies, specs_dir):
        click.echo(f"Cảnh báo: không thủ tục nào trong {specs_dir} thuộc cơ quan {code}; tài khoản sẽ không thấy hồ sơ nào.", err=True)


@staff.command("list")
@_data_option
def list_(data_dir: str) -> None:
    """Every account with its roles and agencies."""
    accounts = all_accounts(_existing_store(data_dir))
    if not accounts:
        click.echo("Chưa có tài khoản nào. Tạo quản trị viên đầu tiên: motcua staff add admin --name ... --role admin")
        return
    for user in accounts:
        roles = _roles_text(user.roles)
        state = "" if user.active else "  [đã khóa]"
        click.echo(f"{user.username}\t{user.name}\t{roles}\t{' '.join(user.agencies) or '*'}{state}")


@staff.command("passwd")
@click.argument("username")
@_data_option
def passwd(username: str, data_dir: str) -> None:
    """Set a new password for USERNAME (asked for twice; ends its open sessions)."""
    store = _existing_store(data_dir)
    if get_account(store, username) is None:
        raise StaffError(f"Không có tài khoản {username}.")
    try:
        set_password(store, username, _ask_password())
    except AccountError as exc:
        raise StaffError(str(exc)) from exc
    click.echo(f"Đã đổi mật khẩu của {username}.")


@staff.command("disable")
@click.argument("username")
@_data_option
def disable(username: str, data_dir: str) -> None:
    """Stop USERNAME from logging in (the account and its history stay)."""
    try:
        set_active(_existing_store(data_dir), username, False)
    except AccountError as exc:
        raise StaffError(str(exc)) from exc
    click.echo(f"Đã khóa tài khoản {username}.")
