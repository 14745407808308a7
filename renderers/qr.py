"""QR codes for the tracking link.

The same module matrix feeds the inline SVG of HTML pages and the PNG placed in printed
documents, so both encode exactly the same link.
"""

from __future__ import annotations

import base64
import io

from markupsafe import escape


def qr_matrix(data: str, border: int = 4) -> list[list[bool]]:
    """Dark modules, quiet zone included; error correction M survives a crumpled slip.

    qrcode (and the imaging library it loads) is imported here, by the first receipt: the
    back office imports this module at every start (docs/performance.md)."""
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=border)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


def dark_runs(matrix: list[list[bool]]) -> list[tuple[int, int, int]]:
    """(row, first column, length) of each horizontal run of dark modules."""
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                runs.append((y, start, x - start))
            else:
                x += 1
    return runs


def qr_svg(url: str, label: str | None = None) -> str:
    """Inline SVG (no XML prologue) of a QR code for `url`, scalable with CSS."""
    matrix = qr_matrix(url)
    size = len(matrix)
    path = "".join(f"M{x} {y}h{n}v1h-{n}z" for y, x, n in dark_runs(matrix))
    title = escape(label if label is not None else url)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" role="img" '
        f'aria-label="{title}" shape-rendering="crispEdges" class="qr-code">'
        f"<title>{title}</title>"
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path d="{path}" fill="#000"/></svg>'
    )


def qr_png(data: str, module_px: int = 8) -> bytes:
    """A black-and-white PNG of the QR code, `module_px` pixels per module, quiet zone included.

    Printed documents embed it as an image (WeasyPrint draws SVG as many small paths, which
    print fine but are hard to find again on the page); each module is a whole square of
    pixels, so the printed code is as sharp as the page allows.
    """
    from PIL import Image

    matrix = qr_matrix(data)
    size = len(matrix)
    image = Image.new("1", (size, size), 1)
    image.putdata([0 if dark else 1 for row in matrix for dark in row])
    out = io.BytesIO()
    image.resize((size * module_px, size * module_px), Image.NEAREST).save(out, format="PNG", optimize=True)
    return out.getvalue()


def qr_data_uri(data: str) -> str:
    """`qr_png` as a `data:` URI, for an `<img src>` in a document template."""
    return "data:image/png;base64," + base64.b64encode(qr_png(data)).decode("ascii")
