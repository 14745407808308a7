"""Email addresses: a sound syntax check (not jsonschema's "has an @"), and inputs as wide as the others."""

from __future__ import annotations

import pytest

from motcua.formats import format_checker, is_email, is_idn_email
from motcua.spec.model import ProcedureSpec
from motcua.submission import validate
from tests.portal_helpers import BIRTH_CODE, birth_spec, csrf

FORM = f"/thu-tuc/{BIRTH_CODE}/nop"


@pytest.mark.parametrize("value", [
    "abc@", "@example.com", "abc", "a b@example.com", "abc@example", "abc@localhost", "a@b@example.vn",
    "a..b@example.vn", "abc@-mail.vn", "abc@mail..vn", "nguyễn@gmail.com", " abc@x.vn", "abc@[999.0.0.1]",
    "x" * 250 + "@a.vn", "",
])
def test_bad_addresses_are_refused(value):
    assert not is_email(value)
    assert not format_checker().conforms(value, "email")


@pytest.mark.parametrize("value", [
    "ten@example.com", "nguyen.van.a+hs@mail.gov.vn", "a@b.co", "x@bộcôngan.vn",
    # RFC 5321/5322-valid forms refused before issue 10: a quoted local part, an address
    # literal, atext symbols, a special-use TLD
    '"nguyen van a"@example.com', "abc@[127.0.0.1]", "!#$%&'*+-/=?^_`{|}~@example.com", "a@example.arpa",
])
def test_good_addresses_pass(value):
    assert is_email(value)
    assert format_checker().conforms(value, "email")


def test_idn_email_allows_a_vietnamese_local_part():
    assert is_idn_email("nguyễn@gmail.com")
    assert not is_idn_email("nguyễn@")
    assert not format_checker().conforms("abc@", "idn-email")


def test_validation_reports_it_in_vietnamese_next_to_the_field(client):
    spec = ProcedureSpec.model_validate(birth_spec())
    errors = validate(spec, {"requester": {"email": "abc@"}})
    assert errors["requester.email"] == "Địa chỉ thư điện tử không hợp lệ, ví dụ ten@example.com"

    token = csrf(client.get(FORM).get_data(as_text=True))
    html = client.post(FORM, data={"csrf_token": token, "requester.email": "abc@"}).get_data(as_text=True)
    assert 'id="f-requester-email-error"' in html
    assert "Địa chỉ thư điện tử không hợp lệ" in html
    assert 'value="abc@"' in html  # the value is kept


TEXT_LIKE = ("input:not([type=hidden]):not([type=radio]):not([type=checkbox]):not([type=file])"
             ":not([type=submit]):not(.visually-hidden), select, textarea")


def _widths(page) -> dict[str, float]:
    return page.evaluate(
        "(sel) => Object.fromEntries([...document.querySelectorAll('form.filing-form .form-group:not(.form-group-error) > ' + "
        "sel.split(', ').join(', form.filing-form .form-group:not(.form-group-error) > '))]"
        ".map(e => [e.id || e.name, e.getBoundingClientRect().width]))",
        TEXT_LIKE,
    )


@pytest.mark.parametrize("width", [1280, 375])
def test_every_text_like_input_has_the_same_width(live_server, page, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server.url + FORM)
    # Inputs a spec widget or a page may yet draw: a url, and an input with no type (text).
    page.evaluate("""() => {
        const group = document.querySelector('[data-field="requester.email"]');
        for (const [id, type] of [['x-url', 'url'], ['x-plain', null], ['x-time', 'time']]) {
            const g = group.cloneNode(false); const i = document.createElement('input');
            i.id = id; if (type) i.type = type; g.appendChild(i); group.after(g);
        }
    }""")
    widths = _widths(page)
    assert "f-requester-email" in widths and "f-requester-full_name" in widths and "x-plain" in widths
    assert len(set(round(w) for w in widths.values())) == 1, widths
    if width == 375:
        assert round(widths["f-requester-email"]) <= 375 - 2 * 16
