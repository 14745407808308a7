"""The authoring studio in a real Chromium: an author edits a procedure in the code editor
(adds a field and a fee rule), sees the linter's error for a typo and then the live preview,
submits it for review; another admin approves; a citizen files under the new version, while
a dossier filed before still shows and is processed under the old one."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError, expect

from motcua import accounts
from motcua.app import create_app
from motcua.dossier import Status

from conftest import LiveServer
from portal_helpers import follow
from test_backoffice import PASSWORD

pytestmark = pytest.mark.browser
FIXTURE = Path(__file__).parent / "fixtures" / "studio_spec.yaml"
CODE = "1.999001"
AGENCY = "000.00.31.H12"
FIELD = "\n          purpose: {type: string, title: {vi: Mục đích sử dụng, en: Purpose}, maxLength: 200}"
FEE = "fees:\n  - {id: phi_xac_nhan, kind: fee, name: {vi: Phí xác nhận, en: Confirmation fee}, amout: 15000}\n"


@pytest.fixture
def studio_app(tmp_path: Path, data_dir: Path):
    specs = tmp_path / "specs"
    specs.mkdir()
    shutil.copy(FIXTURE, specs / "xac-nhan.yaml")
    app = create_app({"DATA_DIR": str(data_dir), "SPECS_DIR": str(specs), "TESTING": True, "STUDIO_REFRESH_SECONDS": 0})
    store = app.extensions["motcua"].store
    accounts.create_account(store, "soan", "Nguyễn Văn Soạn", ["author"], [], PASSWORD)
    accounts.create_account(store, "duyet", "Trần Thị Duyệt", ["admin"], [], PASSWORD)
    accounts.create_account(store, "lan", "Lê Thị Lan", ["desk"], [AGENCY], PASSWORD)
    yield app
    store.close()


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/staff/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(lambda url: "/login" not in url)


def select(page, needle: str, *, after: bool = True) -> None:
    """Put the editor's cursor just after (or select) the first `needle` of the document."""
    page.evaluate(
        """([needle, after]) => {
            const view = window.motcuaStudio;
            const at = view.state.doc.toString().indexOf(needle);
            if (at < 0) throw new Error('not in the document: ' + needle);
            view.dispatch(after ? {selection: {anchor: at + needle.length}} : {selection: {anchor: at, head: at + needle.length}});
            view.focus();
        }""",
        [needle, after],
    )


def offered(page, option: str) -> None:
    """Wait until the completion list offers `option`. The editor fetches the spec's JSON Schema
    after it says ready; a key typed before the schema came gets no list, and none comes later
    by itself (a loaded run waited 30 s for it): ask again (Ctrl+Space, as an author would)
    until the list offers it, for as long as an action may take."""
    item = page.locator(f".cm-tooltip-autocomplete li:has-text('{option}')")
    deadline = time.monotonic() + 30
    while True:
        try:
            item.wait_for(timeout=1000)
            return
        except PlaywrightTimeoutError:
            if time.monotonic() > deadline:
                raise
            page.keyboard.press("Control+Space")


def paste(page, text: str) -> None:
    """Insert several lines at the cursor as a paste does, scrolled into view (CodeMirror draws
    only the lines near the visible part, and wrapped lines are taller). Chromium's synthetic insertText with
    a newline in a line-wrapping contenteditable loses an earlier line break (a driver
    artefact, not the author's typing: Enter and paste go through CodeMirror's own handlers)."""
    page.evaluate("(text) => { const v = window.motcuaStudio; v.dispatch({...v.state.replaceSelection(text), scrollIntoView: true}); v.focus(); }", text)


def test_author_edits_reviewer_publishes_citizen_files_new_version_old_dossier_keeps_old(studio_app, browser):
    from motcua.filing import file_dossier

    svc = studio_app.extensions["motcua"]
    old_spec = svc.catalogue.get(CODE)
    with studio_app.test_request_context():
        old = file_dossier(old_spec, {"applicant": {"full_name": "Phạm Văn Cũ", "phone": "0912345678"}}, [],
                           channel="online", delivery=None, actor="citizen")
    assert old.spec_version == "2026.1"

    with LiveServer(studio_app) as server:
        base = server.url
        context = browser.new_context(locale="vi-VN")
        page = context.new_page()
        csp: list[str] = []
        page.on("console", lambda m: csp.append(m.text) if m.type == "error" and "Content Security Policy" in m.text else None)
        try:
            # the author opens the studio and the procedure
            log_in(page, base, "soan")
            page.goto(f"{base}/staff/soan-thao/")
            assert page.locator(f"tr[data-code='{CODE}']").inner_text().count("Đã công bố") == 1
            page.get_by_role("link", name=CODE).click()
            page.wait_for_selector("#studio[data-editor=ready] .cm-editor")
            # highlighted: CodeMirror parses and paints tokens after the editor is ready, in idle time
            page.wait_for_function("document.querySelectorAll('.cm-editor .cm-line span').length > 10")

            # completion from the spec JSON Schema: a top-level key
            select(page, 'version: "2026.1"')
            page.keyboard.press("End")
            page.keyboard.insert_text("\nlife_ev")
            offered(page, "life_events")
            page.keyboard.press("Escape")
            for _ in range(len("\nlife_ev")):
                page.keyboard.press("Backspace")

            # bump the version, add a field and a fee rule with a typo
            select(page, '"2026.1"', after=False)
            page.keyboard.insert_text('"2026.2"')
            select(page, "format: vn-mobile}")
            paste(page, FIELD)
            page.evaluate("() => { const v = window.motcuaStudio; const at = v.state.doc.toString().indexOf('\\nsteps:\\n') + 1;"
                          " v.dispatch({selection: {anchor: at}}); }")
            paste(page, FEE)
            # the linter's error, inline (underlined in the editor) and listed beside it
            page.wait_for_selector("#lint-list .lint-error:has-text('amout')")
            page.wait_for_selector(".cm-lintRange-error")
            assert "ý bạn là `amount`" in page.locator("#lint-list").inner_text()  # in the studio's language

            # fix the typo: the error goes and the live preview shows the field and the fee
            select(page, "amout", after=False)
            page.keyboard.insert_text("amount")
            page.locator("#lint-list .lint-error").first.wait_for(state="detached")  # warnings may stay
            page.wait_for_selector("#preview-vi-fees:has-text('15.000 ₫')")
            page.wait_for_selector("#preview-en-fees:has-text('VND 15,000')")
            expect(page.locator("#preview-vi-form")).to_contain_text("Mục đích sử dụng")
            expect(page.locator("#preview-en-form")).to_contain_text("Purpose")
            # sample answers fill the preview form
            page.fill("#sample-answers", '{"applicant": {"full_name": "Mẫu Thử"}}')
            page.wait_for_selector("#preview-vi-form input[value='Mẫu Thử']")

            follow(page, page.get_by_role("button", name="Gửi duyệt"))
            page.get_by_text("Đã gửi duyệt").wait_for()
            expect(page.locator("#studio-state")).to_have_text("Chờ duyệt")
            assert page.get_by_role("button", name="Duyệt và công bố").count() == 0  # not the author's to approve
            assert svc.catalogue.get(CODE).version == "2026.1"
            context.close()

            # another admin reviews the difference and approves
            context = browser.new_context(locale="vi-VN")
            page = context.new_page()
            page.on("console", lambda m: csp.append(m.text) if m.type == "error" and "Content Security Policy" in m.text else None)
            log_in(page, base, "duyet")
            page.goto(f"{base}/staff/soan-thao/{CODE}")
            page.get_by_role("button", name="Duyệt và công bố").click()
            page.get_by_text("Đã duyệt và công bố phiên bản mới.").wait_for()
            follow(page, page.get_by_role("link", name="Lịch sử phiên bản"))
            assert "purpose:" in page.locator("#studio-diff .diff-add").all_inner_texts().__str__()
            context.close()

            # a citizen files under the new version
            context = browser.new_context(locale="vi-VN")
            page = context.new_page()
            page.on("console", lambda m: csp.append(m.text) if m.type == "error" and "Content Security Policy" in m.text else None)
            page.goto(f"{base}/thu-tuc/{CODE}")
            assert "Phí xác nhận" in page.content()
            follow(page, "text=Nộp hồ sơ trực tuyến >> nth=0")
            page.fill("#f-applicant-full_name", "Đỗ Thị Mới")
            page.fill("#f-applicant-phone", "0987654321")
            page.fill("#f-applicant-purpose", "Bổ sung hồ sơ xin việc")
            for _ in range(3):  # the details page, the delivery page, then the check page files
                if page.locator("button[data-file-button]").count():  # each page read once loaded
                    break
                if page.locator("input[data-delivery-kind]").count():
                    page.check("input[data-delivery-kind][value=desk]")
                follow(page, ".actions button[value=continue]")
            follow(page, "button[data-file-button]")
            expect(page.locator("#dossier-code")).not_to_be_empty()  # filed: the confirmation
            context.close()
            new = [d for d in svc.store.dossiers.all() if d.code != old.code]
            assert len(new) == 1
            assert new[0].spec_version == "2026.2" and new[0].data["applicant"]["purpose"] == "Bổ sung hồ sơ xin việc"
            assert [line["amount"] for line in new[0].fees] == [15000]

            # the dossier filed before still shows and is processed under the old version
            context = browser.new_context(locale="vi-VN")
            page = context.new_page()
            log_in(page, base, "lan")
            page.goto(f"{base}/staff/ho-so/{old.code}")
            assert "Phạm Văn Cũ" in page.content()
            assert "Mục đích sử dụng" not in page.content()
            page.get_by_role("button", name="Tiếp nhận hồ sơ").click()
            page.get_by_text("Đã thực hiện: Tiếp nhận hồ sơ.").wait_for()
        finally:
            context.close()
    kept = svc.store.dossiers.get(old.code)
    assert kept.status == Status.RECEIVED and kept.spec_version == "2026.1" and not kept.fees
    assert svc.engine.spec_for(kept).fees == [] and svc.catalogue.get(CODE).fees[0].amount == 15000
    assert csp == []


def test_author_creates_a_procedure_from_national_record_text_and_another_admin_publishes_it(studio_app, browser):
    """"Tạo thủ tục mới": the record of marriage registration pasted from the national
    database becomes a draft whose only lint error is the missing form; the author writes it
    in the editor, sees the preview, submits; another admin publishes; citizens see it."""
    from test_national_import import FORM

    record = (Path(__file__).parent / "fixtures" / "national" / "dang-ky-ket-hon.txt").read_text(encoding="utf-8")
    code = "1.000894"
    svc = studio_app.extensions["motcua"]
    with LiveServer(studio_app) as server:
        base = server.url
        context = browser.new_context(locale="vi-VN", viewport={"width": 1400, "height": 900})
        page = context.new_page()
        csp: list[str] = []
        page.on("console", lambda m: csp.append(m.text) if m.type == "error" and "Content Security Policy" in m.text else None)
        try:
            log_in(page, base, "soan")
            page.goto(f"{base}/staff/soan-thao/")
            page.get_by_role("link", name="Tạo thủ tục mới").click()
            page.get_by_label("Nội dung thủ tục").fill(record)
            page.get_by_role("button", name="Nhập và tạo bản thảo").click()
            page.get_by_text("Đã tạo bản thảo 1.000894 từ Cơ sở dữ liệu quốc gia.").wait_for()
            page.wait_for_selector("#studio[data-editor=ready] .cm-editor")
            assert page.locator("#studio-state").inner_text() == "Bản thảo"
            assert page.locator("h1").inner_text() == "1.000894 – Đăng ký kết hôn"
            editor = page.locator(".cm-content").inner_text()
            assert "# TODO (dòng 24): thành phần hồ sơ theo trường hợp" in editor and "Luật Hôn nhân và gia đình" in editor
            page.wait_for_selector("#lint-list .lint-error:has-text('cần có `form`')")  # in the studio's language
            expect(page.locator("#lint-list .lint-warning:has-text('Chỗ cần viết (ghi chú # TODO)')")).to_have_count(5)

            # no preview yet, and each column says why in its own language
            expect(page.locator("#preview-vi-notice")).to_have_text(re.compile("^Bản thảo còn lỗi nên chưa xem trước được: dòng "))
            expect(page.locator("#preview-en-notice")).to_have_text(
                re.compile("^The draft has errors, so it cannot be previewed yet: line "))
            assert page.locator("section[lang=en] summary").all_inner_texts() == ["Fees and charges", "Forms", "Procedure page"]

            # the editor is wide beside the preview on a wide screen, and wraps long lines
            layout = page.evaluate("""() => {
                const ed = document.querySelector('.studio-edit').getBoundingClientRect();
                const pre = document.querySelector('.studio-preview').getBoundingClientRect();
                const scroller = document.querySelector('.cm-scroller');
                return {edit: ed.width, sideBySide: pre.left >= ed.right, overflow: scroller.scrollWidth - scroller.clientWidth,
                        wraps: document.querySelector('.cm-content').classList.contains('cm-lineWrapping'),
                        font: getComputedStyle(document.querySelector('.cm-content')).fontFamily};
            }""")
            assert layout["edit"] > 700 and layout["sideBySide"], layout
            assert layout["wraps"] and layout["overflow"] <= 1, layout  # the TODO notes are read whole
            assert layout["font"].startswith('"Motcua Mono"'), layout  # Noto Sans Mono, served: draws ệ, ở, ẫ whole
            page.set_viewport_size({"width": 1000, "height": 900})
            stacked = page.evaluate("""() => document.querySelector('.studio-preview').getBoundingClientRect().top
                                              >= document.querySelector('.studio-edit').getBoundingClientRect().bottom""")
            assert stacked
            page.set_viewport_size({"width": 1400, "height": 900})

            # the author writes the form at the end of the draft: the error goes, the preview comes
            page.evaluate("() => { const v = window.motcuaStudio; v.dispatch({selection: {anchor: v.state.doc.length}}); v.focus(); }")
            paste(page, "\n" + FORM)
            page.locator("#lint-list .lint-error").first.wait_for(state="detached")
            page.wait_for_selector("#preview-vi-form:has-text('Người yêu cầu')")
            page.wait_for_selector("#preview-en-form:has-text('Requester')")
            expect(page.locator("#preview-vi-notice")).to_be_hidden()
            expect(page.locator("#preview-en-notice")).to_be_hidden()
            assert "Giấy chứng nhận kết hôn" in page.locator("#preview-vi-procedure").text_content()  # a closed <details>
            # the import's TODO notes are still there: "Gửi duyệt" is refused, each note listed
            follow(page, page.get_by_role("button", name="Gửi duyệt"))
            refused = page.locator(".notice.studio-not-ready")
            refused.wait_for()
            assert "Bản thảo còn 5 chỗ cần viết (ghi chú # TODO)" in refused.inner_text()
            assert page.locator("#studio-state").inner_text() == "Bản thảo"
            page.wait_for_selector("#studio[data-editor=ready] .cm-editor")
            # the author resolves the notes (removes them): once the text is ready the notice goes
            page.evaluate("""() => {
                const v = window.motcuaStudio;
                const text = v.state.doc.toString().split('\\n').filter((l) => !l.trimStart().startsWith('# TODO'))
                    .map((l) => l.replace(/\\s+# TODO.*$/, '')).join('\\n');
                v.dispatch({changes: {from: 0, to: v.state.doc.length, insert: text}});
            }""")
            refused.wait_for(state="hidden")
            expect(page.locator("#lint-list .lint-ok")).to_have_text("Không có lỗi.")
            follow(page, page.get_by_role("button", name="Gửi duyệt"))
            page.get_by_text("Đã gửi duyệt").wait_for()
            expect(page.locator("#studio-state")).to_have_text("Chờ duyệt")
            page.goto(f"{base}/staff/soan-thao/")
            row = page.locator(f"tr[data-code='{code}']")
            assert "Đăng ký kết hôn" in row.inner_text() and "xưởng soạn thảo" in row.inner_text()
            for badge in page.locator(".studio-list .tag").all():  # one line each, never "Đã / công / bố"
                assert badge.evaluate("(el) => el.getClientRects().length") == 1
            context.close()

            context = browser.new_context(locale="vi-VN")
            page = context.new_page()
            page.on("console", lambda m: csp.append(m.text) if m.type == "error" and "Content Security Policy" in m.text else None)
            log_in(page, base, "duyet")
            page.goto(f"{base}/staff/soan-thao/")
            assert "Chờ duyệt" in page.locator(f"tr[data-code='{code}']").inner_text()
            follow(page, page.get_by_role("link", name=code))
            page.get_by_role("button", name="Duyệt và công bố").click()
            page.get_by_text("Đã duyệt và công bố phiên bản mới.").wait_for()
            context.close()

            context = browser.new_context(locale="vi-VN")
            page = context.new_page()
            page.goto(f"{base}/thu-tuc/{code}")
            assert "Đăng ký kết hôn" in page.locator("h1").inner_text()
            assert "52/2014/QH13" in page.content()
            assert page.get_by_role("link", name="Nộp hồ sơ trực tuyến").count() >= 1
        finally:
            context.close()
    assert svc.catalogue.get(code).version == studio_first_version()
    assert csp == []


def studio_first_version() -> str:
    from motcua.studio import first_version

    return first_version()
