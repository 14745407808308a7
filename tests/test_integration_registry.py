"""The registries every integration kind shares: found by entry point, a taken identifier
refused, demo-only plugins enabled only in DEMO/TESTING; and what a plugin may bring to the
app (a blueprint under /plugins/<kind>/<id>/, its CSRF exemptions for webhooks only, a
template folder, translations, old URLs kept as aliases)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Blueprint, render_template

from motcua.app import create_app
from motcua.integrations import CARRIERS, GATEWAYS, IDENTITY, NOTIFIERS, REGISTRIES, STEPS, SYNC, WIDGETS, DuplicatePlugin
from motcua.integrations.gateways import Gateway
from motcua.integrations.notifiers import Notifier

SPECS = Path(__file__).resolve().parents[1] / "procedure_specs"


def test_every_kind_has_its_group() -> None:
    assert {r.group for r in REGISTRIES.values()} == {
        "motcua.steps", "motcua.gateways", "motcua.carriers", "motcua.notifiers", "motcua.sync", "motcua.identity",
        "motcua.widgets"}
    assert {"payment", "review", "postal", "notify"} <= set(STEPS.all())
    assert {"vnpay", "momo"} <= set(GATEWAYS.all()) and {"vnpost"} <= set(CARRIERS.all())
    assert IDENTITY.all() == {} or all(isinstance(k, str) for k in IDENTITY.all())
    assert SYNC.kind == "sync" and WIDGETS.kind == "widgets" and NOTIFIERS.kind == "notifiers"


def test_a_taken_identifier_is_refused() -> None:
    class Impostor(Gateway):
        id = "vnpay"

    with pytest.raises(DuplicatePlugin, match="already registered as 'vnpay'"):
        GATEWAYS.register("vnpay", Impostor)
    with pytest.raises(TypeError):
        GATEWAYS.register("not_a_gateway", Notifier)  # type: ignore[arg-type]
    assert GATEWAYS.get("vnpay").__name__ == "VNPayGateway"


def test_a_demo_only_plugin_is_enabled_in_demo_or_test_mode_only() -> None:
    class InstantPay(Gateway):
        id = "instant"
        demo_only = True

    GATEWAYS.register("instant", InstantPay)
    try:
        assert GATEWAYS.get("instant", {"TESTING": True}) is InstantPay
        assert GATEWAYS.get("instant", {"DEMO": True}) is InstantPay
        assert GATEWAYS.get("instant", {}) is None
        assert "instant" not in GATEWAYS.enabled({}) and "instant" in GATEWAYS.enabled({"TESTING": True})
    finally:
        GATEWAYS.unregister("instant")


class Pager(Notifier):
    """A notifier bringing a webhook (delivery reports), a page, a template and translations."""

    id = "pager"
    title = {"vi": "Nhắn tin thử", "en": "Test pager"}
    csrf_exempt = ("delivery_report",)
    template_folder = None  # set by the fixture

    @classmethod
    def blueprint(cls) -> Blueprint:
        bp = Blueprint("pager", __name__)

        @bp.post("/report")
        def delivery_report():
            return {"ok": True}

        @bp.post("/settings")
        def settings():  # a form a person posts: CSRF applies
            return {"saved": True}

        @bp.get("/hello")
        def hello():
            from motcua.i18n import gettext

            return render_template("pager/hello.html", text=gettext("Xin chào từ máy nhắn tin"))

        return bp


@pytest.fixture
def pager_app(tmp_path):
    folder = tmp_path / "pager"
    (folder / "templates" / "pager").mkdir(parents=True)
    (folder / "templates" / "pager" / "hello.html").write_text("<p id=hello>{{ text }}</p>", encoding="utf-8")
    (folder / "translations" / "en" / "LC_MESSAGES").mkdir(parents=True)
    (folder / "translations" / "en" / "LC_MESSAGES" / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Xin chào từ máy nhắn tin"\nmsgstr "Hello from the pager"\n\n'
        'msgid "Nộp hồ sơ"\nmsgstr "REWORDED BY A PLUGIN"\n', encoding="utf-8")
    Pager.template_folder = folder / "templates"
    Pager.translations_folder = folder / "translations"
    NOTIFIERS.register("pager", Pager)
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "SPECS_DIR": str(SPECS), "TESTING": True})
    yield app
    NOTIFIERS.unregister("pager")
    app.extensions["motcua"].store.close()


def test_a_plugin_brings_routes_templates_translations_and_its_own_csrf_exemptions(pager_app) -> None:
    client = pager_app.test_client()
    assert client.post("/plugins/notifiers/pager/report").get_json() == {"ok": True}  # exempt: a webhook
    assert client.post("/plugins/notifiers/pager/settings").status_code == 400  # not exempt: CSRF refuses
    assert '<p id=hello>Xin chào từ máy nhắn tin</p>' in client.get("/plugins/notifiers/pager/hello").get_data(as_text=True)
    assert "Hello from the pager" in client.get("/plugins/notifiers/pager/hello?lang=en").get_data(as_text=True)
    from motcua.i18n import t

    assert t("Nộp hồ sơ", "en") == "File the dossier"  # the core's words stay the core's, not the plugin's rewording


def test_old_public_urls_still_reach_the_generic_routes(app) -> None:
    rules = {r.rule: r.endpoint for r in app.url_map.iter_rules()}
    assert rules["/plugins/gateways/<gateway_id>/webhook"] == "plugins.gateway_webhook"
    for old in ("/thanh-toan/vnpay/ipn", "/thanh-toan/vnpay/return", "/thanh-toan/<code>/vnpay", "/buu-chinh/callback"):
        assert old in rules
    # the old IPN path answers as VNPay's IPN (a bad checksum here), not 404 nor a CSRF refusal
    assert app.test_client().get("/thanh-toan/vnpay/ipn?vnp_TxnRef=x").get_json()["RspCode"] in ("97", "99")
    assert app.test_client().post("/buu-chinh/callback", data=b"{}").status_code == 401
    assert app.test_client().get("/plugins/gateways/nope/webhook").status_code == 404


class Recorder(Notifier):
    """A notifier that keeps what it is given (a channel of a deployment's own)."""

    id = "recorder"
    sent: list[dict] = []

    def send(self, message):  # noqa: ANN001
        Recorder.sent.append(message)


def test_the_deployment_chooses_the_notifier(tmp_path) -> None:
    from fixtures.workflow_kit import file_dossier, make_spec

    NOTIFIERS.register("recorder", Recorder)
    Recorder.sent.clear()
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "SPECS_DIR": str(SPECS), "TESTING": True, "NOTIFIER": "recorder"})
    try:
        code = file_dossier(app, make_spec(["review", "notify"]), fee=0)
        assert app.extensions["motcua"].engine.flush()
        assert {m["channel"] for m in Recorder.sent} == {"sms", "email"}
        assert all(m["code"] == code for m in Recorder.sent)
    finally:
        NOTIFIERS.unregister("recorder")
        app.extensions["motcua"].store.close()


@pytest.mark.parametrize(("setting", "value", "kind"), [("PAYMENT_GATEWAY", "paypal", "gateways"),
                                                        ("POSTAL_CARRIER", "dhl", "carriers"),
                                                        ("NOTIFIER", "pigeon", "notifiers"),
                                                        ("SYNC", ["national", "nope"], "sync")])
def test_a_setting_naming_a_missing_plugin_stops_the_start_plainly(tmp_path, setting, value, kind) -> None:
    with pytest.raises(RuntimeError, match=rf"{setting} names '\w+', which is not an installed {kind} plugin \(installed: "):
        create_app({"DATA_DIR": str(tmp_path / "data"), "SPECS_DIR": str(SPECS), "TESTING": True, setting: value})


def test_settings_naming_installed_plugins_start(tmp_path) -> None:
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "SPECS_DIR": str(SPECS), "TESTING": True,
                      "PAYMENT_GATEWAY": "momo", "POSTAL_CARRIER": "viettelpost", "SYNC": "national"})
    app.extensions["motcua"].store.close()
