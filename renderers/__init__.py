"""Renderers: the spec and a dossier turned into what people read.

- `motcua_renderers.form`: the citizen's HTML form (Jinja2) and its parser.
- `motcua_renderers.summary`: answers as (label, value) rows for check-your-answers, receipts, staff.
- `motcua_renderers.documents`: printable documents from templates (templates/documents): the blank
  form (PDF, DOCX) and the receipt slip (PDF); docs/documents.md.
- `motcua_renderers.qr`: QR codes as inline SVG (pages) and PNG (documents).

Every function is pure (spec + data in, markup or bytes out) and takes `lang` explicitly.
"""

# Installed as `motcua_renderers` (setup.py maps this folder). Imported as `renderers` (the
# repository root on sys.path) it would be a second copy of every module: refuse it loudly.
if __name__ != "motcua_renderers":  # pragma: no cover - the guard itself
    raise ImportError("import motcua_renderers, not renderers (docs/architecture.md, Packaging)")


#: Static files for pages that show a form, relative to the app's static folder
#: (platform/motcua/static): `url_for("static", filename=...)`.
ASSETS = ("renderers/form.css", "js/vendor/json-logic.js", "renderers/form.js")
