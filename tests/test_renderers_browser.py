"""The conditional-field script in a real Chromium: fields show and hide as the citizen answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from motcua.spec.loader import load_file
from motcua.spec.model import ProcedureSpec
from motcua_renderers.form import render_fields

REPO = Path(__file__).resolve().parent.parent
STATIC = REPO / "platform" / "motcua" / "static"
#: What a form page loads, in order: the JSON Logic library, then form.js (pages.form_assets).
SCRIPT = "\n".join((STATIC / p).read_text() for p in ("js/vendor/json-logic.js", "renderers/form.js"))


@pytest.mark.browser
def test_father_block_follows_the_checkbox(page):
    spec = load_file(REPO / "procedure_specs" / "ho-tich" / "dang-ky-khai-sinh.yaml").spec
    fields = render_fields(spec, ["mother", "has_father", "father"], {}, {}, "vi")
    page.set_content(f"<!doctype html><meta charset=utf-8><form novalidate>{fields}</form><script>{SCRIPT}</script>")
    father = page.locator('[data-field="father"]')
    expect(father).to_be_visible()  # has_father defaults to true
    page.get_by_label("Khai thông tin về cha").uncheck()
    expect(father).to_be_hidden()
    page.get_by_label("Khai thông tin về cha").check()
    expect(father).to_be_visible()
    page.locator("#f-father-full_name").fill("Nguyễn Văn An")


@pytest.mark.browser
def test_select_condition_and_else_branch(page):
    spec = ProcedureSpec.model_validate(
        {
            "code": "1.000002",
            "version": "1",
            "name": "Thủ tục thử",
            "sector": "Thử nghiệm",
            "agency": {"name": "Ủy ban nhân dân xã Thử", "tier": "commune"},
            "filers": ["citizen", "business"],
            "level": "full",
            "info": {"result": "Kết quả", "processing_time": {"working_days": 3}},
            "form": {
                "contact": {"name": "kind"},
                "ui": {"kind": {"widget": "select", "enum_labels": {"person": "Cá nhân", "company": "Doanh nghiệp"}}},
                "fields": {
                    "type": "object",
                    "properties": {
                        "kind": {"type": "string", "title": "Người nộp là", "enum": ["person", "company"]},
                        "cccd": {"type": "string", "title": "Số định danh cá nhân", "format": "cccd"},
                        "tax": {"type": "string", "title": "Mã số thuế", "format": "tax-code"},
                    },
                    "if": {"properties": {"kind": {"const": "person"}}, "required": ["kind"]},
                    "then": {"required": ["cccd"]},
                    "else": {"required": ["tax"]},
                },
            },
        }
    )
    fields = render_fields(spec, None, {}, {}, "vi")
    page.set_content(f"<!doctype html><meta charset=utf-8><form novalidate>{fields}</form><script>{SCRIPT}</script>")
    cccd, tax = page.locator('[data-field="cccd"]'), page.locator('[data-field="tax"]')
    expect(cccd).to_be_hidden()  # nothing chosen yet: not a person
    expect(tax).to_be_visible()
    page.get_by_label("Người nộp là").select_option("person")
    expect(cccd).to_be_visible()
    expect(tax).to_be_hidden()
    page.get_by_label("Người nộp là").select_option("company")
    expect(cccd).to_be_hidden()
    expect(tax).to_be_visible()
