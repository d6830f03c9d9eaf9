"""Who is signed in, without three database queries on every request.

Every page needs the user, their memberships (roles at schools) and, for a superuser, the schools. The office
board polls every few seconds from each screen at reception, so these are kept in the cache (Redis in
production, shared by every process) as one entry per user, stamped with that user's version: a second key,
also in the cache, which is replaced whenever anything the entry holds changes (the user row: a password change,
a deactivation, a new name; their memberships; a new school, for superusers), once at the change and again when
it commits. A request reads both keys in one round trip and trusts the entry only if its stamp is the current
version, so a change made in any process holds from the next request in every process, and a request that read
the old rows just before the commit cannot put them back for later ones. A short time-out is the backstop for
writes that send no signal (a queryset .update()).

Memberships travel with their dates and are compared with today's date on every question (core.roles), so one
that starts or ends at midnight takes effect then, cached or not. (The session itself is read on every request:
logging out ends it at once.)
"""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from .models import Membership, School, StaffProfile
from .roles import membership_spans
from .scoping import school_ids_for

USER_CACHE_SECONDS = 30


def user_cache_key(user_id) -> str:
    return f"signed-in-user:{user_id}"


def user_version_key(user_id) -> str:
    return f"signed-in-user-version:{user_id}"


class CachedModelBackend(ModelBackend):
    """Django's ModelBackend, whose get_user (called once per request) answers from the cache."""

    def get_user(self, user_id):
        user = self._cached_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def _cached_user(self, user_id):
        key, version_key = user_cache_key(user_id), user_version_key(user_id)
        found = cache.get_many([key, version_key])
        version = found.get(version_key)
        if version is None:
            # No version yet (or the cache lost it): start one; whatever entry is left carries another stamp.
            cache.add(version_key, secrets.token_hex(8), None)
            version = cache.get(version_key)
        entry = found.get(key)
        if entry is not None and entry[0] == version:
            return entry[1]
        user = super().get_user(user_id)
        if user is None:
            return None
        # Read these now so they travel with the cached user (each is kept on the instance).
        membership_spans(user)
        school_ids_for(user)
        cache.set(key, (version, user), USER_CACHE_SECONDS)
        return user


def forget_users(user_ids) -> None:
    """A new version for each of these users, now and once the change commits: their cached entries stop counting."""
    user_ids = list(user_ids)
    if not user_ids:
        return

    def forget():
        cache.set_many({user_version_key(pk): secrets.token_hex(8) for pk in user_ids}, None)
        cache.delete_many([user_cache_key(pk) for pk in user_ids])

    forget()
    transaction.on_commit(forget)


def _on_user_saved(sender, instance, **kwargs):
    forget_users([instance.pk])


def _on_user_part_saved(sender, instance, **kwargs):
    forget_users([instance.user_id])


def _on_school_saved(sender, instance, created, **kwargs):
    if created:  # superusers see every school
        forget_users(list(get_user_model().objects.filter(is_superuser=True).values_list("pk", flat=True)))


def connect_signals() -> None:
    user_model = get_user_model()
    post_save.connect(_on_user_saved, sender=user_model, dispatch_uid="forget-user-saved")
    post_delete.connect(_on_user_saved, sender=user_model, dispatch_uid="forget-user-deleted")
    post_save.connect(_on_user_part_saved, sender=StaffProfile, dispatch_uid="forget-profile-saved")
    post_delete.connect(_on_user_part_saved, sender=StaffProfile, dispatch_uid="forget-profile-deleted")
    post_save.connect(_on_user_part_saved, sender=Membership, dispatch_uid="forget-membership-saved")
    post_delete.connect(_on_user_part_saved, sender=Membership, dispatch_uid="forget-membership-deleted")
    post_save.connect(_on_school_saved, sender=School, dispatch_uid="forget-superusers-new-school")
