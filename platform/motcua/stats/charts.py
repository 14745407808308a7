"""Bar charts drawn on the server as inline SVG, so they show with JavaScript off.

Each chart is `role="img"` with a `<title>` and a `<desc>` naming every bar and its figure;
the page also puts the same numbers in a table beside the chart for screen readers and for
copying. Every label is escaped: procedure names are spec text, i.e. data.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
LABEL_WIDTH = 220
VALUE_WIDTH = 90
ROW = 30
BAR = 18
TOP = 8
PALETTE = ("#0b57d0", "#1e7b34", "#8a5300", "#a3201d", "#5f3dc4", "#00696b")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    display: str
    color: str | None = None


def _clip(text: str, limit: int = 32) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bar_chart(
    chart_id: str,
    title: str,
    bars: list[Bar],
    *,
    max_value: float | None = None,
    marker: tuple[float, str] | None = None,
) -> Markup:
    """Horizontal bars, one per row; `marker` draws a dashed target line (value, label)."""
    top = TOP + (18 if marker else 0)
    height = top + ROW * max(len(bars), 1) + 8
    scale_max = max([max_value or 0.0] + [b.value for b in bars] + ([marker[0]] if marker else [])) or 1.0
    area = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    description = "; ".join(f"{b.label}: {b.display}" for b in bars)
    if marker:
        description += f"; {marker[1]}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
    ]
    for i, bar in enumerate(bars):
        y = top + i * ROW
        length = 0.0 if bar.value <= 0 else max(1.0, area * bar.value / scale_max)
        color = bar.color or PALETTE[i % len(PALETTE)]
        parts.append(
            f'<g><text x="{LABEL_WIDTH - 8}" y="{y + BAR - 4}" text-anchor="end" font-size="13" fill="#1b1b1f">'
            f"{escape(_clip(bar.label))}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{BAR}" fill="{escape(color)}"></rect>'
            f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{y + BAR - 4}" font-size="13" fill="#1b1b1f">'
            f"{escape(bar.display)}</text></g>"
        )
    if not bars:
        parts.append(f'<text x="{LABEL_WIDTH}" y="{top + 14}" font-size="13" fill="#5f6368">–</text>')
    if marker:
        x = LABEL_WIDTH + area * marker[0] / scale_max
        parts.append(
            f'<line x1="{x:.1f}" y1="{TOP + 14}" x2="{x:.1f}" y2="{height - 4}" stroke="#a3201d" '
            f'stroke-width="2" stroke-dasharray="4 3"></line>'
            f'<text x="{x:.1f}" y="{TOP + 10}" text-anchor="middle" font-size="12" fill="#a3201d">{escape(marker[1])}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
