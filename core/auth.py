"""Who is signed in, without three database queries on every request.

Every page needs the user, their roles and their schools. The office board polls every few seconds from each
screen at reception, so these are kept in the cache (Redis in production, shared by every process) as one
entry per user. The entry is dropped whenever anything it holds changes: the user row (a password change, a
deactivation, a new name), their groups or their profile's schools, and dropped again when that change commits
so that no request in between can put the old values back. A short time-out is the backstop for writes that
send no signal (a queryset .update()).

Each process also remembers what it read until the clock's second turns, so a screen polling many times a
second costs no cache round trip for the user either. A change is seen at once by the process that made it and
within a second by the others. (The session itself is read on every request: logging out ends it at once.)
"""

import pickle
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from .models import School, StaffProfile
from .roles import user_roles
from .scoping import school_ids_for

USER_CACHE_SECONDS = 30


def user_cache_key(user_id) -> str:
    return f"signed-in-user:{user_id}"


# user id -> (the second it was read, the pickled user): each request unpickles its own copy.
_recent_users: dict[int, tuple[int, bytes]] = {}


class CachedModelBackend(ModelBackend):
    """Django's ModelBackend, whose get_user (called once per request) answers from the cache."""

    def get_user(self, user_id):
        second = int(time.time())
        recent = _recent_users.get(user_id)
        if recent and recent[0] == second:
            user = pickle.loads(recent[1])  # noqa: S301 - written by this process, a line below
        else:
            user = self._cached_user(user_id)
            if user is None:
                return None
            _recent_users[user_id] = (second, pickle.dumps(user))
        return user if self.user_can_authenticate(user) else None

    def _cached_user(self, user_id):
        key = user_cache_key(user_id)
        user = cache.get(key)
        if user is None:
            user = super().get_user(user_id)
            if user is None:
                return None
            # Work these out now so they travel with the cached user (both are cached on the instance).
            user_roles(user)
            school_ids_for(user)
            cache.set(key, user, USER_CACHE_SECONDS)
        return user


def forget_users(user_ids) -> None:
    user_ids = list(user_ids)
    if not user_ids:
        return
    keys = [user_cache_key(pk) for pk in user_ids]

    def forget():
        cache.delete_many(keys)
        for pk in user_ids:
            _recent_users.pop(pk, None)

    forget()
    transaction.on_commit(forget)


def forget_recent_users() -> None:
    """For tests: each test builds its own world."""
    _recent_users.clear()


def _on_user_saved(sender, instance, **kwargs):
    forget_users([instance.pk])


def _on_profile_saved(sender, instance, **kwargs):
    forget_users([instance.user_id])


# m2m_changed: act after an add or remove (pk_set names the other side), and before a clear (afterwards nobody
# is left to name). Forward, the instance is the user (or profile); reverse, it is the group (or school).
CHANGES = ("post_add", "post_remove", "pre_clear")


def _on_groups_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in CHANGES:
        return
    if not reverse:
        forget_users([instance.pk])
    elif action == "pre_clear":
        forget_users(list(get_user_model().objects.filter(groups=instance).values_list("pk", flat=True)))
    else:
        forget_users(pk_set)


def _on_schools_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in CHANGES:
        return
    if not reverse:
        forget_users([instance.user_id])
    else:
        profiles = (
            StaffProfile.objects.filter(schools=instance)
            if action == "pre_clear"
            else (StaffProfile.objects.filter(pk__in=pk_set))
        )
        forget_users(list(profiles.values_list("user_id", flat=True)))


def _on_school_saved(sender, instance, created, **kwargs):
    if created:  # superusers see every school
        forget_users(list(get_user_model().objects.filter(is_superuser=True).values_list("pk", flat=True)))


def connect_signals() -> None:
    user_model = get_user_model()
    post_save.connect(_on_user_saved, sender=user_model, dispatch_uid="forget-user-saved")
    post_delete.connect(_on_user_saved, sender=user_model, dispatch_uid="forget-user-deleted")
    post_save.connect(_on_profile_saved, sender=StaffProfile, dispatch_uid="forget-profile-saved")
    post_delete.connect(_on_profile_saved, sender=StaffProfile, dispatch_uid="forget-profile-deleted")
    m2m_changed.connect(_on_groups_changed, sender=user_model.groups.through, dispatch_uid="forget-groups")
    m2m_changed.connect(_on_schools_changed, sender=StaffProfile.schools.through, dispatch_uid="forget-schools")
    post_save.connect(_on_school_saved, sender=School, dispatch_uid="forget-superusers-new-school")
