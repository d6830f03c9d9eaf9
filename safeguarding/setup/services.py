from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from core.audit import audit

from ..models import SetupConfirmation
from .checklist import may_confirm


@transaction.atomic
def setup_confirm(*, school, item: str, actor, now=None) -> SetupConfirmation:
    """The Principal or a trust admin says the policy values are right; a DSL or the Principal says the school has
    no prohibited addresses. Saying it again keeps the first confirmation."""
    if item not in SetupConfirmation.Item.values or not may_confirm(actor, school, item):
        raise PermissionDenied("You do not confirm this for this school.")
    confirmation, created = SetupConfirmation.objects.get_or_create(
        school=school, item=item, defaults={"confirmed_by": actor, "confirmed_at": now or timezone.now()}
    )
    if created:
        audit(
            actor=actor,
            action="setup.confirm",
            obj=confirmation,
            school=school,
            summary=f"{school}: {SetupConfirmation.Item(item).label}",
        )
    return confirmation
