"""`motcua serve` on a real waitress server: a broken spec is left out, the rest still serve."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.conftest import free_port, wait_for_server
from tests.portal_helpers import BIRTH_CODE, birth_spec, write_spec


def test_serve_leaves_a_broken_spec_out_and_serves_the_rest(tmp_path):
    specs = tmp_path / "specs"
    write_spec(specs, "good", birth_spec())
    warned = birth_spec()
    warned["code"] = "1.999999"
    warned["info"].pop("legal_basis", None)  # a linter warning: served all the same
    write_spec(specs, "warned", warned)
    (specs / "broken.yaml").write_text("code: 1.000001\nname: [unclosed\n", encoding="utf-8")
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "motcua"), "serve", "--specs", str(specs), "--data", str(tmp_path / "data"),
         "--host", "127.0.0.1", "--port", str(port), "--lang", "en"],  # findings in English (default Vietnamese)
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        body = wait_for_server(process, f"http://127.0.0.1:{port}/thu-tuc/{BIRTH_CODE}")
        assert "Đăng ký khai sinh" in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as response:
            assert response.headers["Server"] == "motcua"
    finally:
        process.terminate()
        out, err = process.communicate(timeout=60)
    assert "2 procedures" in out
    lines = err.splitlines()
    broken = [line for line in lines if "broken.yaml" in line]
    warned = [line for line in lines if "warned.yaml" in line]
    assert broken and all("left out" in line for line in broken)
    assert any(" ERROR " in line for line in broken)
    assert warned and not any("left out" in line or " ERROR " in line for line in warned), warned
    assert any(" WARNING " in line and "no `legal_basis`" in line for line in warned), warned


def test_make_demo_starts_the_simulators_and_make_serve_starts_none():
    """`make demo` gives the simulators (online payment works at once), `make serve` the
    portal as deployed (no simulators); the README's first block stays the two set-up
    commands (serve, test), and the paragraph after it says what each start gives."""
    repo = Path(__file__).resolve().parents[1]
    demo = subprocess.run(["make", "-n", "-s", "demo"], cwd=repo, capture_output=True, text=True, timeout=60).stdout
    serve = subprocess.run(["make", "-n", "-s", "serve"], cwd=repo, capture_output=True, text=True, timeout=60).stdout
    assert "motcua serve --demo" in demo
    assert "motcua serve" in serve and "--demo" not in serve
    parts = (repo / "README.md").read_text(encoding="utf-8").split("```")
    commands = [line.split("#")[0].strip() for line in parts[1].splitlines()[1:]]
    assert [c for c in commands if c] == ["make serve", "make test"]
    assert "make demo" in parts[2] and "VNPAY_" in parts[2]
