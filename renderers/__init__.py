"""Renderers: the spec and a dossier turned into what people read.

- `renderers.form`: the citizen's HTML form (Jinja2) and its parser.
- `renderers.summary`: answers as (label, value) rows for check-your-answers, receipts, staff.
- `renderers.documents`: printable documents from templates (templates/documents): the blank
  form (PDF, DOCX) and the receipt slip (PDF); docs/documents.md.
- `renderers.qr`: QR codes as inline SVG (pages) and PNG (documents).

Every function is pure (spec + data in, markup or bytes out) and takes `lang` explicitly.
"""

#: Static files for pages that show a form, relative to the app's static folder
#: (platform/motcua/static): `url_for("static", filename=...)`.
ASSETS = ("renderers/form.css", "js/vendor/json-logic.js", "renderers/form.js")
