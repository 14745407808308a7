"""Procedure specs made for the benchmarks from the shipped ones (not a benchmark itself).

    many_specs(folder, n)   n spec files: each shipped spec again under its own code, a
                            varied name and varied keywords (a province's 2,000 procedures)
    queries()               ~2,800 different searches over those names (no diacritics)
    wide_spec()             the birth spec with 50 more fields, half of them conditional,
                            and an answer that fills them (validation bench)
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "procedure_specs"
BIRTH = SHIPPED / "ho-tich" / "dang-ky-khai-sinh.yaml"
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

#: Words a province's procedure names are made of (folded search must find them).
SUBJECTS = ["hộ kinh doanh", "doanh nghiệp tư nhân", "hợp tác xã", "nhà ở riêng lẻ", "công trình tạm", "giấy phép lái xe",
            "thẻ bảo hiểm y tế", "trợ cấp thất nghiệp", "chứng chỉ hành nghề", "quyền sử dụng đất", "hộ tịch",
            "cơ sở giáo dục", "người có công", "trẻ em dưới 6 tuổi", "phương tiện thủy nội địa", "giống cây trồng",
            "cơ sở bán lẻ thuốc", "biển hiệu quảng cáo", "di tích lịch sử", "lao động nước ngoài"]
ACTIONS = ["Cấp", "Cấp lại", "Cấp đổi", "Gia hạn", "Điều chỉnh", "Thu hồi", "Xác nhận", "Đăng ký", "Đăng ký thay đổi",
           "Công nhận", "Hỗ trợ", "Thẩm định"]
PLACES = ["cấp xã", "cấp huyện", "cấp tỉnh", "tại Ủy ban nhân dân xã", "có yếu tố nước ngoài", "trực tuyến", "lần đầu",
          "theo diện ưu tiên", "cho cá nhân", "cho tổ chức"]
KEYWORDS = ["ubnd", "một cửa", "dịch vụ công", "giấy tờ", "thủ tục", "chứng thực", "xác minh", "hồ sơ", "lệ phí",
            "trả kết quả", "bưu chính", "cư trú", "căn cước", "định danh"]


def shipped_texts() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(SHIPPED.rglob("*.yaml"))]


def many_specs(folder: Path, n: int, seed: int = 17) -> list[Path]:
    """Write n specs to `folder` (again only when missing or different: the same n, seed and
    shipped specs give the same bytes, so a lint cache built on them stays valid, and a cache
    made before the shipped specs changed is brought up to date). Returns their paths."""
    rng = random.Random(seed)
    bases = [yaml.safe_load(text) for text in shipped_texts()]
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        data = dict(bases[i % len(bases)])
        subject, action, place = rng.choice(SUBJECTS), rng.choice(ACTIONS), rng.choice(PLACES)
        data["code"] = f"8.{i:06d}"
        data["name"] = {"vi": f"{action} {subject} {place}", "en": f"Procedure {i} ({data['name'].get('en', '')})"}
        data["keywords"] = rng.sample(KEYWORDS, 3) + [subject]
        path = folder / f"p{i:05d}.yaml"
        text = yaml.dump(data, Dumper=DUMPER, allow_unicode=True, sort_keys=False)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        paths.append(path)
    for extra in sorted(folder.glob("p*.yaml"))[n:]:
        extra.unlink()
    return paths


def queries(seed: int = 13) -> list[str]:
    """Searches a citizen could type over `many_specs`' names, without diacritics, each
    different (action + subject, subject + place, action + subject + place: ~2,800), in a
    shuffled order: a load where almost no answer was kept from an earlier request."""
    from motcua.search import fold

    made = {fold(" ".join(words)) for words in (
        [(a, s) for a in ACTIONS for s in SUBJECTS] + [(s, p) for s in SUBJECTS for p in PLACES]
        + [(a, s, p) for a in ACTIONS for s in SUBJECTS for p in PLACES])}
    out = sorted(made)
    random.Random(seed).shuffle(out)
    return out


def wide_spec() -> tuple[Any, dict[str, Any]]:
    """(the birth spec with a 50-field group `extra`, answers that fill every field).

    Fields come in pairs: `has_k` (a yes/no) and `detail_k`, required only when `has_k` is
    true (JSON Schema if/then, as specs write conditions), with text, number, enum and
    date fields, so validation walks formats, patterns and conditions."""
    from motcua.spec.model import ProcedureSpec

    data = yaml.safe_load(BIRTH.read_text(encoding="utf-8"))
    props: dict[str, Any] = {}
    conditions = []
    answers: dict[str, Any] = {}
    kinds = [
        ({"type": "string", "minLength": 2, "maxLength": 100}, "Nguyễn Văn An"),
        ({"type": "integer", "minimum": 0, "maximum": 1000}, 42),
        ({"type": "string", "enum": ["a", "b", "c"]}, "b"),
        ({"type": "string", "format": "date"}, "2020-01-31"),
        ({"type": "string", "pattern": "^[0-9]{12}$"}, "079190012345"),
    ]
    for k in range(25):
        schema, value = kinds[k % len(kinds)]
        props[f"has_{k}"] = {"type": "boolean", "title": f"Có mục {k}"}
        props[f"detail_{k}"] = {**schema, "title": f"Chi tiết {k}"}
        conditions.append({"if": {"properties": {f"has_{k}": {"const": True}}, "required": [f"has_{k}"]},
                           "then": {"required": [f"detail_{k}"]}})
        answers[f"has_{k}"] = k % 2 == 0
        answers[f"detail_{k}"] = value
    data["form"]["fields"]["properties"]["extra"] = {"type": "object", "title": "Thông tin thêm", "properties": props,
                                                      "allOf": conditions}
    spec = ProcedureSpec.model_validate(data)
    birth_answers = {
        "requester": {"full_name": "Lê Thị Hoa", "cccd": "079190012345", "phone": "0987654321", "relation": "me"},
        "child": {"full_name": "Lê Gia Bảo", "birth_date": "2025-05-20", "sex": "nam", "ethnicity": "Kinh",
                  "nationality": "Việt Nam", "birth_place": "Bệnh viện Từ Dũ"},
        "mother": {"full_name": "Lê Thị Hoa", "birth_year": 1992},
        "has_father": False,
        "birth_proof": "giay_chung_sinh",
        "extract_copies": 1,
        "extra": answers,
    }
    return spec, birth_answers
