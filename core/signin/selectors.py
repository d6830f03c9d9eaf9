"""Reads for the sign-in pages: the lockouts a trust admin may see and lift."""

import datetime
from dataclasses import dataclass

from axes.handlers.cache import AxesCacheHandler
from axes.helpers import get_client_cache_keys
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from ..models import AuditEntry, Membership, School
from ..permissions import trust_admin_trust_ids

LOCKOUT_WINDOW = datetime.timedelta(hours=24)


@dataclass(frozen=True)
class Lockout:
    entry_id: int
    at: datetime.datetime
    username: str
    address: str
    person: str
    active: bool


def _user_ids_at_schools_of(actor) -> set[str]:
    """The people at the schools of the trusts this actor administers."""
    schools = School.objects.filter(trust_id__in=trust_admin_trust_ids(actor)).values("pk")
    return {str(pk) for pk in Membership.objects.active().filter(school__in=schools).values_list("user_id", flat=True)}


def lockout_visible_to(actor, entry: AuditEntry) -> bool:
    if entry.action != "signin.locked_out":
        return False
    return actor.is_superuser or entry.object_id in _user_ids_at_schools_of(actor)


def is_locked(*, username: str, address: str) -> bool:
    keys = get_client_cache_keys(AccessAttempt(username=username, ip_address=address))
    handler = AxesCacheHandler()
    return any((handler.cache.get(key) or 0) >= settings.AXES_FAILURE_LIMIT for key in keys)


def lockouts_for(*, actor, now: datetime.datetime | None = None) -> list[Lockout]:
    """Lockouts of the last day of people at the actor's schools (every lockout for a superuser)."""
    now = now or timezone.now()
    entries = AuditEntry.objects.filter(action="signin.locked_out", created_at__gte=now - LOCKOUT_WINDOW)
    if not actor.is_superuser:
        entries = entries.filter(object_type="auth.user", object_id__in=_user_ids_at_schools_of(actor))
    entries = list(entries[:200])
    people = {
        str(u.pk): u.get_full_name()
        for u in get_user_model().objects.filter(pk__in=[e.object_id for e in entries if e.object_id.isdigit()])
    }
    cooloff = settings.AXES_COOLOFF_TIME
    seen: set[tuple[str, str]] = set()
    lockouts = []
    for entry in entries:  # newest first: only the newest of each pair can still be in force
        pair = (entry.details.get("username", ""), entry.details.get("address", ""))
        active = pair not in seen and entry.created_at + cooloff > now and is_locked(username=pair[0], address=pair[1])
        seen.add(pair)
        lockouts.append(Lockout(entry.pk, entry.created_at, pair[0], pair[1], people.get(entry.object_id, ""), active))
    return lockouts
