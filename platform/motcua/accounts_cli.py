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
import sys
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
    does not cost a password typed for nothing. Piped on stdin (a script, not a terminal):
    read as a line, or two equal lines, without getpass, which would warn twice that the
    input "may be echoed" for a password nobody types."""
    stdin = sys.stdin
    if stdin is not None and not stdin.isatty():
        first, second = stdin.readline().rstrip("\r\n"), stdin.readline()
        if not first:
            raise StaffError("Không đọc được mật khẩu từ đầu vào chuẩn (stdin): gửi mật khẩu trên một dòng.")
        if second and second.rstrip("\r\n") != first:
            raise StaffError("Hai dòng mật khẩu trên đầu vào chuẩn không khớp nhau.")
        return first
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


#: agencies listed by code before the rest are counted (`staff list` without --all-agencies)
AGENCIES_SHOWN = 3


def agencies_text(agencies: list[str], registry_codes: set[str], *, every: bool = False) -> str:
    """An account's agencies as one column: `*` for none (an admin or author), "tất cả N cơ
    quan" for every office of the registry, else the first few codes and how many more, so a
    demo account serving 200 offices takes one line; `every` lists them all."""
    if not agencies:
        return "*"
    if every:
        return " ".join(agencies)
    if registry_codes and registry_codes <= set(agencies):
        return f"tất cả {len(registry_codes)} cơ quan"
    if len(agencies) <= AGENCIES_SHOWN + 1:
        return " ".join(agencies)
    return f"{' '.join(agencies[:AGENCIES_SHOWN])} và {len(agencies) - AGENCIES_SHOWN} cơ quan khác"


@staff.command("list")
@_data_option
@click.option("--all-agencies", "every", is_flag=True, help="List every agency code of each account (default: a summary).")
def list_(data_dir: str, every: bool) -> None:
    """Every account with its roles and agencies (summarised; --all-agencies lists each code)."""
    from motcua.agencies import load_registry, registry_path

    accounts = all_accounts(_existing_store(data_dir))
    if not accounts:
        click.echo("Chưa có tài khoản nào. Tạo quản trị viên đầu tiên: motcua staff add admin --name ... --role admin")
        return
    codes = set(load_registry(registry_path()).codes())
    for user in accounts:
        roles = _roles_text(user.roles)
        state = "" if user.active else "  [đã khóa]"
        click.echo(f"{user.username}\t{user.name}\t{roles}\t{agencies_text(list(user.agencies), codes, every=every)}{state}")


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
