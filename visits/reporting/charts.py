"""Small server-rendered SVG bar charts for the figures pages: no JavaScript, prints well, labels in text.

Every bar carries its number as text, so nothing is read from colour or length alone; the table beside each
chart holds the same figures for screen readers (the SVG is role="img" with a title). Built with format_html
throughout, so a school or purpose name can never inject markup.
"""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

# Each row is its label on a line of its own, then the bar with its number: a label never competes with the bars
# for width, so nothing is cut off on a phone. The chart's natural width fits a 360 px screen unscaled.
LABEL_HEIGHT = 16
BAR_HEIGHT = 18
GAP = 10
ROW = LABEL_HEIGHT + BAR_HEIGHT + GAP
BAR_AREA = 250
VALUE_WIDTH = 70
WIDTH = BAR_AREA + VALUE_WIDTH
MAX_LABEL = 42  # characters that fit WIDTH at 13 px; a longer label is cut, and whole in its <title>


def _bar_parts(i: int, label: str, value: float | None, top: float, unit: str) -> list[SafeString]:
    y = i * ROW
    bar_y = y + LABEL_HEIGHT
    value_y = f"{bar_y + BAR_HEIGHT / 2 + 4.5:.1f}"
    short = label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"
    parts = [
        format_html(
            '<text x="0" y="{}" font-size="13" fill="#212529"><title>{}</title>{}</text>',
            y + 12,
            label,
            short,
        )
    ]
    if value is None:
        parts.append(format_html('<text x="0" y="{}" font-size="13" fill="#595f64">no figure</text>', value_y))
        return parts
    bar = max(BAR_AREA * value / top, 1 if value else 0)
    parts.append(
        format_html(
            '<rect x="0" y="{}" width="{}" height="{}" rx="2" fill="#0d6efd"></rect>',
            bar_y,
            f"{bar:.1f}",
            BAR_HEIGHT,
        )
    )
    parts.append(
        format_html(
            '<text x="{}" y="{}" font-size="13" fill="#212529">{}</text>',
            f"{bar + 5:.1f}",
            value_y,
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
    width = WIDTH
    if not rows:
        height = ROW
        parts = [format_html('<text x="0" y="{}" font-size="13" fill="#495057">{}</text>', GAP + 15, empty_text)]
    else:
        top = max_value if max_value is not None else max((v or 0) for _, v in rows)
        height = len(rows) * ROW
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
