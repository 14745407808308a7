"""What VNPay's `vnp_ResponseCode` of a payment means, in words a citizen reads.

The codes are VNPay's (PAY API 2.1.0, "Bảng mã lỗi" of the return URL and the IPN); the
sentences are ours, addressed to the payer, in Vietnamese and English. A code not listed
(VNPay adds some now and then) still gets a sentence, with the code for staff to look up.
"""

from __future__ import annotations

SUCCESS = "00"

#: vnp_ResponseCode -> what the payer is told.
SENTENCES: dict[str, dict[str, str]] = {
    "07": {"vi": "Tiền đã bị trừ nhưng giao dịch bị nghi ngờ bất thường; ngân hàng đang kiểm tra.",
           "en": "The money was taken, but the bank flagged the payment as unusual and is checking it."},
    "09": {"vi": "Thẻ hoặc tài khoản của bạn chưa đăng ký dịch vụ Internet Banking.",
           "en": "Your card or account is not registered for Internet Banking."},
    "10": {"vi": "Bạn đã xác thực thông tin thẻ hoặc tài khoản sai quá 3 lần.",
           "en": "You entered your card or account details wrongly more than 3 times."},
    "11": {"vi": "Đã hết thời gian chờ thanh toán; bạn có thể thanh toán lại.",
           "en": "The payment timed out; you can pay again."},
    "12": {"vi": "Thẻ hoặc tài khoản của bạn đang bị khóa.", "en": "Your card or account is locked."},
    "13": {"vi": "Bạn đã nhập sai mật khẩu xác thực giao dịch (OTP).", "en": "You entered a wrong one-time password (OTP)."},
    "24": {"vi": "Bạn đã hủy giao dịch.", "en": "You cancelled the payment."},
    "51": {"vi": "Tài khoản của bạn không đủ số dư để thanh toán.", "en": "Your account does not have enough funds."},
    "65": {"vi": "Tài khoản của bạn đã vượt quá hạn mức giao dịch trong ngày.",
           "en": "Your account has reached its daily transaction limit."},
    "75": {"vi": "Ngân hàng thanh toán đang bảo trì; vui lòng thử lại sau.",
           "en": "The bank is under maintenance; please try again later."},
    "79": {"vi": "Bạn đã nhập sai mật khẩu thanh toán quá số lần quy định.",
           "en": "You entered the wrong payment password too many times."},
}
#: vnp_ResponseCode -> what staff read on the dossier page: about the payer, with the code.
STAFF_SENTENCES: dict[str, dict[str, str]] = {
    "07": {"vi": "Tiền đã bị trừ nhưng ngân hàng nghi ngờ giao dịch bất thường và đang kiểm tra.",
           "en": "The money was taken, but the bank flagged the payment as unusual and is checking it."},
    "09": {"vi": "Thẻ hoặc tài khoản của công dân chưa đăng ký Internet Banking.",
           "en": "The citizen's card or account is not registered for Internet Banking."},
    "10": {"vi": "Công dân xác thực thông tin thẻ hoặc tài khoản sai quá 3 lần.",
           "en": "The citizen entered the card or account details wrongly more than 3 times."},
    "11": {"vi": "Hết thời gian chờ thanh toán.", "en": "The payment timed out."},
    "12": {"vi": "Thẻ hoặc tài khoản của công dân đang bị khóa.", "en": "The citizen's card or account is locked."},
    "13": {"vi": "Công dân nhập sai mật khẩu xác thực giao dịch (OTP).", "en": "The citizen entered a wrong one-time password (OTP)."},
    "24": {"vi": "Công dân đã hủy giao dịch.", "en": "The citizen cancelled the payment."},
    "51": {"vi": "Tài khoản của công dân không đủ số dư.", "en": "The citizen's account did not have enough funds."},
    "65": {"vi": "Tài khoản của công dân đã vượt hạn mức giao dịch trong ngày.",
           "en": "The citizen's account reached its daily transaction limit."},
    "75": {"vi": "Ngân hàng thanh toán đang bảo trì.", "en": "The bank was under maintenance."},
    "79": {"vi": "Công dân nhập sai mật khẩu thanh toán quá số lần quy định.",
           "en": "The citizen entered the wrong payment password too many times."},
}
OTHER = {"vi": "Giao dịch không thành công (mã {code}).", "en": "The payment did not go through (code {code})."}


def sentence(code: str | None) -> dict[str, str]:
    """The `{vi, en}` sentence for a failed payment's response code."""
    if code in SENTENCES:
        return SENTENCES[code]
    if not code:  # recorded before the code was kept
        return {"vi": "Giao dịch không thành công.", "en": "The payment did not go through."}
    return {lang: text.format(code=code) for lang, text in OTHER.items()}


def staff_sentence(code: str | None) -> dict[str, str]:
    """The `{vi, en}` sentence staff read for a failed payment: about the payer, ending with
    VNPay's code so the clerk can look it up or quote it to VNPay."""
    if not code:
        return {"vi": "Giao dịch VNPay của công dân không thành công.", "en": "The citizen's VNPay payment did not go through."}
    known = STAFF_SENTENCES.get(code)
    if known is None:
        return {"vi": f"Giao dịch VNPay của công dân không thành công (mã {code}).",
                "en": f"The citizen's VNPay payment did not go through (code {code})."}
    return {"vi": f"{known['vi'][:-1]} (VNPay mã {code}).", "en": f"{known['en'][:-1]} (VNPay code {code})."}
