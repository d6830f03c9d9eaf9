"""Reception board screens: register (a trust admin), enrol (the one-time code, opened on the screen), switch
off (a trust admin). Each verb checks who may do it and writes its audit entry in the same transaction.

The enrolment code and the device token are random (secrets), shown or set once, and stored only as SHA-256
hashes: a database read gives nobody a working screen. Both carry 256 or 192 bits, so a fast hash is enough.
"""

import datetime
import hashlib
import secrets

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .audit import audit
from .models import BoardScreen, School
from .permissions import may_manage_board_screens, school_ids_where
from .roles import Role, has_role


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def screen_cache_key(device_hash: str) -> str:
    return f"board-screen:{device_hash}"


def forget_screen(screen: BoardScreen) -> None:
    """Drop the middleware's cached view of this screen now and once the change commits."""
    if not screen.device_token_hash:
        return
    key = screen_cache_key(screen.device_token_hash)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


@transaction.atomic
def screen_register(*, actor, school: School, name: str, now=None) -> tuple[BoardScreen, str]:
    """A new screen for the school and its one-time enrolment code (shown to the admin once, never stored)."""
    if not may_manage_board_screens(actor, school):
        raise PermissionDenied("Only a trust admin of this school registers its board screens.")
    now = now or timezone.now()
    name = name.strip()
    if BoardScreen.objects.filter(school=school, name__iexact=name, revoked_at__isnull=True).exists():
        raise ValidationError({"name": "This school already has a screen of that name."})
    code = secrets.token_urlsafe(24)
    screen = BoardScreen(
        school=school,
        name=name,
        created_at=now,
        created_by=actor,
        enrolment_code_hash=token_hash(code),
        enrolment_expires_at=now + datetime.timedelta(hours=settings.BOARD_SCREEN_ENROLMENT_HOURS),
    )
    screen.full_clean()
    screen.save()
    audit(actor=actor, action="board_screen.register", obj=screen, summary=f"Registered board screen {screen}")
    return screen, code


@transaction.atomic
def screen_new_link(*, actor, screen: BoardScreen, now=None) -> tuple[BoardScreen, str]:
    """A fresh one-time enrolment code for a screen (its link expired, or its browser lost the cookie or was
    replaced). The browser enrolled before, if any, stops being the screen at once."""
    if not may_manage_board_screens(actor, screen.school):
        raise PermissionDenied("Only a trust admin of this school enrols its board screens.")
    now = now or timezone.now()
    screen = BoardScreen.objects.select_for_update(of=("self",)).select_related("school").get(pk=screen.pk)
    if screen.revoked_at:
        raise ValidationError("This screen was switched off: register a new one.")
    forget_screen(screen)
    code = secrets.token_urlsafe(24)
    screen.enrolment_code_hash = token_hash(code)
    screen.enrolment_expires_at = now + datetime.timedelta(hours=settings.BOARD_SCREEN_ENROLMENT_HOURS)
    screen.device_token_hash = None
    screen.enrolled_at = None
    screen.save(update_fields=["enrolment_code_hash", "enrolment_expires_at", "device_token_hash", "enrolled_at"])
    audit(actor=actor, action="board_screen.new_link", obj=screen, summary=f"New enrolment link for {screen}")
    return screen, code


def enrolment_screen(*, code: str, now=None) -> BoardScreen | None:
    """The screen this code would enrol, if it still can (unused, unexpired, not switched off)."""
    now = now or timezone.now()
    if not code:
        return None
    return (
        BoardScreen.objects.select_related("school")
        .filter(
            enrolment_code_hash=token_hash(code),
            enrolled_at__isnull=True,
            revoked_at__isnull=True,
            enrolment_expires_at__gt=now,
        )
        .first()
    )


@transaction.atomic
def screen_enrol(*, code: str, now=None) -> tuple[BoardScreen, str]:
    """Spend the one-time code: the screen's device token (for its cookie). The code is the credential: whoever
    holds it is the screen the admin registered, so the audit entry has no person as its actor."""
    now = now or timezone.now()
    found = enrolment_screen(code=code, now=now)
    # Locked and read again: two browsers opening the same link at once cannot both become the screen.
    screen = (
        BoardScreen.objects.select_for_update(of=("self",)).select_related("school").get(pk=found.pk) if found else None
    )
    if screen is None or screen.enrolled_at or screen.revoked_at:
        raise ValidationError({"code": "This enrolment link has been used, has expired or was switched off."})
    token = secrets.token_urlsafe(32)
    screen.device_token_hash = token_hash(token)
    screen.enrolment_code_hash = ""
    screen.enrolled_at = now
    screen.save(update_fields=["device_token_hash", "enrolment_code_hash", "enrolled_at"])
    audit(actor=None, action="board_screen.enrol", obj=screen, summary=f"Board screen {screen} enrolled")
    return screen, token


@transaction.atomic
def screen_revoke(*, actor, screen: BoardScreen, now=None) -> BoardScreen:
    """Switch the screen off: its next request is refused (the cached view of it is dropped at once)."""
    if not may_manage_board_screens(actor, screen.school):
        raise PermissionDenied("Only a trust admin of this school switches off its board screens.")
    screen = BoardScreen.objects.select_for_update(of=("self",)).select_related("school").get(pk=screen.pk)
    if screen.revoked_at:
        return screen
    screen.revoked_at = now or timezone.now()
    screen.revoked_by = actor
    screen.enrolment_code_hash = ""
    screen.save(update_fields=["revoked_at", "revoked_by", "enrolment_code_hash"])
    forget_screen(screen)
    audit(actor=actor, action="board_screen.revoke", obj=screen, summary=f"Switched off board screen {screen}")
    return screen


def screens_for(*, user) -> QuerySet[BoardScreen]:
    """The screens of the schools this user manages them for, with what the list shows."""
    if not (user.is_superuser or has_role(user, Role.TRUST_ADMIN)):
        return BoardScreen.objects.none()
    return BoardScreen.objects.filter(school_id__in=school_ids_where(user, Role.TRUST_ADMIN)).select_related(
        "school", "created_by", "revoked_by"
    )
