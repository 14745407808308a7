"""`motcua staff`: the administrator's first contact with the back office, in Vietnamese."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from motcua.cli import main
from motcua.accounts import all_accounts
from motcua.store import open_store

SPECS = Path(__file__).resolve().parents[1] / "procedure_specs"
PASSWORD = "mot-mat-khau-dai"


def _agency() -> str:
    from motcua.catalogue import Catalogue

    return next(iter(Catalogue.from_folder(SPECS))).agency.code


def _add(tmp_path: Path, *args: str, password: str = PASSWORD):
    return CliRunner().invoke(
        main,
        ["staff", "add", *args, "--data", str(tmp_path / "data"), "--specs", str(SPECS)],
        input=f"{password}\n{password}\n",
    )


def test_add_names_roles_in_vietnamese_and_stores_the_account(tmp_path: Path) -> None:
    result = _add(tmp_path, "lan", "--name", "Nguyễn Thị Lan", "--role", "desk", "--role", "specialist", "--agency", _agency())
    assert result.exit_code == 0, result.output
    assert "Đã tạo tài khoản lan (Cán bộ một cửa, Chuyên viên xử lý)." in result.output
    [user] = all_accounts(open_store(tmp_path / "data"))
    assert user.username == "lan" and set(user.roles) == {"desk", "specialist"}


def test_an_agency_no_spec_names_is_warned_about(tmp_path: Path) -> None:
    result = _add(tmp_path, "lan", "--name", "Lan", "--role", "desk", "--agency", "000.00.99.H99")
    assert result.exit_code == 0
    assert "Cảnh báo" in result.output and "000.00.99.H99" in result.output


def test_a_known_agency_is_not_warned_about(tmp_path: Path) -> None:
    result = _add(tmp_path, "lan", "--name", "Lan", "--role", "desk", "--agency", _agency())
    assert result.exit_code == 0 and "Cảnh báo" not in result.output


def test_a_refused_password_reads_as_one_vietnamese_sentence(tmp_path: Path) -> None:
    result = _add(tmp_path, "lan", "--name", "Lan", "--role", "desk", "--agency", _agency(), password="ngan")
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith("Lỗi: Mật khẩu")
    assert "Error:" not in result.output
