"""Small server-rendered SVG bar charts for the figures pages: no JavaScript, prints well, labels in text.

Every bar carries its number as text, so nothing is read from colour or length alone; the table beside each
chart holds the same figures for screen readers (the SVG is role="img" with a title). Built with format_html
throughout, so a school or purpose name can never inject markup.
"""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 170
BAR_AREA = 200
VALUE_WIDTH = 60


def _bar_parts(i: int, label: str, value: float | None, top: float, unit: str) -> list[SafeString]:
    y = GAP + i * (BAR_HEIGHT + GAP)
    text_y = f"{y + BAR_HEIGHT / 2 + 4.5:.1f}"
    short = label if len(label) <= 24 else label[:23] + "…"
    parts = [
        format_html(
            '<text x="{}" y="{}" font-size="13" text-anchor="end" fill="#212529"><title>{}</title>{}</text>',
            LABEL_WIDTH - 6,
            text_y,
            label,
            short,
        )
    ]
    if value is None:
        parts.append(
            format_html('<text x="{}" y="{}" font-size="13" fill="#6c757d">no figure</text>', LABEL_WIDTH + 4, text_y)
        )
        return parts
    bar = max(BAR_AREA * value / top, 1 if value else 0)
    parts.append(
        format_html(
            '<rect x="{}" y="{}" width="{}" height="{}" rx="2" fill="#0d6efd"></rect>',
            LABEL_WIDTH,
            y,
            f"{bar:.1f}",
            BAR_HEIGHT,
        )
    )
    parts.append(
        format_html(
            '<text x="{}" y="{}" font-size="13" fill="#212529">{}</text>',
            f"{LABEL_WIDTH + bar + 5:.1f}",
            text_y,
            f"{value:g}{unit}",
        )
    )
    return parts


def bar_chart(
    rows: list[tuple[str, float | None]],
    *,
    title: str,
    unit: str = "",
    max_value: float | None = None,
    empty_text: str = "Nothing to show for this term.",
) -> SafeString:
    """Horizontal bars, one per (label, value). A value of None is drawn as "no figure" with no bar."""
    width = LABEL_WIDTH + BAR_AREA + VALUE_WIDTH
    if not rows:
        height = BAR_HEIGHT + 2 * GAP
        parts = [format_html('<text x="0" y="{}" font-size="13" fill="#495057">{}</text>', GAP + 15, empty_text)]
    else:
        top = max_value if max_value is not None else max((v or 0) for _, v in rows)
        height = len(rows) * (BAR_HEIGHT + GAP) + GAP
        parts = [p for i, (label, value) in enumerate(rows) for p in _bar_parts(i, label, value, top or 1, unit)]
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {} {}" width="{}" height="{}" '
        'class="figure-chart"><title>{}</title>{}</svg>',
        width,
        height,
        width,
        height,
        title,
        format_html_join("", "{}", ((p,) for p in parts)),
    )
