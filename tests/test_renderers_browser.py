"""The conditional-field script in a real Chromium: fields show and hide as the citizen answers."""

from __future__ import annotations

from pathlib import Path

import pytest

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
    assert father.is_visible()  # has_father defaults to true
    page.get_by_label("Khai thông tin về cha").uncheck()
    assert father.is_hidden()
    page.get_by_label("Khai thông tin về cha").check()
    assert father.is_visible()
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
    assert cccd.is_hidden() and tax.is_visible()  # nothing chosen yet: not a person
    page.get_by_label("Người nộp là").select_option("person")
    assert cccd.is_visible() and tax.is_hidden()
    page.get_by_label("Người nộp là").select_option("company")
    assert cccd.is_hidden() and tax.is_visible()
