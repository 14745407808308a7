"""Vietnamese labels for the codes the portal and the API show (tiers, levels, channels ...).

Source strings are Vietnamese; `_()` gives English from translations/en/portal.yaml.
"""

from __future__ import annotations

from motcua.dossier import STATUS_LABELS, Status
from motcua.i18n import _, current_lang
from motcua.workdays import limit_text  # noqa: F401  (templates reach it as labels.limit_text)

TIERS = {"province": "Cấp tỉnh", "district": "Cấp huyện", "commune": "Cấp xã"}
LEVELS = {
    1: "Mức độ 1 – Thông tin",
    2: "Mức độ 2 – Biểu mẫu",
    3: "Mức độ 3 – Một phần trực tuyến",
    4: "Mức độ 4 – Toàn trình trực tuyến",
}
FILERS = {"citizen": "Công dân", "business": "Tổ chức, doanh nghiệp"}
CHANNELS = {"online": "Trực tuyến", "desk": "Trực tiếp", "postal": "Qua bưu chính công ích"}
DELIVERIES = {
    "desk": "Nhận tại Bộ phận một cửa",
    "postal": "Nhận qua dịch vụ bưu chính công ích",
    "electronic": "Nhận bản điện tử trực tuyến",
}
FEE_KINDS = {"fee": "Phí", "charge": "Lệ phí"}
#: Every event kind recorded on a timeline (filing, FLOW's lifecycle and steps, gateways,
#: carriers, the back office), shown to citizens, staff and the API. Bilingual here rather
#: than through `_()`: the same Vietnamese words are also buttons ("Tiếp nhận hồ sơ" = "Receive")
#: and the flat translation catalogue would give the timeline the button's English.
EVENT_KINDS: dict[str, dict[str, str]] = {
    "filed": {"vi": "Nộp hồ sơ", "en": "Dossier filed"},
    "received": {"vi": "Tiếp nhận hồ sơ", "en": "Dossier received"},
    "refused": {"vi": "Từ chối tiếp nhận", "en": "Dossier refused"},
    "supplement_requested": {"vi": "Yêu cầu bổ sung hồ sơ", "en": "Supplement requested"},
    "supplemented": {"vi": "Bổ sung hồ sơ", "en": "Dossier supplemented"},
    "processing_started": {"vi": "Chuyển xử lý", "en": "Sent for processing"},
    "transferred": {"vi": "Chuyển đơn vị xử lý", "en": "Transferred to another unit"},
    "decided": {"vi": "Có quyết định giải quyết", "en": "Decision made"},
    "stopped": {"vi": "Dừng xử lý", "en": "Processing stopped"},
    "resumed": {"vi": "Tiếp tục xử lý", "en": "Processing resumed"},
    "apology": {"vi": "Xin lỗi và hẹn lại ngày trả kết quả", "en": "Apology and new return date"},
    "clock_resumed": {"vi": "Tính tiếp thời hạn giải quyết", "en": "Processing clock restarted"},
    "returned": {"vi": "Trả kết quả", "en": "Result returned"},
    "withdrawn": {"vi": "Công dân rút hồ sơ", "en": "Withdrawn by the citizen"},
    "payment_requested": {"vi": "Yêu cầu nộp phí, lệ phí", "en": "Payment requested"},
    "payment_not_needed": {"vi": "Không phải nộp phí, lệ phí", "en": "No fees to pay"},
    "payment_due_at_desk": {"vi": "Nộp phí, lệ phí tại Bộ phận một cửa", "en": "Fees payable at the one-stop desk"},
    "paid": {"vi": "Đã thanh toán phí, lệ phí", "en": "Fees paid"},
    "payment_failed": {"vi": "Thanh toán không thành công", "en": "Payment failed"},
    "shipment_booked": {"vi": "Đặt dịch vụ bưu chính công ích", "en": "Public postal service booked"},
    "postal_no_address": {"vi": "Thiếu địa chỉ nhận bưu gửi", "en": "Postal address missing"},
    "postal_status": {"vi": "Cập nhật trạng thái bưu gửi", "en": "Postal item update"},
    "paper_components": {"vi": "Nhận thành phần hồ sơ giấy", "en": "Paper documents received"},
    "step_failed": {"vi": "Lỗi ở bước xử lý tự động, đang thử lại", "en": "Automatic step failed, retrying"},
    "step_gave_up": {"vi": "Bước xử lý tự động vẫn lỗi, cần cán bộ kiểm tra",
                     "en": "Automatic step still failing, staff must check"},
    "step_recovered": {"vi": "Bước xử lý tự động đã chạy lại thành công", "en": "Automatic step recovered"},
    "note": {"vi": "Ghi chú", "en": "Note"},
}
#: `decided` events say which way in data.decision.
DECISIONS = {
    "approved": {"vi": "Phê duyệt kết quả", "en": "Result approved"},
    "rejected": {"vi": "Từ chối giải quyết", "en": "Request rejected"},
}
#: The engine's own troubles: staff see them, citizens need not.
INTERNAL_EVENT_KINDS = frozenset({"step_failed", "step_gave_up", "step_recovered"})


def label(table: dict, key: object) -> str:
    """The label of `key` in the reader's language; the key itself if unknown."""
    text = table.get(key)
    return _(text) if text else str(key)


def event_label(kind: str, data: dict | None = None) -> str:
    """The timeline label of an event kind (a `decided` event by its data.decision)."""
    texts = EVENT_KINDS.get(kind)
    if kind == "decided" and data and data.get("decision") in DECISIONS:
        texts = DECISIONS[data["decision"]]
    if texts is None:  # a third-party step's own kind
        return kind.replace("_", " ").capitalize()
    return texts.get(current_lang()) or texts["vi"]


#: Who did it, for actors that are not staff (`kind:who` in Event.actor).
ACTORS: dict[str, dict[str, str]] = {
    "citizen": {"vi": "Công dân", "en": "Citizen"},
    "system": {"vi": "Hệ thống", "en": "System"},
    "step": {"vi": "Hệ thống – bước {name}", "en": "System – {name} step"},
    "gateway": {"vi": "Cổng thanh toán {name}", "en": "{name} payment gateway"},
    "carrier": {"vi": "Đơn vị bưu chính {name}", "en": "{name} postal carrier"},
}
#: The built-in steps and the outside parties, by the names they use in actors.
ACTOR_NAMES: dict[str, dict[str, str]] = {
    "payment": {"vi": "thanh toán", "en": "payment"},
    "review": {"vi": "thẩm định", "en": "review"},
    "postal": {"vi": "bưu chính", "en": "postal"},
    "notify": {"vi": "thông báo", "en": "notification"},
    "vnpay": {"vi": "VNPay", "en": "VNPay"},
    "vnpost": {"vi": "VNPost", "en": "VNPost"},
}


def actor_label(actor: str, staff_names: dict[str, str] | None = None) -> str:
    """`staff:lan` -> her name, `gateway:vnpay` -> "Cổng thanh toán VNPay" ..."""
    kind, _sep, who = actor.partition(":")
    if kind == "staff":
        return (staff_names or {}).get(who, who)
    texts = ACTORS.get(kind)
    if texts is None:
        return actor
    lang = current_lang()
    name = ACTOR_NAMES.get(who, {}).get(lang) or who
    return (texts.get(lang) or texts["vi"]).format(name=name)


def citizen_events(events: list) -> list:
    """The timeline a citizen sees: without the engine's internal retries."""
    return [e for e in events if e.kind not in INTERNAL_EVENT_KINDS]


def status_label(status: Status | int) -> str:
    texts = STATUS_LABELS.get(Status(status), {})
    return texts.get(current_lang()) or texts.get("vi", str(status))


def life_event_label(slug: str) -> str:
    """Life events are slugs in specs (`khai-sinh`); shown as words."""
    return slug.replace("-", " ").replace("_", " ").capitalize()
