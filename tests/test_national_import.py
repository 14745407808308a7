"""Reading a procedure's record from the national procedure database into a draft spec
(motcua.spec.national_import): three records written by hand after published ones (birth
registration 1.001193, marriage registration 1.000894, judicial record certificate
2.000488), read to exact values; what cannot be read is reported with its line; the YAML
lints with only "needs a `form`", and clean once a form is added."""

from __future__ import annotations

from pathlib import Path

import pytest

from motcua.agencies import load_registry, registry_path
from motcua.spec.national_import import parse_fees, parse_time, read_record, to_yaml
from motcua.studio import lint_text, todo_notes

FIXTURES = Path(__file__).parent / "fixtures" / "national"
FORM = """form:
  fields:
    type: object
    required: [requester]
    properties:
      requester:
        type: object
        title: {vi: Người yêu cầu, en: Requester}
        required: [full_name, phone]
        properties:
          full_name: {type: string, title: {vi: "Họ, chữ đệm, tên", en: Full name}, minLength: 2}
          phone: {type: string, title: {vi: Số điện thoại di động, en: Mobile phone number}, format: vn-mobile}
  contact: {name: requester.full_name, phone: requester.phone}
"""


def record(name: str):
    return read_record((FIXTURES / f"{name}.txt").read_text(encoding="utf-8"), version="2026.1")


def notes_of(imported) -> list[tuple[int, bool, str]]:
    return [(n.line, n.guess, n.text()) for n in imported.notes]


def test_birth_registration_record_reads_to_exact_values():
    imported = record("dang-ky-khai-sinh")
    data = imported.data
    assert imported.code == "1.001193"
    assert (data["code"], data["version"], data["name"], data["sector"]) == ("1.001193", "2026.1", "Đăng ký khai sinh", "Hộ tịch")
    assert data["decision"] == "Quyết định 1872/QĐ-BTP"
    assert data["kind"] == "TTHC được luật giao quy định chi tiết"
    assert data["performed_by"] == {"tier": "commune", "kind": "ubnd", "name": "Ủy ban nhân dân cấp xã"}
    assert data["filers"] == ["citizen"]
    assert data["level"] == 4
    info = data["info"]
    # the third step is broken over two lines in the record: one step
    assert len(info["steps"]) == 3
    assert info["steps"][2].endswith("cập nhật vào Cơ sở dữ liệu hộ tịch điện tử; báo cáo Chủ tịch Ủy ban nhân dân cấp xã "
                                     "cấp Giấy khai sinh cho người được đăng ký khai sinh.")
    assert info["result"] == "Giấy khai sinh (bản chính); Trích lục khai sinh (bản sao) nếu có yêu cầu"
    # "Ngay trong ngày ...; sau 15 giờ ... trong ngày làm việc tiếp theo": same day, at most the next
    assert info["processing_time"] == {"working_days": 0, "max_working_days": 1}
    assert "conditions" not in info  # "Không có thông tin"
    assert info["legal_basis"] == [
        {"number": "60/2014/QH13", "title": "Luật Hộ tịch", "issued": "20/11/2014", "issuer": "Quốc hội"},
        {"number": "123/2015/NĐ-CP", "title": "Nghị định quy định chi tiết một số điều và biện pháp thi hành Luật Hộ tịch",
         "issued": "15/11/2015", "issuer": "Chính phủ"},
        {"number": "04/2020/TT-BTP", "title": "Thông tư quy định chi tiết thi hành một số điều của Luật Hộ tịch và Nghị định số 123/2015/NĐ-CP",
         "issued": "28/05/2020", "issuer": "Bộ Tư pháp"},
    ]
    assert data["channels"] == [
        {"kind": "online", "note": "Nộp trên Cổng Dịch vụ công quốc gia hoặc Cổng dịch vụ công cấp tỉnh."},
        {"kind": "desk", "note": "Nộp tại Bộ phận một cửa của Ủy ban nhân dân cấp xã."},
        {"kind": "postal"},
    ]
    assert data["delivery"] == [{"kind": "desk"}, {"kind": "postal"}, {"kind": "electronic"}]
    assert data["attachments"] == [
        {"id": "to_khai_dang_ky_khai_sinh", "name": "Tờ khai đăng ký khai sinh theo mẫu", "originals": 1, "copies": 0,
         "template": "Mẫu Tờ khai đăng ký khai sinh"},
        {"id": "ban_chinh_giay_chung_sinh_truong",
         "name": "Bản chính Giấy chứng sinh; trường hợp không có Giấy chứng sinh thì nộp văn bản của người làm chứng xác nhận về việc sinh",
         "originals": 1, "copies": 0},
    ]
    assert data["fees"] == [{
        "id": "le_phi", "kind": "charge", "name": "Lệ phí đăng ký khai sinh", "amount": 0,
        "exemption_note": "Miễn lệ phí đăng ký khai sinh đúng hạn, người thuộc gia đình có công với cách mạng, người thuộc hộ nghèo, người khuyết tật",
    }]
    assert data["steps"] == ["review", "postal", "notify"]  # nothing to pay
    assert "form" not in data
    assert notes_of(imported) == [
        (0, True, "mức độ đoán là 4 (nộp trực tuyến, không cần có mặt); kiểm tra lại `level`"),
        (5, True, "cơ quan thực hiện đoán theo «Cấp Xã» và «Ủy ban nhân dân cấp xã»: `performed_by: {tier: commune, kind: ubnd, "
                  "name: Ủy ban nhân dân cấp xã}`; kiểm tra với danh mục cơ quan"),
        (21, True, "«Tờ khai đăng ký khai sinh theo mẫu» là tờ khai: trên cổng, biểu mẫu (`form.fields`) thay cho nó; "
                   "bỏ thành phần `to_khai_dang_ky_khai_sinh` khi đã viết biểu mẫu"),
        (26, False, "mục «Địa chỉ tiếp nhận HS» không đưa vào đặc tả: «Bộ phận Một cửa Ủy ban nhân dân cấp xã»"),
    ]


def test_marriage_registration_needs_presence_so_level_3_and_case_components_are_optional():
    imported = record("dang-ky-ket-hon")
    data = imported.data
    # headings on their own line, content on the next: the record's other copied layout
    assert (imported.code, data["name"], data["decision"]) == ("1.000894", "Đăng ký kết hôn", "Quyết định 1872/QĐ-BTP")
    assert data["level"] == 3
    assert data["info"]["presence_required"] is True
    assert data["info"]["processing_time"] == {"working_days": 0, "max_working_days": 5}
    assert data["info"]["steps"][0] == "Hai bên nam, nữ nộp hồ sơ tại Ủy ban nhân dân cấp xã hoặc nộp trực tuyến."  # "Bước 1:" dropped
    assert data["info"]["conditions"] == [
        "Nam từ đủ 20 tuổi trở lên, nữ từ đủ 18 tuổi trở lên;",
        "Việc kết hôn do nam và nữ tự nguyện quyết định;",
        "Không bị mất năng lực hành vi dân sự;",
        "Việc kết hôn không thuộc một trong các trường hợp cấm kết hôn theo quy định của Luật Hôn nhân và gia đình.",
    ]
    assert data["info"]["legal_basis"][0] == {"number": "60/2014/QH13", "title": "Luật Hộ tịch"}  # "number - title" on one line
    assert data["channels"] == [{"kind": "online"}, {"kind": "desk"}]
    assert data["delivery"] == [{"kind": "desk"}]
    assert [(a["id"], a.get("required", True)) for a in data["attachments"]] == [
        ("to_khai_dang_ky_ket_hon", True), ("giay_xac_nhan_tinh_trang_hon", False)]
    assert data["steps"] == ["review", "notify"]
    assert [(line, guess) for line, guess, _text in notes_of(imported)] == [(0, True), (7, True), (23, True), (24, True), (31, False)]
    assert notes_of(imported)[0][2] == "mức độ đoán là 3 (nộp trực tuyến nhưng phải có mặt); kiểm tra lại `level`"
    assert notes_of(imported)[4][2].startswith("mục «Cơ quan phối hợp» không đưa vào đặc tả: «Ủy ban nhân dân cấp xã nơi người yêu cầu")


def test_judicial_record_calendar_days_fee_and_what_it_could_not_read():
    imported = record("cap-phieu-ly-lich-tu-phap")
    data = imported.data
    assert imported.code == "2.000488"
    assert data["performed_by"] == {"tier": "province", "kind": "cong-an", "name": "Công an cấp tỉnh"}
    # "10 Ngày" counts calendar days; "không quá 15 ngày" in the description is the longest limit
    assert data["info"]["processing_time"] == {"working_days": 10, "max_working_days": 15, "calendar_days": True}
    assert data["fees"] == [{"id": "phi", "kind": "fee", "amount": 200000,
                             "name": "Phí cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam (/lần/người)"}]
    assert data["steps"] == [{"name": "payment", "config": {"mode": "online"}}, "review", "postal", "notify"]
    assert [(a["id"], a["originals"], a["copies"]) for a in data["attachments"]] == [
        ("to_khai_yeu_cau_cap_phieu", 1, 0), ("ban_chup_the_can_cuoc_can", 0, 1), ("van_ban_uy_quyen_truong_hop", 1, 0)]
    assert data["attachments"][0]["template"] == "Mẫu số 03/2024/LLTP"
    assert [entry["number"] for entry in data["info"]["legal_basis"]] == ["28/2009/QH12", "111/2010/NĐ-CP", "244/2016/TT-BTC"]
    unread = [(line, text) for line, guess, text in notes_of(imported) if not guess]
    # the reduced fee depends on who files: said once (not once per channel), not charged
    assert unread == [
        (14, "thêm một mức phí 100000 đồng (Sinh viên, người có công với cách mạng, thân nhân liệt sĩ): chưa đưa vào; "
             "viết điều kiện (`when`, `exempt_when`) cho mức này"),
        (33, "không đọc được căn cứ pháp lý (không có số ký hiệu văn bản): «Ghi chú của cán bộ nhập liệu: xem lại biểu phí năm 2025»"),
    ]


@pytest.mark.usefixtures("english_findings")  # the findings' English wording
@pytest.mark.parametrize("name", ["dang-ky-khai-sinh", "dang-ky-ket-hon", "cap-phieu-ly-lich-tu-phap"])
def test_the_draft_lints_with_only_the_missing_form_and_clean_once_a_form_is_added(name):
    text = to_yaml(record(name))
    assert text.startswith("# yaml-language-server: $schema=../schema.json\n# Nhập từ Cơ sở dữ liệu quốc gia")
    assert "# TODO: mức độ đoán là" in text
    linted = lint_text(text, agencies=load_registry(registry_path()))  # performers checked as in the studio
    notes = todo_notes(text)  # each note is a warning at its line, which the studio's review waits for
    assert [(f.severity, f.message) for f in linted.findings if f.line not in dict(notes)] == [
        ("error", f"a level {read_level(text)} procedure is filed online, so it needs a `form`")]
    assert [(f.line, f.severity) for f in linted.findings if f.line in dict(notes)] == [(line, "warning") for line, _ in notes]
    completed = lint_text(text + FORM, agencies=load_registry(registry_path()))
    assert completed.ok, completed.findings
    assert [f for f in completed.findings if f.severity == "error"] == []
    assert completed.spec is not None and completed.spec.code == record(name).code


def read_level(text: str) -> str:
    level = next(line for line in text.splitlines() if line.startswith("level:")).split(":")[1].strip()
    return {"3": "3 (partial online)", "4": "4 (full process online)"}[level]


def test_fees_that_differ_between_channels_apply_to_their_channels_and_unread_lines_are_reported():
    text = "\n".join([
        "Thông tin thủ tục",
        "Trang này được in từ Cổng Dịch vụ công quốc gia",  # line 2: not a heading, not read
        "Mã thủ tục: 1.002809",
        "Tên thủ tục: Đổi giấy phép lái xe do ngành Công an cấp",
        "Cấp thực hiện: Cấp Huyện",
        "Lĩnh vực: Đường bộ",
        "Cơ quan thực hiện: Phòng Cảnh sát giao thông",
        "Đối tượng thực hiện: Cá nhân",
        "Cách thức thực hiện:",
        "Trực tiếp\t05 Ngày làm việc\tLệ phí : 135.000 Đồng",
        "Lệ phí : 0 Đồng (Người có công với cách mạng)",  # line 11: the fee cell goes on (not a heading)
        "Trực tuyến\t05 Ngày làm việc\tLệ phí : 115.000 Đồng",
        "Dịch vụ bưu chính\tkhi nào xong thì báo\tTheo biểu giá của bưu điện",  # line 13: neither read
        "Thành phần hồ sơ:",
        "Đơn đề nghị đổi giấy phép lái xe\tMẫu số 01.docx\tBản chính: 1 - Bản sao: 0",
        "Giấy khám sức khỏe của người lái xe\t\tBản chính: 1 - Bản sao: 0",
        "Ảnh màu 3x4",  # line 17: no counts; continues the name above, as a broken cell would
        "Kết quả thực hiện: Giấy phép lái xe",
    ])
    imported = read_record(text, version="2026.1")
    data = imported.data
    assert data["performed_by"] == {"tier": "commune", "name": "Phòng Cảnh sát giao thông"}
    assert data["filers"] == ["citizen"]
    assert data["info"]["processing_time"] == {"working_days": 5}
    assert data["fees"] == [
        {"id": "le_phi", "kind": "charge", "name": "Lệ phí đổi giấy phép lái xe do ngành Công an cấp", "amount": 135000,
         "when": {"in": [{"var": "_channel"}, ["desk"]]}},
        {"id": "le_phi_2", "kind": "charge", "name": "Lệ phí đổi giấy phép lái xe do ngành Công an cấp", "amount": 115000,
         "when": {"in": [{"var": "_channel"}, ["online"]]}},
    ]
    assert data["attachments"][1]["name"] == "Giấy khám sức khỏe của người lái xe Ảnh màu 3x4"
    notes = notes_of(imported)
    assert (2, False, "không đọc được: «Trang này được in từ Cổng Dịch vụ công quốc gia»") in notes
    assert (5, True, "cấp huyện không còn từ 01/7/2025: đã chọn cấp xã; kiểm tra lại `performed_by`") in notes
    assert (13, False, "không đọc được thời hạn giải quyết «khi nào xong thì báo»") in notes
    assert (13, False, "không đọc được phí, lệ phí «Theo biểu giá của bưu điện»") in notes
    assert (10, False, "thêm một mức lệ phí 0 đồng (Người có công với cách mạng): chưa đưa vào; "
                       "viết điều kiện (`when`, `exempt_when`) cho mức này") in notes
    assert not any("Thông tin thủ tục" in text for _l, _g, text in notes)  # the page's own title
    assert (0, False, "không tìm thấy thành phần hồ sơ") not in notes


def test_a_text_without_a_code_says_so():
    imported = read_record("Tên thủ tục: Cấp giấy xác nhận\nLĩnh vực: Tư pháp\n")
    assert imported.code is None
    assert (0, False, "không đọc được cách thức thực hiện: điền `channels`") in notes_of(imported)
    assert (0, False, "không tìm thấy mã thủ tục (dạng 1.001193): điền `code`") in notes_of(imported)


@pytest.mark.parametrize("text, expected", [
    ("Ngay trong ngày làm việc", (0, None, False)),
    ("Ngay trong ngày tiếp nhận hồ sơ; sau 15 giờ thì trả kết quả trong ngày làm việc tiếp theo.", (0, 1, False)),
    ("03 Ngày làm việc", (3, None, False)),
    ("10 Ngày", (10, None, True)),
    ("15 Ngày làm việc; trường hợp phức tạp không quá 30 ngày làm việc", (15, 30, False)),
    ("Theo quy định", None),
])
def test_time_limits(text, expected):
    assert parse_time(text) == expected


def test_fee_cells():
    assert parse_fees("Phí : 2.000 Đồng (/trang) Phí : 1.000 Đồng (từ trang thứ ba)") == (
        [("fee", 2000, "/trang"), ("fee", 1000, "từ trang thứ ba")], False)
    assert parse_fees("Lệ phí : 50,000 VNĐ") == ([("charge", 50000, "")], False)
    assert parse_fees("Không") == ([], False)
    assert parse_fees("Theo quyết định của tỉnh") == ([], True)


def test_cli_prints_the_yaml_and_the_notes_with_their_lines(tmp_path):
    from click.testing import CliRunner

    from motcua.cli import main

    source = FIXTURES / "cap-phieu-ly-lich-tu-phap.txt"
    result = CliRunner().invoke(main, ["spec", "import", str(source), "--version", "2026.1"])
    assert result.exit_code == 0, result.output
    assert result.stdout == to_yaml(record("cap-phieu-ly-lich-tu-phap"))
    assert f"{source}:33: không đọc được căn cứ pháp lý (không có số ký hiệu văn bản)" in result.stderr
    english = CliRunner().invoke(main, ["spec", "import", str(source), "--version", "2026.1", "--lang", "en", "-o", str(tmp_path / "x.yaml")])
    assert english.exit_code == 0
    assert f"{source}:14: another fee of 100000 VND (Sinh viên, người có công với cách mạng, thân nhân liệt sĩ): not included" in english.stderr
    written = (tmp_path / "x.yaml").read_text(encoding="utf-8")
    assert "# TODO (line 33): legal basis not read (no document number)" in written
    assert "code: '2.000488'" in written and "level: 4" in written


def test_a_record_without_online_filing_is_level_2_and_lints_clean_without_a_form():
    text = (FIXTURES / "cap-phieu-ly-lich-tu-phap.txt").read_text(encoding="utf-8")
    rows = text.split("Trực tuyến\t", 1)
    text = rows[0] + rows[1].split("\n", 2)[2]  # the online row and its second fee line removed
    imported = read_record(text, version="2026.1")
    assert imported.data["level"] == 2  # forms to download: the declaration names its template
    assert [c["kind"] for c in imported.data["channels"]] == ["desk", "postal"]
    assert imported.data["delivery"] == [{"kind": "desk"}, {"kind": "postal"}]
    assert "steps" not in imported.data
    assert notes_of(imported)[0] == (0, True, "mức độ đoán là 2 (không nộp trực tuyến, có mẫu đơn); kiểm tra lại `level`")
    text = to_yaml(imported)
    findings = lint_text(text, agencies=load_registry(registry_path())).findings
    assert [f.line for f in findings] == [line for line, _ in todo_notes(text)] and notes_of(imported)  # only the notes
