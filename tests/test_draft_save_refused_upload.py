""""Lưu và tiếp tục sau" with a file the portal refuses: the citizen is told which file and
why, beside its field, and everything else is saved."""

from __future__ import annotations

import html as htmllib
import io
import re

from tests.portal_helpers import GOOD_ANSWERS, small_pdf
from tests.test_portal_filing import fill_to_check_pages, text


def _field_error(page: str, path: str) -> str:
    found = re.search(rf'<p class="error-message" id="{re.escape(path)}-error">(.*?)</p>', page, re.S)
    assert found, f"no error beside {path}"
    return htmllib.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def test_saving_with_a_refused_file_names_it_beside_its_field_and_keeps_the_rest(app, client):
    base, token = fill_to_check_pages(client)
    exe = b"MZ\x90\x00\x03" + b"\x00" * 200
    response = client.post(
        f"{base}/dinh-kem",
        data={"csrf_token": token, "_action": "save", "attachment.giay_chung_sinh": (io.BytesIO(exe), "giấy chứng sinh.pdf")},
        content_type="multipart/form-data",
    )
    page = text(response)
    assert response.status_code == 200, "the refusal is shown, not skipped over by the redirect to 'saved'"
    error = _field_error(page, "f-attachment-giay_chung_sinh")
    assert "giấy chứng sinh.pdf" in error and "không đúng loại cho phép" in error and "chưa được lưu" in error
    assert 'id="saved-with-refused-file"' in page and "Đã lưu các thông tin khác" in page
    link = re.search(r'<p class="private-link">([^<]+)</p>', page).group(1)
    # Another browser with the link finds the draft at this step, the earlier answers kept.
    other = app.test_client()
    resumed = other.get(link.replace("http://localhost", ""))
    assert resumed.status_code == 302 and resumed.headers["Location"].endswith(f"{base}/dinh-kem")
    child = text(other.get(f"{base}/child"))
    assert f'value="{GOOD_ANSWERS["child"]["child.full_name"]}"' in child
    assert "giấy chứng sinh.pdf" not in text(other.get(f"{base}/kiem-tra"))  # the refused file is not in the draft


def test_saving_with_a_good_file_still_goes_to_the_saved_page(client):
    base, token = fill_to_check_pages(client)
    response = client.post(
        f"{base}/dinh-kem",
        data={"csrf_token": token, "_action": "save", "attachment.giay_chung_sinh": (io.BytesIO(small_pdf()), "gcs.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302 and "/da-luu" in response.headers["Location"]


def test_in_english_the_refusal_is_english_too(client):
    base, token = fill_to_check_pages(client)
    response = client.post(
        f"{base}/dinh-kem?lang=en",
        data={"csrf_token": token, "_action": "save", "attachment.giay_chung_sinh": (io.BytesIO(b""), "empty.pdf")},
        content_type="multipart/form-data",
    )
    error = _field_error(text(response), "f-attachment-giay_chung_sinh")
    assert "empty.pdf" in error and "was not saved" in error
