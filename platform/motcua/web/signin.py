"""Blueprint `signin`: citizens and businesses sign in with an identity provider (OpenID
Connect, motcua.identity), sign out, and see "Hồ sơ của tôi" (My dossiers).

`/dang-nhap` sends the browser to the provider, or offers a choice when several are
configured; the provider sends it back to `/dang-nhap/<provider>/ve`. A provider that is
down gets a page saying so, and nothing else of the portal depends on it: anonymous filing
and tracking by code + factor keep working.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from motcua import citizens, identity, my_documents
from motcua.dossier import Status
from motcua.i18n import _, current_lang, format_date
from motcua.public_url import external_url
from motcua.results import results_of
from motcua.services import services
from motcua.web import page_cache
from motcua.web.pages import private

bp = Blueprint("signin", __name__)

SESSION_KEY = page_cache.SIGNED_IN  # a signed-in visitor's pages are never served from the cache
NEXT_KEY = "signin_next"


def current_account() -> citizens.Account | None:
    """The signed-in citizen or business of this request, None when anonymous."""
    if "citizen_account" not in g:
        sid = session.get(SESSION_KEY)
        g.citizen_account = citizens.session_account(services().store, sid) if sid else None
    return g.citizen_account


@bp.app_context_processor
def _account() -> dict[str, Any]:
    return {"citizen": current_account, "identity_providers": lambda: identity.providers(current_app)}


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (never `//host` or a scheme): no open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def sign_in_url(next_path: str | None = None) -> str:
    return url_for("signin.start", next=_safe_next(next_path) or None)


def _unavailable(provider: identity.ProviderConfig | None = None):
    name = provider.label(current_lang()) if provider else _("hệ thống định danh")
    return render_template(
        "portal/signin_error.html",
        title=_("Chưa kết nối được với {name}", name=name),
        message=_("Hệ thống định danh điện tử đang không trả lời. Vui lòng thử đăng nhập lại sau ít phút. "
                  "Bạn vẫn có thể nộp hồ sơ không cần đăng nhập (với thủ tục cho phép) và tra cứu hồ sơ bằng mã hồ sơ."),
    ), 503


@bp.get("/dang-nhap")
def start():
    providers = identity.providers(current_app)
    target = _safe_next(request.args.get("next"))
    if target:
        session[NEXT_KEY] = target
    if not providers:
        return render_template("portal/signin_error.html", title=_("Chưa có đăng nhập"),
                               message=_("Cổng này chưa được cấu hình hệ thống định danh điện tử. Bạn vẫn nộp và tra cứu hồ sơ được như thường.")), 404
    if len(providers) == 1:
        return redirect(url_for("signin.provider", provider_id=next(iter(providers))))
    return render_template("portal/signin_choice.html", providers=list(providers.values()))


@bp.get("/dang-nhap/<provider_id>")
def provider(provider_id: str):
    config = identity.providers(current_app).get(provider_id)
    if config is None:
        abort(404)
    try:
        return identity.start(current_app, config, external_url("signin.callback", provider_id=provider_id))
    except identity.IdentityError as exc:
        current_app.logger.warning("sign-in could not start: %s", exc)
        return _unavailable(config)


@bp.get("/dang-nhap/<provider_id>/ve")
def callback(provider_id: str):
    config = identity.providers(current_app).get(provider_id)
    if config is None:
        abort(404)
    if request.args.get("error") == "access_denied":
        return render_template("portal/signin_error.html", title=_("Chưa đăng nhập"),
                               message=_("Bạn đã không đồng ý đăng nhập tại hệ thống định danh.")), 400
    try:
        who = identity.finish(current_app, config)
    except identity.IdentityError as exc:
        current_app.logger.warning("sign-in refused: %s", exc)
        if exc.down:
            return _unavailable(config)
        return render_template("portal/signin_error.html", title=_("Đăng nhập không thành công"),
                               message=_("Không xác thực được thông tin đăng nhập từ hệ thống định danh. Vui lòng đăng nhập lại.")), 400
    store = services().store
    account = citizens.sign_in(store, who)
    citizens.end_session(store, session.get(SESSION_KEY))
    # a new CSRF secret with the new session: a value known before sign-in (a cookie planted
    # in this browser) must not sign forms of the signed-in citizen
    session.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    session[SESSION_KEY] = citizens.open_session(store, account)
    g.pop("citizen_account", None)
    return redirect(_safe_next(session.pop(NEXT_KEY, None)) or url_for("signin.my_dossiers"))


@bp.post("/dang-xuat")
def sign_out():
    """Ends the session on the server and forgets everything this browser held (the
    dossiers it filed or looked up too: the next person at this computer sees none)."""
    citizens.end_session(services().store, session.get(SESSION_KEY))
    session.clear()
    g.pop("citizen_account", None)
    return redirect(url_for("portal.catalogue"))


def _asks(dossier: Any) -> list[dict[str, str]]:
    """What the dossier waits for from its owner, with where to do it."""
    out = []
    if dossier.status == Status.SUPPLEMENT_REQUESTED:
        out.append({"label": _("Bổ sung hồ sơ"), "url": url_for("portal.dossier", code=dossier.code)})
    if dossier.status == Status.PAYMENT_REQUESTED:
        out.append({"label": _("Nộp phí, lệ phí"), "url": url_for("portal.dossier", code=dossier.code)})
    return out


@bp.get("/ho-so-cua-toi")
def my_dossiers():
    account = current_account()
    if account is None:
        return redirect(sign_in_url(request.path))
    store = services().store
    catalogue = services().catalogue
    rows = []
    for dossier in citizens.dossiers_of(store, account):
        spec = catalogue.get(dossier.procedure_code)
        rows.append({"dossier": dossier, "spec": spec, "asks": _asks(dossier),
                     "url": url_for("portal.dossier", code=dossier.code),
                     "results": [(r["filename"], url_for("portal.result_file", code=dossier.code, file_id=r["file_id"]))
                                 for r in results_of(dossier)]})
    drafts = []
    for token, draft in citizens.drafts_of(store, account):
        spec = catalogue.get(draft.get("procedure", ""))
        if spec is not None:
            drafts.append({"spec": spec, "updated": draft.get("updated", "")[:10],
                           "url": url_for("portal.fill_resume", code=spec.code, token=token)})
    return private(make_response(render_template("portal/my_dossiers.html", account=account, rows=rows, drafts=drafts)))


@bp.get("/giay-to-cua-toi")
def my_documents_page():
    """"Giấy tờ của tôi": the files this account filed, to attach again from the form."""
    account = current_account()
    if account is None:
        return redirect(sign_in_url(request.path))
    catalogue = services().catalogue
    rows = []
    for doc in my_documents.documents_of(services().store, account):
        spec = catalogue.get(doc.procedure_code)
        component = spec.attachment(doc.ref.component) if spec else None
        rows.append({"doc": doc, "spec": spec, "component": component,
                     "day": format_date(doc.filed_at),
                     "url": url_for("portal.dossier", code=doc.dossier_code)})
    return private(make_response(render_template("portal/my_documents.html", rows=rows)))
