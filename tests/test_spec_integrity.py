"""A spec version is its content: a changed spec under a version already filed under is
refused (with the place of `version` and "bump the version"), and a dossier keeps the exact
content it was filed under (issue 16, spec integrity)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from motcua.app import create_app
from motcua.catalogue import SpecChanged, content_hash, snapshot, spec_of
from motcua.filing import add_dossier

#: The findings' English wording is what these tests hold (Vietnamese is the default).
pytestmark = pytest.mark.usefixtures("english_findings")


REPO = Path(__file__).resolve().parent.parent
BIRTH = "ho-tich/dang-ky-khai-sinh.yaml"
MARRIAGE = "ho-tich/dang-ky-ket-hon.yaml"


def _specs(tmp_path: Path) -> Path:
    folder = tmp_path / "specs"
    for name in (BIRTH, MARRIAGE):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "procedure_specs" / name, folder / name)
    return folder


def _app(specs: Path, data: Path):
    return create_app({"DATA_DIR": str(data), "SPECS_DIR": str(specs), "TESTING": True})


def _file(app, code: str) -> str:
    with app.app_context():
        spec = app.extensions["motcua"].catalogue.get(code)
        office = app.extensions["motcua"].catalogue.performers(spec)[0].code  # the first commune office
        return add_dossier(spec, {}, [], "online", None, "citizen", agency=office).code


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _line_of(path: Path, start: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.startswith(start))


def test_changed_steps_without_a_new_version_are_refused_and_a_bump_serves_them(tmp_path: Path) -> None:
    specs, data = _specs(tmp_path), tmp_path / "data"
    app = _app(specs, data)
    birth = app.extensions["motcua"].catalogue.get("1.001193")
    old_hash = content_hash(birth)
    old_code = _file(app, "1.001193")
    old = app.extensions["motcua"].store.dossiers.get(old_code)
    assert old.spec_hash == old_hash and old.spec_version == "2026.3"
    app.extensions["motcua"].store.close()

    # a step removed, version untouched: the spec is left out at start, the other served
    _edit(specs / BIRTH, "  - notify\n", "")
    app = _app(specs, data)
    catalogue = app.extensions["motcua"].catalogue
    assert catalogue.get("1.001193") is None
    assert catalogue.get("1.000894") is not None
    assert [s.code for s in catalogue] == ["1.000894"]  # nor listed, nor found by search
    assert [s.code for s in catalogue.search_index().query("khai sinh")] == []
    assert app.test_client().get("/thu-tuc/1.001193").status_code == 404
    (problem,) = [p for p in catalogue.problems if p.severity == "error"]
    assert problem.path == str(specs / BIRTH)
    assert problem.line == _line_of(specs / BIRTH, "version:")
    assert "`2026.3`" in problem.message and "bump the version" in problem.message
    # filing under it directly is refused too, and the pinned content is untouched
    from motcua.spec.lint import lint_file

    changed = lint_file(specs / BIRTH).spec
    with pytest.raises(SpecChanged, match="bump the version"):
        snapshot(app.extensions["motcua"].store, changed)
    assert [s.name for s in spec_of(app.extensions["motcua"].store, "1.001193@2026.3").steps] == [s.name for s in birth.steps]
    app.extensions["motcua"].store.close()

    # bumped: served, new dossiers get the new content, the old one keeps the old
    _edit(specs / BIRTH, 'version: "2026.3"', 'version: "2026.4"')
    app = _app(specs, data)
    services = app.extensions["motcua"]
    new_spec = services.catalogue.get("1.001193")
    assert new_spec is not None and not [p for p in services.catalogue.problems if p.severity == "error"]
    new = services.store.dossiers.get(_file(app, "1.001193"))
    assert new.spec_version == "2026.4" and new.spec_hash == content_hash(new_spec) != old_hash
    old = services.store.dossiers.get(old_code)
    assert "notify" not in [s.name for s in services.engine.spec_for(new).steps]
    assert "notify" in [s.name for s in services.engine.spec_for(old).steps]
    assert [e.name for e in services.engine.entries(services.engine.spec_for(old))] == ["payment", "review", "postal", "notify"]
    assert [e.name for e in services.engine.entries(services.engine.spec_for(new))] == ["payment", "review", "postal"]
    services.store.close()


def test_unchanged_restart_and_old_dossiers_without_a_hash(tmp_path: Path) -> None:
    specs, data = _specs(tmp_path), tmp_path / "data"
    app = _app(specs, data)
    code = _file(app, "1.001193")
    store = app.extensions["motcua"].store
    store.dossiers.update(code, lambda d: setattr(d, "spec_hash", None))  # filed before hashes were recorded
    assert store.dossiers.get(code).spec_hash is None
    store.close()
    # comments, key order and quoting are not content
    _edit(specs / BIRTH, 'version: "2026.3"', "version: '2026.3'   # unchanged")
    app = _app(specs, data)
    services = app.extensions["motcua"]
    assert services.catalogue.get("1.001193") is not None
    assert services.engine.spec_for(services.store.dossiers.get(code)).version == "2026.3"
    assert _file(app, "1.001193")  # same content, same version: filing goes on
    services.store.close()
