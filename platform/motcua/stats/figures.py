"""Every figure of the statistics, defined once: the rule, its wording and its source.

Chỉ tiêu thống kê — each figure the page, the CSV, `/api/v1/stats` and `motcua stats`
show is a `Figure` below (label, definition and source in Vietnamese and English), and the
rule that counts it is a function below it, read from the dossier's status history as the
store summarises it (`motcua.store.summary`: filing day, the day of the first settling
status, the day of a withdrawal, whether status 3 was reached, the transitions). The report
(`stats.report.compute`) only adds up what these functions say; docs/statistics.md is the
same text for people.

Status codes (DOMAIN.md, "Dossier lifecycle"): 1 filed, 2 received, 3 refused at intake
(không được tiếp nhận), 4 processing, 5 supplement requested, 6 payment requested,
7 withdrawn, 8 processing stopped, 9 finished, 10 result returned.

Why status 3 leaves everything: a dossier refused at intake was never received, so it has no
processing result and no due date to meet; counting it as received and "settled early" (as
this package did before) raised both the received count and the on-time rate. Decision
766/QĐ-TTg's progress index counts received dossiers only. The engine lets the desk refuse a
dossier only from status 1 or 5 (`lifecycle.TRANSITIONS`), with the form-03 wording "Từ chối
tiếp nhận", or from 6 when that pause began at 1 (`refuse_unpaid`: never received, the fee
never paid online); whatever came before, a dossier whose status became 3 is reported as refused at
intake and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from motcua.dossier import Status
from motcua.spec.model import localize
from motcua.store.summary import DossierSummary

Text = dict[str, str]


@dataclass(frozen=True)
class Figure:
    """One figure (chỉ tiêu): its key in the report (a `Tally` field or a JSON key), its label,
    what it counts and where the rule comes from, each in Vietnamese and English."""

    key: str
    label: Text
    definition: Text
    source: Text

    def to_dict(self, lang: str = "vi") -> dict[str, str]:
        return {
            "label": localize(self.label, lang),
            "definition": localize(self.definition, lang),
            "source": localize(self.source, lang),
        }


_766 = {
    "vi": "Quyết định 766/QĐ-TTg (Bộ chỉ số phục vụ người dân, doanh nghiệp)",
    "en": "Decision 766/QĐ-TTg (the service-quality index)",
}
_STATUS_CODES = {
    "vi": "Mã trạng thái hồ sơ đồng bộ với Cổng Dịch vụ công quốc gia",
    "en": "The dossier status codes synchronised with the National Public Service Portal",
}
_REPORT_FORM = {
    "vi": "Mẫu báo cáo kết quả giải quyết thủ tục hành chính của bộ phận một cửa: kỳ trước chuyển qua + tiếp nhận mới "
          "= đã giải quyết + đã rút + dừng xử lý + đang giải quyết",
    "en": "The one-stop desk's report form: carried over + received = settled + withdrawn + stopped + open",
}


def _src(*parts: Text) -> Text:
    return {lang: "; ".join(p[lang] for p in parts) for lang in ("vi", "en")}


FIGURES: dict[str, Figure] = {}


def _figure(key: str, label: Text, definition: Text, source: Text) -> Figure:
    figure = FIGURES[key] = Figure(key, label, definition, source)
    return figure


# --- what is offered --------------------------------------------------------------------------

_figure(
    "procedures",
    {"vi": "Thủ tục theo mức độ", "en": "Procedures by level"},
    {
        "vi": "Số thủ tục của cơ quan trong danh mục đang công bố, theo mức độ dịch vụ công (1 thông tin, 2 biểu "
              "mẫu, 3 một phần, 4 toàn trình); tỷ lệ làm tròn sao cho cộng lại đúng 100%.",
        "en": "The agency's procedures in the published catalogue, by service level (1 information, 2 forms, "
              "3 partial, 4 full process); shares rounded so that they add up to exactly 100%.",
    },
    {"vi": "Nghị định 43/2011/NĐ-CP (mức độ 1–4); Nghị định 42/2022/NĐ-CP, điều 11 (một phần, toàn trình)",
     "en": "Decree 43/2011/NĐ-CP (levels 1–4); Decree 42/2022/NĐ-CP, art. 11 (partial, full process)"},
)

# --- what came in -----------------------------------------------------------------------------

_figure(
    "carried_over",
    {"vi": "Kỳ trước chuyển qua", "en": "Carried over"},
    {
        "vi": "Hồ sơ nộp trước kỳ, không bị từ chối tiếp nhận, đến đầu kỳ chưa giải quyết xong và chưa rút "
              "(kể cả hồ sơ đang dừng xử lý).",
        "en": "Dossiers filed before the period, not refused at intake, neither settled nor withdrawn when the "
              "period began (stopped ones included).",
    },
    _REPORT_FORM,
)
_figure(
    "received",
    {"vi": "Tiếp nhận mới", "en": "Received"},
    {
        "vi": "Hồ sơ nộp trong kỳ (theo ngày nộp, giờ Việt Nam) và không bị từ chối tiếp nhận: hồ sơ chuyển trạng "
              "thái 3 (không được tiếp nhận) không được tính. Hồ sơ đang chờ tiếp nhận được tính từ ngày nộp.",
        "en": "Dossiers filed in the period (by filing day, Vietnam time) and not refused at intake: a dossier "
              "that reached status 3 (refused at intake) is not counted. A dossier awaiting the intake check "
              "counts from its filing day.",
    },
    _src(
        {
            "vi": "Nghị định 61/2018/NĐ-CP (nay Nghị định 118/2025/NĐ-CP) và Thông tư 01/2018/TT-VPCP: hồ sơ không "
                  "đủ điều kiện thì không tiếp nhận (mẫu 03)",
            "en": "Decree 61/2018/NĐ-CP (now Decree 118/2025/NĐ-CP) and Circular 01/2018/TT-VPCP: a dossier that "
                  "does not qualify is not received (form 03)",
        },
        {"vi": "Quyết định 766/QĐ-TTg chỉ tính hồ sơ đã tiếp nhận", "en": "Decision 766/QĐ-TTg counts received dossiers only"},
    ),
)
_CHANNEL_SOURCE = {
    "vi": "Mã kênh của Cổng Dịch vụ công quốc gia: 1 trực tiếp, 2 trực tuyến, 3 bưu chính công ích",
    "en": "The National Public Service Portal's channel codes: 1 in person, 2 online, 3 public post",
}
_figure(
    "online",
    {"vi": "Trực tuyến", "en": "Online"},
    {"vi": "Hồ sơ tiếp nhận mới nộp trực tuyến (kênh 2).", "en": "Received dossiers filed online (channel 2)."},
    _CHANNEL_SOURCE,
)
_figure(
    "desk",
    {"vi": "Trực tiếp", "en": "In person"},
    {"vi": "Hồ sơ tiếp nhận mới nộp trực tiếp tại bộ phận một cửa (kênh 1).",
     "en": "Received dossiers handed in at the one-stop desk (channel 1)."},
    _CHANNEL_SOURCE,
)
_figure(
    "postal",
    {"vi": "Bưu chính", "en": "Post"},
    {"vi": "Hồ sơ tiếp nhận mới gửi qua bưu chính công ích (kênh 3).",
     "en": "Received dossiers sent by public post (channel 3)."},
    _CHANNEL_SOURCE,
)
_figure(
    "online_share",
    {"vi": "Tỷ lệ hồ sơ trực tuyến", "en": "Online share"},
    {
        "vi": "Trực tuyến / tiếp nhận mới × 100. Hồ sơ không được tiếp nhận không có ở tử số lẫn mẫu số.",
        "en": "Online / received × 100. Dossiers refused at intake are in neither.",
    },
    _src(
        {"vi": "Quyết định 766/QĐ-TTg, nhóm chỉ số dịch vụ công trực tuyến",
         "en": "Decision 766/QĐ-TTg, the online services group"},
        {"vi": "chỉ tiêu so sánh do cơ quan đặt (STATS_ONLINE_TARGET)",
         "en": "the target it is compared with is set by the agency (STATS_ONLINE_TARGET)"},
    ),
)
_figure(
    "commune_online_share",
    {"vi": "Tỷ lệ trực tuyến theo quý của từng xã", "en": "Each commune's online share per quarter"},
    {
        "vi": "Với mỗi Ủy ban nhân dân cấp xã: trực tuyến / tiếp nhận mới × 100 trong từng quý của kỳ, so với chỉ "
              "tiêu tối thiểu mỗi quý; xã có quý thấp nhất đứng đầu danh sách, xã chưa tiếp nhận hồ sơ nào đứng cuối.",
        "en": "For each commune People's Committee: online / received × 100 in each quarter of the period, against "
              "the minimum target per quarter; the commune with the lowest quarter comes first, communes that "
              "received no dossier come last.",
    },
    _src(
        {"vi": "Mẫu báo cáo tỷ lệ hồ sơ trực tuyến của cấp xã: tối thiểu 20% mỗi quý",
         "en": "The communes' online-share reporting form: at least 20% per quarter"},
        {"vi": "chỉ tiêu so sánh do cơ quan đặt (STATS_ONLINE_TARGET)",
         "en": "the target it is compared with is set by the agency (STATS_ONLINE_TARGET)"},
    ),
)

# --- what came out ----------------------------------------------------------------------------

_SETTLE_SOURCE = _src(
    {"vi": "Quyết định 766/QĐ-TTg, nhóm chỉ số tiến độ giải quyết", "en": "Decision 766/QĐ-TTg, the progress group"},
    _STATUS_CODES,
)
_figure(
    "settled",
    {"vi": "Đã giải quyết", "en": "Settled"},
    {
        "vi": "Hồ sơ đã tiếp nhận có kết quả trong kỳ: ngày lần đầu đạt trạng thái 9 (đã xử lý xong), hoặc 10 (đã "
              "trả kết quả) nếu chưa ghi 9, nằm trong kỳ. Không gồm hồ sơ không được tiếp nhận (3), đã rút (7) "
              "và dừng xử lý (8).",
        "en": "Received dossiers with a result in the period: the day they first reached status 9 (finished), or "
              "10 (result returned) when no 9 was recorded, falls in the period. Dossiers refused at intake (3), "
              "withdrawn (7) and stopped (8) are not settled.",
    },
    _SETTLE_SOURCE,
)
_DUE = {
    "vi": "ngày hẹn trả đã được lùi theo thời gian tạm dừng (yêu cầu bổ sung, chờ nộp phí, dừng xử lý)",
    "en": "the due date moved on by the time the clock was paused (supplement, payment, stopped)",
}
_figure(
    "early",
    {"vi": "Trước hạn", "en": "Early"},
    {"vi": f"Đã giải quyết trước ngày hẹn trả; {_DUE['vi']}.", "en": f"Settled before the due date; {_DUE['en']}."},
    _SETTLE_SOURCE,
)
_figure(
    "on_time",
    {"vi": "Đúng hạn", "en": "On time"},
    {
        "vi": "Đã giải quyết đúng ngày hẹn trả; hồ sơ không có thời hạn giải quyết cũng tính đúng hạn.",
        "en": "Settled on the due date; a dossier without a time limit counts as on time.",
    },
    _SETTLE_SOURCE,
)
_figure(
    "late",
    {"vi": "Quá hạn", "en": "Late"},
    {"vi": f"Đã giải quyết sau ngày hẹn trả; {_DUE['vi']}.", "en": f"Settled after the due date; {_DUE['en']}."},
    _SETTLE_SOURCE,
)
_figure(
    "on_time_rate",
    {"vi": "Tỷ lệ giải quyết đúng hạn", "en": "On-time rate"},
    {
        "vi": "(Trước hạn + đúng hạn) / đã giải quyết × 100. Hồ sơ không được tiếp nhận, đã rút, dừng xử lý không "
              "có ở tử số lẫn mẫu số.",
        "en": "(Early + on time) / settled × 100. Dossiers refused at intake, withdrawn or stopped are in neither.",
    },
    {"vi": "Quyết định 766/QĐ-TTg, chỉ số tiến độ giải quyết: (đúng hạn + trước hạn) / đã giải quyết",
     "en": "Decision 766/QĐ-TTg, progress index: (on time + early) / settled"},
)
_figure(
    "withdrawn",
    {"vi": "Đã rút", "en": "Withdrawn"},
    {
        "vi": "Hồ sơ người nộp rút (trạng thái 7) trong kỳ, trước khi có kết quả; không tính vào đã giải quyết.",
        "en": "Dossiers the applicant withdrew (status 7) in the period, before a result; not settled.",
    },
    _src(_STATUS_CODES, _REPORT_FORM),
)
_figure(
    "open",
    {"vi": "Đang giải quyết", "en": "Open"},
    {
        "vi": "Hồ sơ đã tiếp nhận (kể cả kỳ trước chuyển qua), đến ngày chốt số liệu (cuối kỳ, hoặc hôm nay nếu kỳ "
              "chưa hết) chưa giải quyết xong, chưa rút và không đang dừng xử lý; gồm hồ sơ chờ bổ sung, chờ nộp phí.",
        "en": "Received dossiers (carried over ones included) that, on the count day (the period's last day, or "
              "today while it runs), are neither settled, withdrawn nor stopped; awaiting a supplement or payment "
              "included.",
    },
    _REPORT_FORM,
)
_figure(
    "open_overdue",
    {"vi": "Đang giải quyết quá hạn", "en": "Open and overdue"},
    {
        "vi": "Hồ sơ đang giải quyết mà đến ngày chốt số liệu đã qua ngày hẹn trả; một lần tạm dừng bắt đầu trước "
              "hạn lùi ngày hẹn theo số ngày tạm dừng, bắt đầu sau hạn thì không.",
        "en": "Open dossiers past their due date on the count day; a pause that began before the due date moves "
              "it on by the days paused, one that began after it does not.",
    },
    {"vi": "Cùng quy tắc với danh sách hồ sơ quá hạn của cán bộ và bộ máy quy trình (lifecycle.overdue)",
     "en": "The same rule as the staff overdue list and the workflow engine (lifecycle.overdue)"},
)
_figure(
    "stopped",
    {"vi": "Dừng xử lý", "en": "Stopped"},
    {
        "vi": "Hồ sơ đã tiếp nhận, đến ngày chốt số liệu đang ở trạng thái 8 (dừng xử lý): chưa có kết quả, không "
              "tính vào đã giải quyết hay đang giải quyết; khi được xử lý tiếp, hồ sơ trở lại đang giải quyết.",
        "en": "Received dossiers in status 8 (processing stopped) on the count day: no result, neither settled "
              "nor open; when processing resumes they are open again.",
    },
    _src(_STATUS_CODES, _REPORT_FORM),
)
_figure(
    "refused_at_intake",
    {"vi": "Không đủ điều kiện tiếp nhận", "en": "Refused at intake"},
    {
        "vi": "Hồ sơ chuyển trạng thái 3 (không được tiếp nhận) trong kỳ, theo ngày từ chối. Báo cáo riêng: không "
              "tính vào tiếp nhận, đã giải quyết, tỷ lệ đúng hạn hay đang giải quyết.",
        "en": "Dossiers set to status 3 (refused at intake) in the period, by the day of the refusal. Reported "
              "apart: not received, not settled, not in the on-time rate, not open.",
    },
    _src(
        {"vi": "Thông tư 01/2018/TT-VPCP, mẫu 03 (phiếu từ chối tiếp nhận)",
         "en": "Circular 01/2018/TT-VPCP, form 03 (refusal slip)"},
        {"vi": "Quyết định 766/QĐ-TTg chỉ tính hồ sơ đã tiếp nhận", "en": "Decision 766/QĐ-TTg counts received dossiers only"},
    ),
)

# --- satisfaction -----------------------------------------------------------------------------

_SATISFACTION_SOURCE = {
    "vi": "Quyết định 766/QĐ-TTg, nhóm chỉ số mức độ hài lòng; thang điểm 1–5 là quy ước của Motcua",
    "en": "Decision 766/QĐ-TTg, the satisfaction group; the 1–5 scale is Motcua's convention",
}
_figure(
    "ratings",
    {"vi": "Số lượt đánh giá", "en": "Ratings"},
    {
        "vi": "Lượt đánh giá người nộp gửi trong kỳ (theo ngày gửi) cho hồ sơ đã trả kết quả; mỗi hồ sơ một lượt.",
        "en": "Ratings applicants gave in the period (by the day given) to dossiers whose result was returned; "
              "one per dossier.",
    },
    _SATISFACTION_SOURCE,
)
_figure(
    "satisfaction_average",
    {"vi": "Điểm hài lòng trung bình (1–5)", "en": "Average satisfaction (1–5)"},
    {"vi": "Tổng điểm / số lượt đánh giá trong kỳ.", "en": "Sum of the scores / ratings in the period."},
    _SATISFACTION_SOURCE,
)
_figure(
    "satisfied_share",
    {"vi": "Tỷ lệ hài lòng (4–5 điểm)", "en": "Satisfied (4–5)"},
    {"vi": "Số lượt 4 hoặc 5 điểm / số lượt đánh giá × 100.", "en": "Ratings of 4 or 5 / ratings × 100."},
    _SATISFACTION_SOURCE,
)


# --- the rules --------------------------------------------------------------------------------


#: What a dossier's status history says for the statistics, each a Vietnam day or None:
#: (received: its filing day unless refused at intake; settled: the day it first reached 9, or
#: 10 with no 9 before, unless withdrawn first; withdrawn: the day it reached 7 before any
#: result; refused: the day it reached 3). A plain tuple: it is built 100,000 times a page.
Course = tuple[date | None, date | None, date | None, date | None]


def course(d: DossierSummary) -> Course:
    """The figures' reading of one dossier's history: (received, settled, withdrawn, refused).

    The summary's `settled` is the first of 3, 9, 10 (before any 7) and `refused` says the
    first was 3; 3 is final and reachable only from 1 and 5, so `refused` means "reached 3".
    """
    if d.refused:
        return None, None, None, d.settled
    return d.filed_day, d.settled, d.withdrawn, None


Timing = Literal["early", "on_time", "late"]


def timing(settled: date, due: date | None) -> Timing:
    """Early, on time or late: the settle day against the due date (already moved on by
    every pause, see `lifecycle.apply`); no due date counts as on time."""
    if due is None or settled == due:
        return "on_time"
    return "early" if settled < due else "late"


def stopped_at(d: DossierSummary, moment: datetime, *, current: bool) -> bool:
    """Whether the dossier stood in status 8 (processing stopped) just before `moment`.

    `current`: `moment` is the end of today, so the stored status says it; a past moment
    is read from the transitions, and only for a dossier that was ever stopped (":8" can
    only be status 8: codes run 1-10), which keeps the pass over 100,000 summaries cheap.
    """
    if current:
        return d.status == Status.STOPPED
    return ":8" in d.transitions and d.status_at(moment) == Status.STOPPED


def definitions(lang: str = "vi") -> dict[str, dict[str, str]]:
    """Every figure's label, definition and source in `lang` (the JSON's `definitions`)."""
    return {key: figure.to_dict(lang) for key, figure in FIGURES.items()}
