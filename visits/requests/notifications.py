"""Emails about requests and decisions. Need to know: a subject and a link, never the reason or the family.

Called after the transaction commits (the services queue them with `transaction.on_commit`), with ids, so a
rolled-back change never sends an email.
"""

from django.conf import settings
from django.core.mail import send_mass_mail
from django.urls import reverse

from core.selectors import users_with_role

from ..models import AuthorisationDecision, Visit
from . import policy


def _link(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def approvers_for(visit: Visit):
    """Who can decide this request (policy.who_decides), less anyone on it or who asked for it."""
    roles = policy.who_decides(visit).roles
    involved = {visit.requested_by_id} | {p.user_id for p in visit.people.all() if p.user_id}
    return users_with_role(school=visit.school, roles=roles).exclude(pk__in=involved).exclude(email="")


def notify_approvers(visit_id: int) -> int:
    visit = Visit.objects.select_related("school").get(pk=visit_id)
    url = _link(reverse("approval_decide", args=[visit.pk]))
    body = (
        f"A home visit request at {visit.school} is waiting for your decision.\n\n"
        f"Open it to read the details and decide (you will be asked to sign in):\n{url}\n"
    )
    messages = [
        ("Home visit request awaiting your decision", body, None, [user.email]) for user in approvers_for(visit)
    ]
    return send_mass_mail(messages, fail_silently=False)


def notify_requester(decision_id: int) -> int:
    decision = AuthorisationDecision.objects.select_related("visit__requested_by", "visit__school").get(pk=decision_id)
    requester = decision.visit.requested_by
    if not requester.email:
        return 0
    url = _link(decision.visit.get_absolute_url())
    body = (
        f"Your home visit request at {decision.visit.school} has been decided: "
        f"{decision.get_decision_display().lower()}.\n\nOpen it to see the decision and any conditions:\n{url}\n"
    )
    return send_mass_mail([("Your home visit request has been decided", body, None, [requester.email])])
