"""`postal` step: result returned, and dossier collected, by the public postal service.

When the citizen chose postal return and the result is ready (FINISHED), the step books a
`delivery` with the carrier and keeps the item number against the dossier; the carrier's
signed status callbacks (motcua.workflow.web) become `postal_status` events, and
`delivered` moves the dossier to RETURNED. A dossier filed by post, or online with home
pickup asked for (`Dossier.pickup_address`), gets a `pickup` booking (the postal worker
collects the papers at home) as soon as it is filed, and `receive` waits (`blocks`) until
the carrier reports that parcel delivered to the agency: the desk receives the dossier when
it has the papers in hand and has checked them.

A result is never handed over with the fee unpaid. If the spec's postal option allows cash
on delivery, the parcel is booked with COD = the fee due and the carrier's `delivered`
callback, carrying what it collected, records the payment (`paid`, method `cod`, through
motcua_plugins.payment.record_paid) before the dossier becomes RETURNED. Otherwise the step books
nothing until a `paid` event comes, and both panels say why the parcel is not sent yet.
The postal charge is the post office's, not the agency's: every booking tells the carrier
the receiver pays it (cước thu người nhận, collected on delivery).
A result parcel the carrier brings back (`returned_to_sender`) is no dead end: the desk
rebooks it (`rebook_delivery`: a new parcel, booked under a new idempotency key; the
returned one stays on the timeline and in `state["returned_parcels"]`) or switches the
dossier to pickup at the desk (`switch_to_desk`: then `return_result` hands it over). A
parcel that was delivered is never rebooked. Callbacks of a returned parcel still reach the
timeline but no longer change the current parcel's status.
A booking whose job gave up (`booking_failed`: the carrier down through every retry) is no
dead end either: an administrator runs the job again (`job_retried`), or the desk does
(`rebook_delivery`, under the same idempotency key: a booking the carrier took although its
answer was lost is not booked twice) or switches the result to the desk (`switch_to_desk`,
and `return_result` is no longer held back); a failed home pickup no longer holds `receive`
back: the citizen may bring the papers, and once the desk receives them the pickup is
dropped (`postal_pickup_dropped`). A booking is only ever made for a dossier still open and
a parcel still wanted (`_wanted`): a dossier withdrawn or refused cancels the parcels not yet
booked (`postal_booking_cancelled`), and running their job again then books nothing. A parcel
already booked and not yet collected is called off with the carrier (motcua_plugins.postal_cancel:
a `cancel_parcel` job, like a booking; "already picked up" is recorded for staff). A booking
the carrier made while the dossier was closing (the job had asked before the withdrawal) is
recorded, then called off the same way (`_closed_while_booking`).
The carrier is a `motcua.carriers` plugin: the spec's `config.carrier`, else the
deployment's POSTAL_CARRIER, else `vnpost`; its settings come from the app config (VNPost:
POSTAL_API_URL, POSTAL_API_KEY, POSTAL_CALLBACK_SECRET), and PUBLIC_URL says where the
carrier sends callbacks (`/plugins/carriers/<id>/callback`).
"""

from __future__ import annotations

import os
from typing import Any

from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, field_validator

from motcua import i18n, units
from motcua.agencies import is_phone
from motcua.dossier import Status
from motcua.integrations import CARRIERS
from motcua.integrations.carriers import STATUS_LABELS
from motcua.spec.model import localize
from motcua.workflow.actions import Action, ActionField, ActionNotAllowed, params_text
from motcua.workflow.notes import message, money, words
from motcua.workflow.step import EventKind, Step, StepContext
from motcua_plugins import postal_cancel
from motcua_plugins.payment import TEMPLATES, amount_due, entered_by_staff, known_plugin

DEFAULT_CARRIER = "vnpost"


def carrier_address(address: dict[str, str]) -> dict[str, str]:
    """The address as the carrier gets it: codes and names of province and commune, street.

    A dossier stored before the units had codes carries names only (and maybe a district):
    the province's code is looked up by its name (a province keeps its code), the commune's
    is left empty rather than guessed, and the district is passed on as stored.
    """
    out = {key: address.get(key, "") for key in (*units.ADDRESS_PARTS, *units.CODE_KEYS.values())}
    if not out["province_code"]:
        found = units.province(address.get("province"))
        out["province_code"] = found.code if found else ""
    for legacy in units.LEGACY_PARTS:
        if address.get(legacy):
            out[legacy] = address[legacy]
    return out


def _phone(value: str) -> str:
    if not is_phone(value):
        raise ValueError(f"{value!r} is not a phone number (10 or 11 digits from 0, e.g. 0236 3821 234)")
    return value


class PostalConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: a `motcua.carriers` plugin; None: the deployment's POSTAL_CARRIER, else vnpost
    carrier: str | None = None
    pickup: bool = True
    service: str = "BCCI"
    #: the phone of the desk the post office calls, per office code (the office receives the
    #: papers collected at home and sends the results): before the registry's `phone`
    desk_phones: dict[str, str] = {}
    #: the same for every office with neither a `desk_phones` entry nor a registry phone
    desk_phone: str | None = None

    @field_validator("carrier")
    @classmethod
    def _installed(cls, value: str | None) -> str | None:
        return known_plugin(CARRIERS, value)

    @field_validator("desk_phone")
    @classmethod
    def _a_phone(cls, value: str | None) -> str | None:
        return _phone(value) if value else value

    @field_validator("desk_phones")
    @classmethod
    def _phones(cls, value: dict[str, str]) -> dict[str, str]:
        return {code: _phone(phone) for code, phone in value.items()}


def desk_phone(config: PostalConfig, office: Any, code: str) -> str:
    """The phone the post office calls at the office `code`: the step's `desk_phones` entry,
    else the registry's `phone`, else the step's `desk_phone`; "" when none is known."""
    return config.desk_phones.get(code) or (getattr(office, "phone", "") or "") or (config.desk_phone or "")


def office_party(config: PostalConfig, office: Any, code: str) -> dict[str, Any]:
    """The office as a booking's party (receiver of a home pickup, sender of a result):
    its name, code, desk phone and the address the registry builds from its unit codes."""
    return {"name": localize(office.name) if office is not None else code, "code": code,
            "phone": desk_phone(config, office, code),
            "address": carrier_address(dict(office.address)) if office is not None else {}}


def missing_fields(carrier_cls: Any, party: dict[str, Any]) -> list[str]:
    """The fields the carrier requires of a party (`Carrier.party_fields`) that it lacks."""
    return sorted(f for f in getattr(carrier_cls, "party_fields", ()) if not party.get(f))


def _chosen_carrier(config: PostalConfig, app_config: Any) -> str:
    """The carrier a spec's step books with; outside an app (`motcua lint`) the deployment's
    MOTCUA_POSTAL_CARRIER stands for POSTAL_CARRIER."""
    deployment = app_config.get("POSTAL_CARRIER") if app_config is not None else os.environ.get("MOTCUA_POSTAL_CARRIER")
    return config.carrier or deployment or DEFAULT_CARRIER


def office_refusal(config: PostalConfig, app_config: Any, office: Any, code: str, lang: str) -> str | None:
    """Why the carrier cannot be booked for `office` (its desk phone missing ...), in `lang`;
    None when it can. Every kind of parcel has the office as a party, so this holds for a
    home pickup, a result and a rebooking alike."""
    chosen = _chosen_carrier(config, app_config)
    carrier_cls = CARRIERS.all().get(chosen)
    if carrier_cls is None:
        return None  # not installed: start_warnings and the linter say so
    missing = missing_fields(carrier_cls, office_party(config, office, code))
    if not missing:
        return None
    carrier = localize(carrier_cls.title, lang)
    named = localize(office.name, lang) if office is not None else code
    if "phone" in missing:
        return i18n.t("{carrier} cần số điện thoại của cơ quan (nơi nhận hồ sơ thu gom tại nhà, nơi gửi kết quả), "
                      "mà {office} ({code}) chưa có: hãy điền `phone` của cơ quan trong danh mục cơ quan, hoặc "
                      "`desk_phones` (theo mã cơ quan) hay `desk_phone` trong cấu hình bước `postal`", lang,
                      carrier=carrier, office=named, code=code)
    return i18n.t("{carrier} cần {fields} của {office} ({code}), mà danh mục cơ quan chưa có", lang,
                  carrier=carrier, fields=", ".join(missing), office=named, code=code)

def carrier_id(ctx: StepContext) -> str:
    return _chosen_carrier(ctx.config, ctx.app_config)


def _wants_postal(ctx: StepContext) -> bool:
    return bool(ctx.dossier.delivery and ctx.dossier.delivery.kind == "postal")


def _wants_pickup(ctx: StepContext) -> bool:
    """The papers come by post from the citizen's home: filed by post, or online with home
    pickup asked for on the form (`Dossier.pickup_address`, a `postal` channel's `home_pickup`)."""
    return ctx.dossier.channel == "postal" or bool(ctx.dossier.pickup_address)


def _unpaid(ctx: StepContext) -> bool:
    return amount_due(ctx.dossier) > 0


def _cod_allowed(ctx: StepContext) -> bool:
    option = ctx.spec.delivery_option("postal") if ctx.spec else None
    return bool(option and option.cash_on_delivery)


def _postage(ctx: StepContext) -> int:
    delivery = ctx.dossier.delivery
    return int(delivery.postal_charge or 0) if delivery and delivery.kind == "postal" else 0


WAITING_FOR_FEE = {"vi": "Kết quả sẽ được gửi qua bưu điện sau khi công dân nộp phí, lệ phí {amount}.",
                   "en": "The result will be sent by post once the citizen has paid the fees, {amount}."}


def callback_url(ctx: StepContext) -> str:
    from motcua.public_url import public_url

    return public_url(f"/plugins/carriers/{carrier_id(ctx)}/callback", ctx.app_config)


#: The events that close a dossier before a result, as the timeline says it ("Hồ sơ đã ...").
CLOSED_WHY = {
    "withdrawn": {"vi": "được công dân rút", "en": "withdrawn by the citizen"},
    "refused": {"vi": "bị từ chối tiếp nhận", "en": "refused"},
}

WHAT = {
    "delivery": {"vi": "chuyển phát kết quả", "en": "delivery of the result"},
    "pickup": {"vi": "thu gom hồ sơ tại nhà", "en": "collection of the papers at home"},
}

#: A result parcel that will not reach the citizen as things stand: the desk posts it again or
#: hands the result over itself (`return_result` is not held back).
DEAD_ENDS = frozenset({"returned_to_sender", "booking_failed", "no_address"})
#: The dead ends the desk's `rebook_delivery` and `switch_to_desk` lead out of.
OUT_OF_DEAD_END = frozenset({"returned_to_sender", "booking_failed"})
#: Statuses after which nothing is booked for a dossier any more.
CLOSED = frozenset({Status.WITHDRAWN, Status.REFUSED, Status.RETURNED})
#: Parcels not booked yet: cancelled if the dossier closes, dropped if the papers come anyway.
NOT_BOOKED = frozenset({"booking", "booking_failed"})


def _wanted(ctx: StepContext, kind: str, key: str, status: str = "booking") -> bool:
    """Whether the booking `key` of `kind` is still to be made: it is the current one, in
    `status`, not booked, the dossier still open, and a result still going by post."""
    shipment = (ctx.state.get("shipments") or {}).get(kind) or {}
    if shipment.get("key") != key or shipment.get("item_number") or shipment.get("status") != status:
        return False
    if Status(ctx.status) in CLOSED:
        return False
    return kind != "delivery" or (_wants_postal(ctx) and not ctx.state.get("switched_to_desk"))


def _closed_while_booking(ctx: StepContext, key: str, shipment: dict[str, Any]) -> str | None:
    """Why the dossier closed ("withdrawn", "refused") when booking `key` was cancelled by its
    closing (`_let_go`) while the booking job ran; None otherwise."""
    if shipment.get("status") != "cancelled":
        return None
    for event in reversed(ctx.dossier.events):
        data = event.data or {}
        if event.kind == "postal_booking_cancelled" and data.get("key") == key and data.get("why") in CLOSED_WHY:
            return str(data["why"])
    return None


class PostalStep(Step):
    name = "postal"
    title = {"vi": "Bưu chính công ích", "en": "Public postal service"}
    template_folder = TEMPLATES
    Config = PostalConfig
    events = {
        "shipment_booked": EventKind(label={"vi": "Đặt dịch vụ bưu chính công ích", "en": "Public postal service booked"}),
        "postal_no_address": EventKind(label={"vi": "Thiếu địa chỉ nhận bưu gửi", "en": "Postal address missing"}),
        "postal_status": EventKind(label={"vi": "Cập nhật trạng thái bưu gửi", "en": "Postal item update"}),
        "postal_waiting_for_payment": EventKind(label={"vi": "Chờ nộp phí trước khi gửi kết quả qua bưu điện",
                                                       "en": "Waiting for the fees before posting the result"}),
        "postal_rebooked": EventKind(label={"vi": "Gửi lại kết quả qua bưu chính", "en": "Result posted again"}),
        "postal_switched_to_desk": EventKind(label={"vi": "Chuyển sang nhận kết quả tại Bộ phận một cửa",
                                                    "en": "Result to be collected at the one-stop desk"}),
        "postal_cod_mismatch": EventKind(label={"vi": "Tiền thu hộ (COD) không khớp", "en": "Cash on delivery mismatch"},
                                         internal=True),
        "postal_booking_failed": EventKind(label={"vi": "Đặt lịch với bưu điện thất bại", "en": "Booking with the post office failed"},
                                           internal=True),
        "postal_booking_retried": EventKind(label={"vi": "Đặt lại dịch vụ bưu chính", "en": "Postal service booked again"},
                                            internal=True),
        "postal_booking_cancelled": EventKind(label={"vi": "Hủy yêu cầu dịch vụ bưu chính", "en": "Postal service request cancelled"}),
        "postal_pickup_dropped": EventKind(label={"vi": "Bỏ thu gom hồ sơ tại nhà", "en": "Collection at home dropped"}),
        **postal_cancel.EVENTS,
    }

    @classmethod
    def office_refusal(cls, config: Any, app_config: Any, office: Any, code: str, lang: str) -> str | None:
        """The carrier cannot be booked with this office as a party (motcua_plugins.postal.office_refusal)."""
        return office_refusal(config, app_config, office, code, lang)

    def _send_result(self, ctx: StepContext) -> None:
        """Book the delivery, unless the fee is unpaid and the post may not collect it."""
        if _unpaid(ctx) and not _cod_allowed(ctx):
            if not ctx.state.get("waiting_for_payment"):
                ctx.state["waiting_for_payment"] = True
                ctx.record("postal_waiting_for_payment", note=message(WAITING_FOR_FEE, amount=money(ctx.dossier.fee_total)),
                           data={"amount": ctx.dossier.fee_total})
            return
        ctx.state.pop("waiting_for_payment", None)
        self._book(ctx, "delivery")

    def _delivered(self, ctx: StepContext, event: Any) -> None:
        """The carrier handed the result over: record what it collected, then RETURNED if paid."""
        item = event.data.get("item_number")
        collected = int(event.data.get("cod_collected") or 0)
        due = ctx.dossier.fee_total if _unpaid(ctx) else 0
        if collected and collected >= due > 0:
            from motcua_plugins.payment import record_paid

            record_paid(ctx, amount=collected, method="cod",
                        note=message({"vi": "Bưu điện đã thu hộ {amount} khi phát kết quả (bưu gửi {item}).",
                                      "en": "The post office collected {amount} on delivery of the result (item {item})."},
                                     amount=money(collected), item=item or ""),
                        data={"item_number": item}, actor=f"carrier:{carrier_id(ctx)}")
        if collected != due:
            ctx.record("postal_cod_mismatch",
                       note=message({"vi": "Bưu điện báo đã thu hộ {collected}, số phải thu là {due}: cần đối soát với bưu điện.",
                                     "en": "The post office reports {collected} collected on delivery, {due} was due: reconcile with the post office."},
                                    collected=money(collected), due=money(due)),
                       data={"item_number": item, "collected": collected, "due": due})
        if due and collected < due:
            return  # never RETURNED with the fee unpaid: a later `paid` completes it
        self._returned(ctx, item)

    def _returned(self, ctx: StepContext, item: Any) -> None:
        ctx.move("deliver", note={"vi": "Bưu điện đã phát kết quả cho công dân.",
                                  "en": "The post office delivered the result to the citizen."}, data={"item_number": item})
        if ctx.is_current:
            ctx.done()

    def _book(self, ctx: StepContext, kind: str, attempt: int = 1, note: str = "") -> None:
        """Ask for a booking: the state says "booking" at once and a `book_parcel` job, saved
        with this change, calls the carrier (never inside the request); `job_done` records
        the parcel. A missing address is refused here, nothing is booked."""
        shipments = ctx.state.setdefault("shipments", {})
        if kind in shipments:
            return
        address = dict((ctx.dossier.delivery.address or {}) if ctx.dossier.delivery else {})
        if kind == "pickup" and ctx.dossier.pickup_address:
            address = dict(ctx.dossier.pickup_address)  # where the papers are collected, asked for on the form
        if not address.get("province") or not address.get("commune"):
            ctx.record("postal_no_address", note={"vi": "Thiếu địa chỉ (tỉnh, xã) để đặt dịch vụ bưu chính.",
                                                  "en": "The address (province, commune) needed to book the postal service is missing."},
                       data={"kind": kind})
            shipments[kind] = {"item_number": None, "status": "no_address"}
            return
        # a rebooked parcel is a new booking: the first keeps the old key (booked before rebooking existed)
        key = f"{ctx.dossier.code}:{kind}" if attempt == 1 else f"{ctx.dossier.code}:{kind}:{attempt}"
        shipments[kind] = {"item_number": None, "status": "booking", "key": key,
                           **({"attempt": attempt} if attempt > 1 else {})}
        ctx.defer_job("book_parcel", key, kind=kind, attempt=attempt, note=note, actor=ctx.actor)

    def run_job(self, ctx: StepContext, job: str, key: str, arguments: dict[str, Any]) -> Any:
        """Book the parcel with the carrier under `key` (its idempotency key: a job run twice,
        or a worker killed after the carrier answered, books one parcel); or call a booked
        one off (`cancel_parcel`, motcua_plugins.postal_cancel)."""
        if job == postal_cancel.JOB:
            return postal_cancel.run(ctx, key, arguments, carrier_id(ctx))
        if job != "book_parcel":
            raise NotImplementedError(job)
        kind = arguments["kind"]
        if not _wanted(ctx, kind, key):
            return None  # booked already, replaced, cancelled, or the dossier closed: nothing to do
        address = dict((ctx.dossier.delivery.address or {}) if ctx.dossier.delivery else {})
        if kind == "pickup" and ctx.dossier.pickup_address:
            address = dict(ctx.dossier.pickup_address)
        chosen = carrier_id(ctx)
        carrier_cls = CARRIERS.get(chosen, ctx.app_config)
        if carrier_cls is None:
            raise RuntimeError(f"the carrier {chosen!r} is not installed")
        spec_delivery = ctx.spec.delivery_option("postal") if ctx.spec else None
        cod = amount_due(ctx.dossier) if (kind == "delivery" and spec_delivery and spec_delivery.cash_on_delivery and _unpaid(ctx)) else 0
        citizen = {"name": ctx.dossier.contact.name, "phone": ctx.dossier.contact.phone,
                   "address": carrier_address(address)}
        agency = office_party(ctx.config, ctx.office, ctx.dossier.agency_code)
        payload = {
            "reference": ctx.dossier.code,
            "kind": kind,
            "service": ctx.config.service,
            "receiver": citizen if kind == "delivery" else agency,
            "sender": agency if kind == "delivery" else citizen,
            "cod_amount": cod,
            # the postal charge is the post office's: the citizen pays it, on delivery for a result
            "postage_payer": "receiver" if kind == "delivery" else "sender",
            "postage_amount": _postage(ctx) if kind == "delivery" else 0,
            "callback_url": callback_url(ctx),
            "note": "Kết quả giải quyết thủ tục hành chính" if kind == "delivery" else "Hồ sơ thủ tục hành chính",
        }
        lacking = {side: missing_fields(carrier_cls, payload[side]) for side in ("sender", "receiver")}
        if any(lacking.values()):  # the carrier would refuse it, however often asked: dead at once
            from motcua.jobs import GiveUp

            raise GiveUp(f"{chosen} needs of the " + "; of the ".join(
                f"{side} ({'office' if payload[side] is agency else 'citizen'}) {', '.join(fields)}"
                for side, fields in lacking.items() if fields))
        item = carrier_cls(ctx.app_config).book(payload, key)
        ctx.services.store.records("shipments").put(item, {"code": ctx.dossier.code, "kind": kind, "status": "booked",
                                                          "carrier": chosen})
        return {"item_number": item, "cod_amount": cod, "carrier": chosen}

    def job_done(self, ctx: StepContext, job: str, key: str, arguments: dict[str, Any], result: Any) -> None:
        """Keep the booked parcel against the dossier, once (the current booking only)."""
        if job == postal_cancel.JOB:
            postal_cancel.done(ctx, key, arguments, result)
            return
        kind = arguments["kind"]
        shipment = (ctx.state.get("shipments") or {}).get(kind) or {}
        if not result or shipment.get("key") != key or shipment.get("item_number"):
            return
        attempt = int(arguments.get("attempt") or 1)
        item = result["item_number"]
        booked = {**shipment, "item_number": item, "status": "booked",
                  "cod_amount": result["cod_amount"], "carrier": result["carrier"]}
        ctx.state["shipments"][kind] = booked
        what = WHAT[kind]
        ctx.record("shipment_booked", note=message({"vi": "Đã đặt dịch vụ bưu chính công ích ({what}), số hiệu bưu gửi {item}.",
                                                    "en": "Public postal service booked ({what}), item number {item}."},
                                                   what=words(what), item=item),
                   data={"kind": kind, "item_number": item, "cod_amount": result["cod_amount"]})
        why = _closed_while_booking(ctx, key, shipment)
        if why is not None:
            # the dossier closed while the carrier was booking it: the parcel exists at the
            # carrier now, so it is called off like any booked one (never left booked)
            postal_cancel.ask(ctx, kind, booked, words(CLOSED_WHY[why]), words(what))
            return
        if attempt > 1:
            old = (ctx.state.get("returned_parcels") or [{}])[-1].get("item_number") or ""
            ctx.record("postal_rebooked",
                       note=message({"vi": "Bưu gửi {old} bị chuyển hoàn; đã gửi lại kết quả, số hiệu bưu gửi mới {new}. {note}",
                                     "en": "Item {old} was returned to sender; the result is posted again, new item number {new}. {note}"},
                                    old=old, new=item, note=arguments.get("note") or ""),
                       data={"old_item_number": old, "item_number": item, "attempt": attempt},
                       actor=arguments.get("actor"),  # the clerk who asked for it
                       once="old_item_number")  # one returned item is posted again once

    def job_failed(self, ctx: StepContext, job: str, key: str, arguments: dict[str, Any], error: str) -> None:
        """Every run of the booking failed: the parcel says so ("booking_failed", "Đặt lịch
        thất bại") on both panels, staff see why on the timeline; an administrator runs the
        job again from the failed jobs page (`job_retried`)."""
        if job == postal_cancel.JOB:
            postal_cancel.failed(ctx, key, arguments, error)
            return
        kind = arguments.get("kind")
        shipment = (ctx.state.get("shipments") or {}).get(kind) or {}
        if shipment.get("key") != key or shipment.get("item_number"):
            return  # booked meanwhile, or replaced
        ctx.state["shipments"][kind] = {**shipment, "status": "booking_failed"}
        ctx.record("postal_booking_failed",
                   note=message({"vi": "Không đặt được dịch vụ bưu chính ({what}) sau nhiều lần thử: {error}. "
                                       "Quản trị viên có thể cho chạy lại tại trang Việc nền lỗi.",
                                 "en": "The postal service ({what}) could not be booked after several attempts: {error}. "
                                       "An administrator can run it again from the failed jobs page."},
                                what=words(WHAT[kind]), error=error),
                   data={"kind": kind, "key": key, "error": error})

    def job_retried(self, ctx: StepContext, job: str, key: str, arguments: dict[str, Any]) -> bool:
        """The failed booking is "booking" again, and its job queued, only while it is still
        wanted (`_wanted`): not for a withdrawn dossier, a parcel the desk booked again or
        gave up for collection at the desk."""
        if job == postal_cancel.JOB:
            return postal_cancel.retried(ctx, key, arguments)
        kind = str(arguments.get("kind"))
        if not _wanted(ctx, kind, key, status="booking_failed"):
            return False
        ctx.state["shipments"][kind] = {**ctx.state["shipments"][kind], "status": "booking"}
        return True

    def _let_go(self, ctx: StepContext, why: str) -> None:
        """The dossier closed (`why`: "withdrawn", "refused"): every parcel not booked yet is
        cancelled, so no job, rerun or desk action books it any more; one booked and not yet
        collected is called off with the carrier (a job: motcua_plugins.postal_cancel)."""
        for kind, shipment in (ctx.state.get("shipments") or {}).items():
            if shipment.get("status") == "booked" and shipment.get("item_number"):
                postal_cancel.ask(ctx, kind, shipment, words(CLOSED_WHY[why]), words(WHAT[kind]))
            elif shipment.get("status") in NOT_BOOKED and not shipment.get("item_number"):
                ctx.state["shipments"][kind] = {**shipment, "status": "cancelled"}
                ctx.record("postal_booking_cancelled",
                           note=message({"vi": "Hồ sơ đã {why}: hủy yêu cầu {what} chưa đặt được với bưu điện.",
                                         "en": "The dossier was {why}: the {what} not yet booked with the post office is cancelled."},
                                        why=words(CLOSED_WHY[why]), what=words(WHAT[kind])),
                           data={"kind": kind, "key": shipment.get("key"), "why": why})

    def _pickup_dropped(self, ctx: StepContext) -> None:
        """The desk received the papers although the pickup booking failed: the citizen
        brought them, the pickup is no longer wanted."""
        pickup = (ctx.state.get("shipments") or {}).get("pickup") or {}
        if pickup.get("status") != "booking_failed" or pickup.get("item_number"):
            return
        ctx.state["shipments"]["pickup"] = {**pickup, "status": "cancelled"}
        ctx.record("postal_pickup_dropped",
                   note={"vi": "Bộ phận một cửa đã nhận hồ sơ giấy do công dân mang đến; "
                               "bỏ yêu cầu thu gom hồ sơ tại nhà (đặt lịch với bưu điện thất bại).",
                         "en": "The one-stop desk received the papers the citizen brought; the collection "
                               "at home (whose booking with the post office failed) is dropped."},
                   data={"kind": "pickup", "key": pickup.get("key")})

    def enter(self, ctx: StepContext) -> None:
        if not _wants_postal(ctx):
            ctx.done()
        elif ctx.status == Status.FINISHED:
            self._send_result(ctx)
        else:
            ctx.state["waiting_for_result"] = True  # listed before the decision: book when it comes

    def on_event(self, ctx: StepContext, event: Any) -> None:
        if event.kind in CLOSED_WHY:
            self._let_go(ctx, event.kind)
        elif event.kind == "received":
            self._pickup_dropped(ctx)
        elif event.kind == "filed" and _wants_pickup(ctx) and ctx.config.pickup and not entered_by_staff(ctx.dossier):
            # a citizen filing by post, or online with home pickup, has the papers collected at
            # home; paper that came by post and was entered at the desk is already there
            self._book(ctx, "pickup")
        elif event.status == Status.FINISHED and ctx.state.get("waiting_for_result") and _wants_postal(ctx):
            self._send_result(ctx)
        elif event.kind == "paid" and _wants_postal(ctx) and ctx.status == Status.FINISHED:
            delivery = (ctx.state.get("shipments") or {}).get("delivery") or {}
            if ctx.state.get("waiting_for_payment"):
                self._send_result(ctx)
            elif delivery.get("status") == "delivered":  # handed over before the fee was settled
                self._returned(ctx, delivery.get("item_number"))
        elif event.kind == "postal_status":
            kind, status = event.data.get("kind"), event.data.get("status")
            shipment = ctx.state.setdefault("shipments", {}).setdefault(kind, {"item_number": event.data.get("item_number")})
            if ((shipment.get("item_number") or shipment.get("status") == "booking")
                    and event.data.get("item_number") != shipment.get("item_number")):
                return  # a parcel replaced by a rebooking: on the timeline, not the current one
            if shipment.get("status") in postal_cancel.CALLED_OFF:
                return  # the cancel job (or its answer) says where it stands; the callback is on the timeline
            shipment["status"] = status
            if kind == "delivery" and status == "delivered" and ctx.status == Status.FINISHED:
                self._delivered(ctx, event)

    def blocks(self, ctx: StepContext, action: str) -> str | None:
        pickup = (ctx.state.get("shipments") or {}).get("pickup") or {}
        if action == "receive" and pickup.get("status") == "booking":
            return "Đang đặt dịch vụ thu gom hồ sơ tại nhà với bưu điện; chỉ tiếp nhận khi đã nhận và kiểm tra bản giấy."
        # a pickup whose booking failed holds nothing back: the citizen may bring the papers
        if action == "receive" and pickup.get("item_number") and pickup.get("status") != "delivered":
            return ("Hồ sơ giấy đang được bưu điện chuyển đến (thu gom tại nhà, bưu gửi "
                    f"{pickup['item_number']}); chỉ tiếp nhận khi đã nhận và kiểm tra bản giấy.")
        shipment = (ctx.state.get("shipments") or {}).get("delivery") or {}
        if (action == "return_result" and _wants_postal(ctx) and not ctx.state.get("switched_to_desk")
                and shipment.get("status") not in DEAD_ENDS):
            return "Kết quả được trả qua bưu chính công ích; hồ sơ chuyển sang “Đã trả kết quả” khi bưu điện phát thành công."
        return None

    def actions(self, ctx: StepContext, user: Any) -> list[Action]:
        shipment = (ctx.state.get("shipments") or {}).get("delivery") or {}
        if (not _wants_postal(ctx) or ctx.state.get("switched_to_desk") or ctx.status != Status.FINISHED
                or shipment.get("status") not in OUT_OF_DEAD_END):
            return []
        return [
            Action(name="rebook_delivery", label={"vi": "Gửi lại kết quả qua bưu chính", "en": "Post the result again"},
                   roles=("desk",), style="primary",
                   fields=[ActionField(name="note", kind="textarea", required=False,
                                       label={"vi": "Ghi chú (lý do chuyển hoàn, đã liên hệ công dân ...)",
                                              "en": "Note (why it came back, citizen contacted ...)"})]),
            Action(name="switch_to_desk", label={"vi": "Chuyển sang nhận tại Bộ phận một cửa", "en": "Switch to collection at the desk"},
                   roles=("desk",), needs_reason=True),
        ]

    def perform(self, ctx: StepContext, action: str, user: Any, params: dict[str, Any]) -> None:
        shipment = (ctx.state.get("shipments") or {}).get("delivery") or {}
        status = shipment.get("status")
        if action not in ("rebook_delivery", "switch_to_desk"):
            raise ActionNotAllowed(f"Không có thao tác “{action}” cho hồ sơ này.")
        if status == "delivered":
            raise ActionNotAllowed("Bưu gửi kết quả đã được phát thành công; không thể gửi lại hay chuyển sang nhận tại quầy.")
        if status not in OUT_OF_DEAD_END or ctx.status != Status.FINISHED or ctx.state.get("switched_to_desk"):
            raise ActionNotAllowed(i18n.gettext("Chỉ gửi lại hoặc chuyển sang nhận tại quầy khi bưu gửi kết quả đã bị "
                                                "chuyển hoàn hoặc đặt lịch với bưu điện thất bại."))
        if status == "booking_failed":
            self._out_of_failed_booking(ctx, action, shipment, params)
            return
        returned = {**shipment}
        if action == "switch_to_desk":
            reason = params_text(params, "reason")
            ctx.state["switched_to_desk"] = True
            ctx.record("postal_switched_to_desk",
                       note=message({"vi": "Bưu gửi {item} bị chuyển hoàn; công dân nhận kết quả tại Bộ phận một cửa. {reason}",
                                     "en": "Item {item} was returned to sender; the citizen collects the result at the one-stop desk. {reason}"},
                                    item=returned.get("item_number") or "", reason=reason),
                       data={"item_number": returned.get("item_number"), "reason": reason})
            return
        history = ctx.state.setdefault("returned_parcels", [])
        history.append(returned)
        del ctx.state["shipments"]["delivery"]
        attempt = int(returned.get("attempt") or 1) + 1
        self._book(ctx, "delivery", attempt=attempt, note=params_text(params, "note"))
        if ctx.state["shipments"]["delivery"].get("status") == "no_address":  # nothing booked, nothing changed
            raise ActionNotAllowed("Không đặt lại được dịch vụ bưu chính: thiếu địa chỉ nhận (tỉnh, xã).")

    def _out_of_failed_booking(self, ctx: StepContext, action: str, shipment: dict[str, Any],
                               params: dict[str, Any]) -> None:
        """The desk's way out of a result booking that gave up. Posting again books under the
        same key as the failed booking (the carrier may have taken it although its answer
        was lost: it then answers the same item); switching to the desk cancels it, so an
        administrator's later re-run books nothing (`job_retried`)."""
        if action == "switch_to_desk":
            reason = params_text(params, "reason")
            ctx.state["switched_to_desk"] = True
            ctx.state["shipments"]["delivery"] = {**shipment, "status": "cancelled"}
            ctx.record("postal_switched_to_desk",
                       note=message({"vi": "Không đặt được dịch vụ bưu chính để gửi kết quả; công dân nhận kết quả tại "
                                           "Bộ phận một cửa. {reason}",
                                     "en": "The postal service could not be booked for the result; the citizen collects "
                                           "it at the one-stop desk. {reason}"}, reason=reason),
                       data={"item_number": None, "key": shipment.get("key"), "reason": reason})
            return
        note = params_text(params, "note")
        ctx.state["shipments"]["delivery"] = {**shipment, "status": "booking"}
        ctx.defer_job("book_parcel", shipment["key"], kind="delivery", attempt=int(shipment.get("attempt") or 1),
                      note=note, actor=ctx.actor)
        ctx.record("postal_booking_retried",
                   note=message({"vi": "Đặt lịch với bưu điện đã thất bại; cán bộ cho đặt lại dịch vụ bưu chính "
                                       "(chuyển phát kết quả). {note}",
                                 "en": "The booking with the post office had failed; staff booked the postal service "
                                       "again (delivery of the result). {note}"}, note=note),
                   data={"kind": "delivery", "key": shipment.get("key")})

    def _panel(self, ctx: StepContext, template: str) -> Markup | None:
        from flask import render_template

        shipments = ctx.state.get("shipments") or {}
        waiting = bool(ctx.state.get("waiting_for_payment")) and _unpaid(ctx)
        if not shipments and not waiting:
            return None
        return Markup(render_template(template, shipments=shipments, labels=STATUS_LABELS, dossier=ctx.dossier,
                                      waiting_for_fee=waiting, postage=_postage(ctx),
                                      returned_parcels=ctx.state.get("returned_parcels") or [],
                                      at_desk=bool(ctx.state.get("switched_to_desk")),
                                      pickup_failed=((shipments.get("pickup") or {}).get("status") == "booking_failed"),
                                      cancel_trouble=any(x.get("status") == "cancel_failed" or x.get("cancel_refused")
                                                         for x in shipments.values())))

    def citizen_panel(self, ctx: StepContext) -> Markup | None:
        return self._panel(ctx, "postal/citizen.html")

    def staff_panel(self, ctx: StepContext) -> Markup | None:
        return self._panel(ctx, "postal/staff.html")
