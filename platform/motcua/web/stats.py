"""Blueprint: transparency statistics (thống kê) and citizens' ratings and feedback.

Public: `/thong-ke` (dashboard), `/thong-ke/<table>.csv`, `/api/v1/stats` (JSON), the rating
form `/danh-gia` and the feedback form `/phan-anh` (answers read through a private link).
Staff (OFFICE's login): `/staff/thong-ke` with the overdue list, `/staff/phan-anh`.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request, url_for
from markupsafe import Markup

from motcua import feedback as fb
from motcua.accounts import StaffUser, current_staff, staff_required
from motcua.dossier import STATUS_LABELS
from motcua.i18n import _, current_lang, local
from motcua.offices import TIER_LABELS, TIERS
from motcua.services import services
from motcua.stats import period as periods
from motcua.stats.charts import Bar, bar_chart
from motcua.stats.figures import FIGURES
from motcua.stats.numbers import fmt_decimal, fmt_int, fmt_percent, percent
from motcua.stats.report import CHANNEL_LABELS, Report, worst_first
from motcua.stats.source import agency_choices, build_report
from motcua.stats.tables import STAFF_ONLY, TABLES, table, to_csv

bp = Blueprint("stats", __name__)

OVERDUE_SHOWN = 200
#: rows of a per-office table shown before the rest is folded (<details>): the worst ones
ROWS_SHOWN = 10
AGENCY_CODE = re.compile(r"^[0-9A-Z]{2,3}(\.[0-9A-Z]{2,3}){2,4}$")
PER_PROCEDURE_CHART = 10


def _target() -> Decimal:
    return Decimal(str(current_app.config.get("STATS_ONLINE_TARGET", 0.20)))


class _Refused(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def _scope(staff: StaffUser | None) -> tuple[list[str] | None, str]:
    """The agencies the figures cover: the `agency` parameter, within what staff serve."""
    wanted = (request.args.get("agency") or "").strip()
    if wanted and not AGENCY_CODE.match(wanted):
        raise _Refused(_("Mã cơ quan không hợp lệ."))
    if staff is not None and not staff.has("admin"):
        if wanted:
            if not staff.serves(wanted):
                raise _Refused(_("Bạn không phụ trách cơ quan này."), 403)
            return [wanted], wanted
        return list(staff.agencies), ""
    if wanted:
        return [wanted], wanted
    return None, ""


def _tier() -> str | None:
    """The `tier` parameter (province, district, commune, other), or None for every tier."""
    wanted = (request.args.get("tier") or "").strip()
    if not wanted:
        return None
    if wanted not in TIERS:
        raise _Refused(_("Cấp cơ quan không hợp lệ: chọn một trong {tiers}.", tiers=", ".join(TIERS)))
    return wanted


def _report(staff: StaffUser | None) -> Report:
    period = periods.parse(request.args)
    agencies, _agency = _scope(staff)
    return build_report(services().store, services().catalogue, period=period, agencies=agencies, tier=_tier(),
                        online_target=_target(), calendar=services().engine.calendar)


def charts(report: Report, lang: str) -> dict[str, Markup]:
    """The dashboard's charts; the page shows the same numbers in tables beside them."""
    t = report.totals
    level_bars = [Bar(local(r.label), float(r.share), f"{fmt_int(r.count, lang)} ({fmt_percent(r.share, lang)})") for r in report.levels]
    shares = report.channel_shares
    channel_bars = [
        Bar(local(CHANNEL_LABELS[c]), n, f"{fmt_int(n, lang)} ({fmt_percent(shares[c], lang)})")
        for c, n in report.channels.items()
    ]
    online = t.online_share
    online_bar = [Bar(_("Tỷ lệ trực tuyến"), float(online or 0), fmt_percent(online, lang), "#0b57d0")]
    outcome_bars = [
        Bar(local(FIGURES[key].label), getattr(t, key), fmt_int(getattr(t, key), lang), color)
        for key, color in (("early", "#1e7b34"), ("on_time", "#0b57d0"), ("late", "#a3201d"), ("withdrawn", "#8a5300"),
                           ("stopped", "#5f3dc4"), ("open", "#5f6368"))
    ]
    s = report.satisfaction
    satisfaction_bars = [
        Bar(local(fb.SCORE_LABELS[score]), n, f"{fmt_int(n, lang)} ({fmt_percent(percent(n, s.count), lang)})")
        for score, n in sorted(s.distribution.items(), reverse=True)
    ]
    procedure_bars = [
        Bar(local(r.name), r.tally.received, fmt_int(r.tally.received, lang)) for r in report.by_procedure[:PER_PROCEDURE_CHART]
    ]
    target_label = _("Chỉ tiêu {p}", p=fmt_percent(report.online_target, lang))
    return {
        "levels": bar_chart("chart-levels", _("Thủ tục theo mức độ (%)"), level_bars, max_value=100),
        "channels": bar_chart("chart-channels", _("Hồ sơ tiếp nhận theo kênh"), channel_bars),
        "online": bar_chart(
            "chart-online", _("Tỷ lệ hồ sơ trực tuyến so với chỉ tiêu"), online_bar, max_value=100,
            marker=(float(report.online_target), target_label),
        ),
        "outcomes": bar_chart("chart-outcomes", _("Kết quả giải quyết"), outcome_bars),
        "satisfaction": bar_chart("chart-satisfaction", _("Mức độ hài lòng"), satisfaction_bars),
        "procedures": bar_chart("chart-procedures", _("Thủ tục có nhiều hồ sơ nhất"), procedure_bars),
    }


def _dashboard(staff: StaffUser | None) -> Any:
    lang = current_lang()
    choices = agency_choices(services().catalogue, lang)
    if staff is not None and not staff.has("admin"):
        choices = [(code, name) for code, name in choices if staff.serves(code)]
    context: dict[str, Any] = {
        "staff": staff,
        "agencies": choices,
        "args": request.args,
        "fmt_int": lambda v: fmt_int(v, lang),
        "fmt_percent": lambda v: fmt_percent(v, lang),
        "fmt_decimal": lambda v: fmt_decimal(v, lang),
        "tables": {k: v for k, v in TABLES.items() if staff is not None or k not in STAFF_ONLY},
        "overdue_shown": OVERDUE_SHOWN,
        "rows_shown": ROWS_SHOWN,
        "worst_first": worst_first,
        "channel_labels": CHANNEL_LABELS,
        "tier_labels": TIER_LABELS,
        "figures": FIGURES,
        "score_labels": fb.SCORE_LABELS,
        "status_labels": STATUS_LABELS,
        "years": list(range(periods.vn_today().year, periods.vn_today().year - 6, -1)),
    }
    try:
        report = _report(staff)
    except periods.PeriodError as exc:
        return render_template("stats/dashboard.html", report=None, error=str(exc), **context), 400
    except _Refused as exc:
        return render_template("stats/dashboard.html", report=None, error=exc.message, **context), exc.status
    query = dict(report.period.params())
    for name in ("agency", "tier"):
        if request.args.get(name):
            query[name] = request.args[name]
    context.update(report=report, charts=charts(report, lang), query=query, error=None)
    return render_template("stats/dashboard.html", **context)


@bp.get("/thong-ke")
def public_dashboard() -> Any:
    return _dashboard(None)


@bp.get("/staff/thong-ke")
@staff_required()
def staff_dashboard() -> Any:
    return _dashboard(current_staff())


def _csv(name: str, staff: StaffUser | None) -> Response:
    if name not in TABLES or (name in STAFF_ONLY and staff is None):
        abort(404)
    try:
        report = _report(staff)
    except periods.PeriodError as exc:
        return Response(str(exc), status=400, mimetype="text/plain")
    except _Refused as exc:
        return Response(exc.message, status=exc.status, mimetype="text/plain")
    header, rows = table(report, name, current_lang())
    filename = f"thong-ke-{name}-{report.period.start.isoformat()}-{report.period.end.isoformat()}.csv"
    return Response(
        to_csv(header, rows).encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/thong-ke/<name>.csv")
def public_csv(name: str) -> Response:
    return _csv(name, None)


@bp.get("/staff/thong-ke/<name>.csv")
@staff_required()
def staff_csv(name: str) -> Response:
    return _csv(name, current_staff())


@bp.get("/api/v1/stats")
def api_stats() -> Any:
    """The public figures as JSON; same parameters as the page (year, quarter, month,
    from, to, agency, tier). GET only, so CSRF does not apply."""
    try:
        report = _report(None)
    except periods.PeriodError as exc:
        return jsonify({"error": str(exc)}), 400
    except _Refused as exc:
        return jsonify({"error": exc.message}), exc.status
    return jsonify(report.to_dict(lang=current_lang()))


# --- ratings ---------------------------------------------------------------------------------


@bp.route("/danh-gia", methods=["GET", "POST"])
def rate() -> Any:
    """Rate a returned dossier: code + phone/CCCD (the tracking factor) + score 1-5."""
    values = {"code": request.values.get("code", ""), "score": request.form.get("score", ""), "comment": request.form.get("comment", "")}
    if request.method == "POST":
        try:
            from motcua.tracking_throttle import Limits

            rating = fb.rate(services().store, values["code"], request.form.get("factor", ""), values["score"], values["comment"],
                             client=request.remote_addr or "", limits=Limits.from_config(current_app.config))
        except fb.Invalid as exc:
            return render_template("stats/rate.html", values=values, errors=exc.errors, scores=fb.SCORE_LABELS), 400
        return render_template("stats/rated.html", rating=rating, scores=fb.SCORE_LABELS)
    return render_template("stats/rate.html", values=values, errors={}, scores=fb.SCORE_LABELS)


# --- feedback (phản ánh, kiến nghị) ----------------------------------------------------------

FEEDBACK_FIELDS = ("kind", "name", "phone", "email", "content", "dossier_code")


@bp.route("/phan-anh", methods=["GET", "POST"])
def feedback_form() -> Any:
    values = {k: request.form.get(k, "") for k in FEEDBACK_FIELDS}
    values["dossier_code"] = values["dossier_code"] or request.args.get("code", "")
    if request.method == "POST":
        try:
            item, token = fb.submit(services().store, values)
        except fb.Invalid as exc:
            return render_template("stats/feedback_form.html", values=values, errors=exc.errors, kinds=fb.KIND_LABELS), 400
        return redirect(url_for("stats.feedback_view", feedback_id=item.id, token=token, sent=1))
    return render_template("stats/feedback_form.html", values=values, errors={}, kinds=fb.KIND_LABELS)


@bp.get("/phan-anh/<feedback_id>/<token>")
def feedback_view(feedback_id: str, token: str) -> Any:
    item = fb.for_citizen(services().store, feedback_id, token)
    if item is None:
        abort(404)
    response = Response(
        render_template("stats/feedback_view.html", item=item, kinds=fb.KIND_LABELS, sent=bool(request.args.get("sent")))
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/staff/phan-anh")
@staff_required()
def staff_feedback_list() -> Any:
    show = request.args.get("show", "open")
    answered = {"open": False, "answered": True}.get(show)
    items = fb.for_staff(services().store, current_staff(), answered=answered)
    return render_template(
        "stats/staff_feedback_list.html", items=items, show=show, kinds=fb.KIND_LABELS, staff=current_staff()
    )


@bp.route("/staff/phan-anh/<feedback_id>", methods=["GET", "POST"])
@staff_required()
def staff_feedback(feedback_id: str) -> Any:
    staff = current_staff()
    item = fb.get(services().store, feedback_id)
    if item is None or not fb.visible_to(item, staff):
        abort(404)
    errors: dict[str, str] = {}
    text = request.form.get("answer", "")
    if request.method == "POST":
        try:
            fb.answer(services().store, feedback_id, staff, text)
        except fb.Invalid as exc:
            errors = exc.errors
        else:
            return redirect(url_for("stats.staff_feedback", feedback_id=feedback_id, answered=1))
    return (
        render_template("stats/staff_feedback.html", item=item, kinds=fb.KIND_LABELS, errors=errors, text=text,
                        answered=bool(request.args.get("answered")), staff=staff),
        400 if errors else 200,
    )
