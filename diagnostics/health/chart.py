"""The 30-day trend as a server-rendered SVG: one stacked bar per day, one colour per status. No script, no
library, no CDN. The text (legend, dates, peak) is HTML around the drawing, so it wraps and stays legible at
phone width and in either language; each bar segment has a <title> for a pointer, and the page has the numbers
in a table for everyone else."""
from __future__ import annotations

from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from diagnostics.health.selectors import Trend
from mailsettings.models import AccountStatus

WIDTH, HEIGHT = 600, 200
# Colours with at least 3:1 contrast against the white page (WCAG 1.4.11), told apart by hue and lightness.
STATUS_COLOURS = {
    AccountStatus.CONNECTED: "#2e7d32",
    AccountStatus.AUTH_FAILED: "#c62828",
    AccountStatus.CONNECTION_FAILED: "#b35900",
    AccountStatus.PENDING: "#5c6bc0",
    AccountStatus.DISABLED: "#767676",
}
SPARE_COLOURS = ("#6a1b9a", "#00838f", "#8d6e63", "#ad1457", "#1565c0")


@dataclass(frozen=True)
class Series:
    status: str
    label: object
    colour: str
    values: list[int | None]


def chart_series(trend: Trend) -> list[Series]:
    """Bottom to top: connected, the failing statuses, not checked, turned off; a status the palette does not know
    (added to the model later) gets a spare colour."""
    labels = dict(AccountStatus.choices)
    order = [AccountStatus.CONNECTED]
    order += [s for s in labels if s not in (AccountStatus.CONNECTED, AccountStatus.PENDING, AccountStatus.DISABLED)]
    order += [AccountStatus.PENDING, AccountStatus.DISABLED]
    order += [s for s in trend.series if s not in order]  # a status no longer in the choices, from old snapshots
    spare = iter(SPARE_COLOURS * 4)
    result = []
    for status in order:
        values = trend.series.get(status, [None] * len(trend.days))
        colour = STATUS_COLOURS.get(status) or next(spare)
        result.append(Series(status=str(status), label=labels.get(status, status), colour=colour, values=values))
    return result


def trend_svg(trend: Trend, series: list[Series]) -> SafeString:
    days = len(trend.days)
    peak = max(trend.peak, 1)
    slot = WIDTH / max(days, 1)
    bar = max(slot * 0.72, 1.0)
    rects = []
    for i, day in enumerate(trend.days):
        x = i * slot + (slot - bar) / 2
        y = float(HEIGHT)
        day_label = date_format(day, "SHORT_DATE_FORMAT")
        for line in series:
            value = line.values[i]
            if not value:
                continue
            height = HEIGHT * value / peak
            y -= height
            rects.append((f"{x:.1f}", f"{y:.1f}", f"{bar:.1f}", f"{height:.1f}", line.colour,
                          f"{day_label} — {line.label}: {value}"))
    body = format_html_join(
        "", '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>', rects,
    )
    return format_html(
        '<svg class="health-chart" viewBox="0 0 {} {}" preserveAspectRatio="none" role="presentation" '
        'focusable="false" aria-hidden="true">'
        '<line x1="0" y1="{}" x2="{}" y2="{}" stroke="#767676" stroke-width="1"/>{}</svg>',
        WIDTH, HEIGHT, HEIGHT - 0.5, WIDTH, HEIGHT - 0.5, body,
    )
