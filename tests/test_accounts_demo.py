"""`motcua serve --demo` also runs the identity provider simulator and signs citizens in
with it, end to end over real sockets (portal, provider, and the browser's redirects)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import requests

from tests.conftest import free_port, wait_for_server
from tests.portal_helpers import birth_spec, write_spec


def test_serve_demo_signs_a_citizen_in_at_the_simulator(tmp_path):
    specs = tmp_path / "specs"
    write_spec(specs, "birth", birth_spec())
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "motcua"), "serve", "--demo", "--specs", str(specs),
         "--data", str(tmp_path / "data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        browser = requests.Session()
        assert 'href="/dang-nhap"' in wait_for_server(process, base + "/")  # however long the start takes
        page = browser.get(base + "/dang-nhap", timeout=10)  # redirects to the provider's page
        provider = re.match(r"http://127\.0\.0\.1:(\d+)/authorize\?", page.url)
        assert provider and int(provider.group(1)) != port, page.url
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
        mine = browser.post(page.url.split("?")[0], data={**fields, "identity": "demo-citizen-binh"}, timeout=10)
        assert mine.url == base + "/ho-so-cua-toi" and "Trần Thị Bình" in mine.text, mine.text[-2000:]
    finally:
        process.terminate()
        out, err = process.communicate(timeout=60)
    assert f"simulator identity/vneid-demo: http://127.0.0.1:{provider.group(1)}/" in out, (out, err)
