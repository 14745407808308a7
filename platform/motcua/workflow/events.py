"""Every event kind a timeline may hold, with its label and audience.

Steps declare the kinds they record (`Step.events`, collected by the registry); the kinds
that belong to no step — filing, the lifecycle table's moves, the engine's own retries, the
back office's entries — are declared here, the same way. The flat translation catalogue is
not used for labels: the same Vietnamese words are also buttons ("Tiếp nhận hồ sơ" =
"Receive"), and the timeline must not get the button's English.
"""

from __future__ import annotations

from motcua.workflow.registry import step_events
from motcua.workflow.step import EventKind


def _kind(vi: str, en: str, internal: bool = False) -> EventKind:
    return EventKind(label={"vi": vi, "en": en}, internal=internal)


#: The engine's and the platform's own kinds (lifecycle.EVENT_KINDS, filing, back office).
CORE_EVENTS: dict[str, EventKind] = {
    "filed": _kind("Nộp hồ sơ", "Dossier filed"),
    "received": _kind("Tiếp nhận hồ sơ", "Dossier received"),
    "refused": _kind("Từ chối tiếp nhận", "Dossier refused"),
    "supplement_requested": _kind("Yêu cầu bổ sung hồ sơ", "Supplement requested"),
    "supplemented": _kind("Bổ sung hồ sơ", "Dossier supplemented"),
    "processing_started": _kind("Chuyển xử lý", "Sent for processing"),
    "transferred": _kind("Chuyển đơn vị xử lý", "Transferred to another unit"),
    "office_transferred": _kind("Chuyển hồ sơ sang cơ quan thực hiện khác", "Sent to another implementing office"),
    # motcua.processing: internal opinions and drafts; the citizen sees the decision only
    "proposed": _kind("Trình ý kiến xử lý", "Opinion submitted", internal=True),
    "returned_for_rework": _kind("Lãnh đạo trả lại để xử lý lại", "Returned for rework by the leader", internal=True),
    "decided": _kind("Có quyết định giải quyết", "Decision made"),
    "stopped": _kind("Dừng xử lý", "Processing stopped"),
    "resumed": _kind("Tiếp tục xử lý", "Processing resumed"),
    "apology": _kind("Xin lỗi và hẹn lại ngày trả kết quả", "Apology and new return date"),
    # the `due_dates` job (motcua.workflow.tasks): staff-only reminders, once per dossier
    "apology_due": _kind("Sắp đến hạn trả kết quả: nếu không kịp, gửi thư xin lỗi và hẹn lại ngày trả",
                         "Due date near: if it cannot be met, send an apology with a new date", internal=True),
    "overdue": _kind("Hồ sơ đã quá hạn giải quyết", "Dossier overdue", internal=True),
    "clock_resumed": _kind("Tính tiếp thời hạn giải quyết", "Processing clock restarted"),
    "returned": _kind("Trả kết quả", "Result returned"),
    "withdrawn": _kind("Công dân rút hồ sơ", "Withdrawn by the citizen"),
    "payment_requested": _kind("Yêu cầu nộp phí, lệ phí", "Payment requested"),
    "paid": _kind("Đã thanh toán phí, lệ phí", "Fees paid"),
    # motcua.payments: money taken beyond what was owed (a superseded order paid as well)
    "payment_surplus": _kind("Nhận thanh toán vượt số phải nộp, chờ hoàn tiền", "Overpayment received, to be refunded"),
    # a failure of an order that was no longer the dossier's: staff only, the citizen was not waiting for it
    "payment_failed_stale": _kind("Giao dịch thanh toán cũ không thành công", "An old payment attempt failed", internal=True),
    "paper_components": _kind("Nhận thành phần hồ sơ giấy", "Paper documents received"),
    "note": _kind("Ghi chú", "Note"),
    "result_attached": _kind("Đính kèm kết quả điện tử", "Electronic result attached"),
    # the engine's own troubles: staff see them, citizens need not
    "step_failed": _kind("Lỗi ở bước xử lý tự động, đang thử lại", "Automatic step failed, retrying", internal=True),
    "step_gave_up": _kind("Bước xử lý tự động vẫn lỗi, cần cán bộ kiểm tra",
                          "Automatic step still failing, staff must check", internal=True),
    "step_recovered": _kind("Bước xử lý tự động đã chạy lại thành công", "Automatic step recovered", internal=True),
    # motcua.workflow.plan: a step whose `when` does not hold, shown to the citizen too
    "step_skipped": _kind("Bỏ qua bước không áp dụng cho hồ sơ", "Step not applicable to this dossier, skipped"),
    "step_replanned": _kind("Xác định lại bước áp dụng sau khi bổ sung", "Step applicability decided again after the supplement"),
    # an administrator ran a dead job again (motcua.jobs.rerun_dead: /staff/viec-nen, `motcua jobs retry`)
    "job_rerun": _kind("Chạy lại việc nền lỗi", "Failed background job run again", internal=True),
}

#: `decided` events are labelled by their data.decision.
DECISIONS: dict[str, EventKind] = {
    "approved": _kind("Phê duyệt kết quả", "Result approved"),
    "rejected": _kind("Từ chối giải quyết", "Request rejected"),
}


def event_kinds() -> dict[str, EventKind]:
    """Every declared kind: the installed steps' and the core ones (which a step cannot relabel)."""
    return {**step_events(), **CORE_EVENTS}


def event_kind(kind: str) -> EventKind | None:
    """The declaration of `kind`, or None (old data, a plugin no longer installed)."""
    return CORE_EVENTS.get(kind) or step_events().get(kind)
