"""Getting ready to leave: the safe word, what was done beforehand, and checklist items set aside."""

from django.conf import settings
from django.db import models

from core.fields import EncryptedTextField
from core.roles import Role
from safeguarding.models import RiskAssessment

from .visit import Visit


class SafeWord(models.Model):
    """The code word the pair agree for a visit, recorded with the risk assessment and encrypted at rest."""

    visit = models.OneToOneField(Visit, on_delete=models.CASCADE, related_name="safe_word")
    risk_assessment = models.ForeignKey(RiskAssessment, on_delete=models.PROTECT, related_name="safe_words")
    word = EncryptedTextField()
    agreed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agreed_at = models.DateTimeField()

    def __str__(self):
        return f"Safe word for visit #{self.visit_id}"  # never the word itself: __str__ reaches logs and admin

    @property
    def school(self):
        return self.risk_assessment.household.school


class VisitPreparation(models.Model):
    """What was done before the visit that the checklist asks about: parents, Headteacher, social worker."""

    visit = models.OneToOneField(Visit, on_delete=models.CASCADE, related_name="preparation")
    headteacher_informed_at = models.DateTimeField(null=True, blank=True)
    headteacher_informed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    social_worker_informed_at = models.DateTimeField(null=True, blank=True)
    social_worker_informed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    social_worker_told_after = models.BooleanField(
        default=False, help_text="The social worker will be told straight after the visit."
    )
    social_worker_note = models.CharField(max_length=300, blank=True)

    def __str__(self):
        return f"Preparation for visit #{self.visit_id}"


class ChecklistOverride(models.Model):
    """A pre-departure checklist item set aside by the role the school's policy names, with the reason."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="checklist_overrides")
    item = models.CharField(max_length=30)
    reason = models.TextField()
    role = models.CharField(max_length=20, choices=Role.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["visit", "item"]
        constraints = [models.UniqueConstraint(fields=["visit", "item"], name="one_override_per_checklist_item")]

    def __str__(self):
        return f"{self.item} overridden on visit #{self.visit_id}"
