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

    catalogue = Catalogue.from_folder(SPECS)
    return catalogue.performers(next(iter(catalogue)))[0].code  # an office that performs a shipped spec


def _add(tmp_path: Path, *args: str, password: str = PASSWORD, store: bool = True):
    if store:
        open_store(tmp_path / "data")
    return CliRunner().invoke(
        main,
        ["staff", "add", *args, "--data", str(tmp_path / "data"), "--specs", str(SPECS)],
        input=f"{password}\n{password}\n",
    )


def _run(*args: str, input: str = ""):
    return CliRunner().invoke(main, ["staff", *args], input=input)


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


def test_list_passwd_disable_refuse_a_folder_without_a_store(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    for args in (["list"], ["passwd", "lan"], ["disable", "lan"]):
        result = _run(*args, "--data", str(missing), input=f"{PASSWORD}\n{PASSWORD}\n")
        assert result.exit_code == 1, (args, result.output)
        assert f"Lỗi: Không có kho dữ liệu ở {missing}" in result.output
        assert result.output.startswith("Lỗi: ")  # nothing asked before
    assert not missing.exists()


def test_add_makes_no_store_for_a_non_admin_without_create(tmp_path: Path) -> None:
    result = _add(tmp_path, "lan", "--name", "Lan", "--role", "desk", "--agency", _agency(), store=False)
    assert result.exit_code == 1
    assert "Không có kho dữ liệu" in result.output and "--create" in result.output
    assert "Mật khẩu" not in result.output
    assert not (tmp_path / "data").exists()


def test_the_first_admin_creates_the_store_owner_only(tmp_path: Path) -> None:
    result = _add(tmp_path, "admin", "--name", "Quản trị", "--role", "admin", store=False)
    assert result.exit_code == 0, result.output
    assert "Đã tạo kho dữ liệu mới" in result.output
    assert (tmp_path / "data").stat().st_mode & 0o777 == 0o700
    assert [u.username for u in all_accounts(open_store(tmp_path / "data"))] == ["admin"]


def test_create_flag_makes_a_store_for_any_role(tmp_path: Path) -> None:
    result = _add(tmp_path, "lan", "--name", "Lan", "--role", "desk", "--agency", _agency(), "--create", store=False)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data").stat().st_mode & 0o777 == 0o700


def test_bad_username_missing_agency_and_duplicates_fail_before_the_password_prompt(tmp_path: Path) -> None:
    assert _add(tmp_path, "lan", "--name", "Lan", "--role", "desk", "--agency", _agency()).exit_code == 0
    for args in (
        ["Bad Name!", "--name", "X", "--role", "desk", "--agency", _agency()],
        ["minh", "--name", "Minh", "--role", "desk"],
        ["lan", "--name", "Lan khác", "--role", "desk", "--agency", _agency()],
    ):
        result = _add(tmp_path, *args)
        assert result.exit_code == 1, (args, result.output)
        assert "Mật khẩu" not in result.output, result.output
        assert result.output.startswith("Lỗi: ")


def test_passwd_for_an_unknown_user_fails_before_prompting_and_a_known_one_is_changed(tmp_path: Path) -> None:
    assert _add(tmp_path, "lan", "--name", "Lan", "--role", "desk", "--agency", _agency()).exit_code == 0
    data = str(tmp_path / "data")
    result = _run("passwd", "nobody", "--data", data, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 1
    assert result.output == "Lỗi: Không có tài khoản nobody.\n"  # nothing asked before
    result = _run("passwd", "lan", "--data", data, input="mat-khau-moi-dai\nmat-khau-moi-dai\n")
    assert result.exit_code == 0, result.output
    [user] = all_accounts(open_store(data))
    assert user.check_password("mat-khau-moi-dai")


def test_the_password_is_no_option() -> None:
    for command in ("add", "passwd"):
        result = _run(command, "--help")
        assert result.exit_code == 0 and "--password" not in result.output


def test_list_summarises_many_agencies_and_all_agencies_lists_them(tmp_path: Path) -> None:
    """A demo account serving every office of the registry takes one line, not 200 codes."""
    from motcua.accounts import create_account
    from motcua.agencies import load_registry

    codes = load_registry().codes()
    store = open_store(tmp_path / "data")
    create_account(store, "motcua", "Cán bộ một cửa (demo)", ["desk"], codes, PASSWORD)
    create_account(store, "lan", "Nguyễn Thị Lan", ["desk"], codes[:6], PASSWORD)
    create_account(store, "hoa", "Phạm Thị Hoa", ["desk"], codes[:2], PASSWORD)
    store.close()
    data = str(tmp_path / "data")
    result = _run("list", "--data", data)
    assert result.exit_code == 0, result.output
    lines = {line.split("\t")[0]: line for line in result.output.splitlines()}
    assert lines["motcua"].endswith(f"\ttất cả {len(codes)} cơ quan")
    assert lines["lan"].endswith(f"\t{' '.join(codes[:3])} và 3 cơ quan khác")
    assert lines["hoa"].endswith(f"\t{' '.join(codes[:2])}")
    assert len(result.output.splitlines()) == 3 and len(result.output) < 600
    result = _run("list", "--all-agencies", "--data", data)
    every = {line.split("\t")[0]: line for line in result.output.splitlines()}
    assert every["motcua"].endswith("\t" + " ".join(codes)) and every["lan"].endswith("\t" + " ".join(codes[:6]))


def test_a_piped_password_is_read_without_the_echo_warning(tmp_path: Path) -> None:
    """`printf 'pw\\npw\\n' | motcua staff add ...`, a real process whose stdin is a pipe:
    no getpass, so no "Password input may be echoed" (it came twice), and the password works."""
    import subprocess
    import sys

    from motcua.accounts import get_account

    command = [sys.executable, "-c", "from motcua.cli import main; main()", "staff", "add", "admin", "--name", "Quản trị",
               "--role", "admin", "--data", str(tmp_path / "data")]
    done = subprocess.run(command, input=f"{PASSWORD}\n{PASSWORD}\n", capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "echoed" not in done.stderr + done.stdout and "Warning" not in done.stderr
    one_line = subprocess.run([*command[:4], "passwd", "admin", "--data", str(tmp_path / "data")],
                              input="mat-khau-moi-rat-dai\n", capture_output=True, text=True, timeout=120)
    assert one_line.returncode == 0, one_line.stderr
    store = open_store(tmp_path / "data")
    try:
        assert get_account(store, "admin").check_password("mat-khau-moi-rat-dai")
    finally:
        store.close()
    mismatch = subprocess.run([*command[:4], "passwd", "admin", "--data", str(tmp_path / "data")],
                              input="mat-khau-mot-dai\nmat-khau-hai-dai\n", capture_output=True, text=True, timeout=120)
    assert mismatch.returncode != 0 and "không khớp" in mismatch.stderr and "Traceback" not in mismatch.stderr
