"""Vietnamese labels for the codes the portal and the API show (tiers, levels, channels ...).

Source strings are Vietnamese; `_()` gives English from translations/en/portal.yaml.
"""

from __future__ import annotations

from motcua.dossier import STATUS_LABELS, Status
from motcua.i18n import _, current_lang

TIERS = {"province": "Cấp tỉnh", "district": "Cấp huyện", "commune": "Cấp xã"}
LEVELS = {
    1: "Mức độ 1 – Thông tin",
    2: "Mức độ 2 – Biểu mẫu",
    3: "Một phần (mức độ 3)",
    4: "Toàn trình (mức độ 4)",
}
FILERS = {"citizen": "Công dân", "business": "Tổ chức, doanh nghiệp"}
CHANNELS = {"online": "Trực tuyến", "desk": "Trực tiếp", "postal": "Qua bưu chính công ích"}
DELIVERIES = {
    "desk": "Nhận tại Bộ phận một cửa",
    "postal": "Nhận qua dịch vụ bưu chính công ích",
    "electronic": "Nhận bản điện tử trực tuyến",
}
FEE_KINDS = {"fee": "Phí", "charge": "Lệ phí"}
EVENT_KINDS = {
    "filed": "Nộp hồ sơ",
    "received": "Tiếp nhận hồ sơ",
    "refused": "Từ chối tiếp nhận",
    "processing": "Chuyển xử lý",
    "supplement_requested": "Yêu cầu bổ sung hồ sơ",
    "supplemented": "Bổ sung hồ sơ",
    "payment_requested": "Yêu cầu nộp phí, lệ phí",
    "paid": "Đã thanh toán phí, lệ phí",
    "stopped": "Dừng xử lý",
    "resumed": "Tiếp tục xử lý",
    "extended": "Gia hạn (thư xin lỗi)",
    "finished": "Có kết quả",
    "returned": "Trả kết quả",
    "withdrawn": "Công dân rút hồ sơ",
    "posted": "Gửi kết quả qua bưu chính",
    "delivered": "Bưu chính đã phát kết quả",
    "notified": "Gửi thông báo",
    "note": "Ghi chú",
}


def label(table: dict, key: object) -> str:
    """The label of `key` in the reader's language; the key itself if unknown."""
    text = table.get(key)
    return _(text) if text else str(key)


def event_label(kind: str) -> str:
    text = EVENT_KINDS.get(kind)
    return _(text) if text else kind.replace("_", " ").capitalize()


def status_label(status: Status | int) -> str:
    texts = STATUS_LABELS.get(Status(status), {})
    return texts.get(current_lang()) or texts.get("vi", str(status))


def life_event_label(slug: str) -> str:
    """Life events are slugs in specs (`khai-sinh`); shown as words."""
    return slug.replace("-", " ").replace("_", " ").capitalize()
