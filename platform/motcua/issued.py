"""Forms the workflow issues to the citizen (02 request to supplement, 03 refusal, 04 apology
of Circular 01/2018/TT-VPCP), printed when the workflow reaches them and kept with the dossier.

The engine calls `keep_issued_forms` after every committed change: each timeline event that
issues a form (`motcua_renderers.documents.form_of`) and has no kept copy yet is rendered as a PDF
in the dossier's language, stored in the file store and noted in the dossier's bookkeeping
(`steps["_documents"]`, beside the engine's own: which form, for which event, the file, its
sha256; `motcua.purge` keeps those files). The timeline is not touched: the event that issued
the form is the change, its kept copy is not another one. So the form the citizen was handed
is the form anyone downloads later, even after the agency changes its templates. Another language is
drawn on demand from the same event. A failure to print is logged and leaves the action done:
the form is then drawn on demand, and kept on the dossier's next change.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

from motcua.dossier import Dossier

log = logging.getLogger(__name__)
STATE = "_documents"


def kept(dossier: Dossier) -> dict[int, dict[str, Any]]:
    """The kept copies, by the index of the event that issued them."""
    copies = (dossier.steps.get(STATE) or {}).get("kept") or {}
    return {int(index): copy for index, copy in copies.items() if isinstance(copy, dict)}


def keep_issued_forms(services: Any, config: Mapping[str, Any], code: str) -> list[int]:
    """Render and keep every issued form of the dossier not kept yet; the events' indexes kept."""
    from motcua.accounts import all_accounts
    from motcua_renderers.documents import form_pdf, issued_forms

    store = services.store
    dossier = store.dossiers.get(code)
    if dossier is None:
        return []
    have = kept(dossier)
    todo = [(i, name) for i, name in issued_forms(dossier) if i not in have]
    if not todo:
        return []
    spec = services.engine.spec_for(dossier)
    if spec is None:
        return []
    names = {u.username: u.name for u in all_accounts(store)}
    lang = dossier.lang if dossier.lang in ("vi", "en") else "vi"
    made: dict[str, dict[str, Any]] = {}
    for index, name in todo:
        pdf = form_pdf(name, dossier, spec, dossier.events[index], lang, names, config.get("DOCUMENT_TEMPLATES_DIR") or None)
        made[str(index)] = {"form": name, "kind": dossier.events[index].kind, "lang": lang, "file_id": store.files.put(pdf),
                            "size": len(pdf), "sha256": hashlib.sha256(pdf).hexdigest()}

    def change(d: Dossier) -> None:
        copies = d.steps.setdefault(STATE, {}).setdefault("kept", {})
        for index, copy in made.items():
            if index not in copies and int(index) < len(d.events) and d.events[int(index)].kind == copy["kind"]:
                copies[index] = copy  # another process may have kept one meanwhile: first wins

    store.dossiers.update(code, change)
    return [index for index, _name in todo]


def listener(services: Any, config: Mapping[str, Any]) -> Callable[[str], None]:
    """The engine listener of one app."""

    def keep(code: str) -> None:
        keep_issued_forms(services, config, code)

    return keep


def kept_pdf(store: Any, dossier: Dossier, index: int, lang: str) -> bytes | None:
    """The kept PDF of the form issued by event `index`, when kept in `lang`; else None."""
    copy = kept(dossier).get(index)
    if copy is None or copy.get("lang") != lang or not store.files.exists(copy["file_id"]):
        return None
    return store.files.read(copy["file_id"])
