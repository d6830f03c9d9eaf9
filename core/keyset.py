"""Keyset pagination for long lists, newest first: each page starts after the last row shown, found by an index
on (its timestamp, id), so page 200 costs what page 1 does. OFFSET would read and throw away every earlier row.

The position travels in the URL as `<ISO timestamp>_<id>` of the last row shown. It is applied to a queryset the
view has already limited to what the user may see, so a made-up position can only move within their own rows.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet


@dataclass
class KeysetPage:
    items: list
    next_position: str  # "" on the last page
    first: bool

    @property
    def object_list(self) -> list:
        return self.items


def position_of(row, field: str) -> str:
    return f"{getattr(row, field).isoformat()}_{row.pk}"


def _parse(position: str | None) -> tuple[datetime.datetime, int] | None:
    when, _, pk = (position or "").rpartition("_")
    try:
        moment = datetime.datetime.fromisoformat(when)
    except ValueError:
        return None
    if moment.tzinfo is None or not pk.isdigit():
        return None
    return moment, int(pk)


def keyset_page(queryset: QuerySet, *, field: str, after: str | None, size: int) -> KeysetPage:
    """`size` rows of `queryset`, newest `field` first (ties by id), after the position given (the first page when
    there is none, or it cannot be read)."""
    parsed = _parse(after)
    rows = queryset.order_by(f"-{field}", "-pk")
    if parsed:
        moment, pk = parsed
        rows = rows.filter(Q(**{f"{field}__lt": moment}) | Q(**{field: moment, "pk__lt": pk}))
    items = list(rows[: size + 1])
    more = len(items) > size
    items = items[:size]
    return KeysetPage(items=items, next_position=position_of(items[-1], field) if more else "", first=parsed is None)
