"""Staff profiles: someone's contact details, training and vehicle (where they work: core.models.Membership)."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from phonenumber_field.modelfields import PhoneNumberField


class StaffProfile(models.Model):
    """A member of staff: contact details, training and vehicle. Their roles at each school are memberships."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    job_title = models.CharField(max_length=100, blank=True)
    mobile = PhoneNumberField(blank=True)
    training_completed_on = models.DateField("safer-working-practice training completed", null=True, blank=True)
    training_expires_on = models.DateField("safer-working-practice training expires", null=True, blank=True)
    vehicle_description = models.CharField(max_length=100, blank=True, help_text="Make, model and colour.")
    vehicle_registration = models.CharField(max_length=10, blank=True)
    business_insurance_confirmed = models.BooleanField(
        default=False, help_text="The car is insured for business use (needed to drive to visits)."
    )

    class Meta:
        ordering = ["user__last_name", "user__first_name"]
        constraints = [
            models.CheckConstraint(
                name="training_expires_after_completed",
                condition=Q(training_completed_on__isnull=True)
                | Q(training_expires_on__isnull=True)
                | Q(training_expires_on__gt=models.F("training_completed_on")),
            ),
        ]

    def __str__(self):
        return self.user.get_full_name() or self.user.username

    def get_absolute_url(self):
        return reverse("admin:core_staffprofile_change", args=[self.pk])

    def clean(self):
        done, expires = self.training_completed_on, self.training_expires_on
        if done and expires and expires <= done:
            raise ValidationError({"training_expires_on": "The expiry must be after the training date."})
        self.vehicle_registration = self.vehicle_registration.upper().replace(" ", "")

    def training_valid_on(self, day: datetime.date) -> bool:
        return bool(self.training_expires_on and self.training_expires_on >= day)
