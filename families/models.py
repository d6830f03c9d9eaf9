"""Households, their parents and carers, and the children on a school's roll."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from core.fields import PostcodeField
from core.models import School
from core.scoping import SchoolScopedQuerySet


class Household(models.Model):
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="households")
    name = models.CharField(max_length=100, help_text="How staff refer to the family, e.g. 'Okafor family'.")
    address_line1 = models.CharField("address line 1", max_length=200)
    address_line2 = models.CharField("address line 2", max_length=200, blank=True)
    town = models.CharField(max_length=100)
    postcode = PostcodeField()
    phone = PhoneNumberField(blank=True)
    home_languages = models.CharField(max_length=200, blank=True, help_text="e.g. English, Polish")
    interpreter_needed = models.BooleanField(default=False)
    access_notes = models.TextField(
        blank=True, help_text="What visitors should know at the door: animals, stairs, parking, entry."
    )

    objects = SchoolScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name}, {self.postcode}"

    @property
    def address(self) -> str:
        parts = [self.address_line1, self.address_line2, self.town, self.postcode]
        return ", ".join(p for p in parts if p)

    @property
    def carers_with_needs(self) -> list["ParentCarer"]:
        """The carers whose language or literacy visitors should know of before they knock (the policies: do not
        assume that every parent reads or speaks English well)."""
        return [c for c in self.carers.all() if c.language or c.literacy_support_needed]


class ParentCarer(models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="carers")
    title = models.CharField(max_length=20, blank=True, help_text="As they wish to be addressed, e.g. Ms, Mx, Dr.")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, help_text="Their own surname: do not assume it is the child's.")
    relationship = models.CharField(max_length=50, help_text="To the child, e.g. mother, grandfather, foster carer.")
    parental_responsibility = models.BooleanField(default=True)
    phone = PhoneNumberField(blank=True)
    email = models.EmailField(blank=True)
    language = models.CharField(max_length=50, blank=True, help_text="Preferred language.")
    literacy_support_needed = models.BooleanField(
        default=False, help_text="Read letters aloud or explain them; do not rely on written notes alone."
    )

    class Meta:
        ordering = ["household", "last_name", "first_name"]
        verbose_name = "parent or carer"
        verbose_name_plural = "parents and carers"

    def __str__(self):
        return self.addressed_as

    @property
    def addressed_as(self) -> str:
        return " ".join(p for p in [self.title, self.first_name, self.last_name] if p)


class YearGroup(models.TextChoices):
    NURSERY = "N", "Nursery"
    RECEPTION = "R", "Reception"
    Y1 = "1", "Year 1"
    Y2 = "2", "Year 2"
    Y3 = "3", "Year 3"
    Y4 = "4", "Year 4"
    Y5 = "5", "Year 5"
    Y6 = "6", "Year 6"
    Y7 = "7", "Year 7"
    Y8 = "8", "Year 8"
    Y9 = "9", "Year 9"
    Y10 = "10", "Year 10"
    Y11 = "11", "Year 11"
    Y12 = "12", "Year 12"
    Y13 = "13", "Year 13"


class ChildQuerySet(SchoolScopedQuerySet):
    def on_roll(self, on: datetime.date | None = None):
        """Children still at the school on that day (today by default): a leaver keeps their records and history
        but is not chosen for anything new."""
        on = on or timezone.localdate()
        return self.filter(Q(left_on__isnull=True) | Q(left_on__gt=on))


class Child(models.Model):
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="children")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="children")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    year_group = models.CharField(max_length=2, choices=YearGroup.choices)
    key_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="key_children"
    )
    social_worker_name = models.CharField(max_length=100, blank=True)
    social_worker_agency = models.CharField(max_length=100, blank=True)
    social_worker_phone = PhoneNumberField(blank=True)
    left_on = models.DateField(
        null=True, blank=True, help_text="The day the child left the school's roll; their records stay."
    )
    # The keys the MIS import matches on (families/imports): the UPN, else the MIS's own id for the pupil.
    upn = models.CharField(
        "UPN", max_length=13, blank=True, help_text="Unique Pupil Number, as the MIS holds it (13 characters)."
    )
    mis_id = models.CharField("MIS id", max_length=50, blank=True, help_text="The pupil's id in the school's MIS.")

    objects = ChildQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name_plural = "children"
        constraints = [
            models.CheckConstraint(name="year_group_valid", condition=Q(year_group__in=YearGroup.values)),
            models.UniqueConstraint(fields=["school", "upn"], condition=~Q(upn=""), name="child_upn_unique_per_school"),
            models.UniqueConstraint(
                fields=["school", "mis_id"], condition=~Q(mis_id=""), name="child_mis_id_unique_per_school"
            ),
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"

    def clean(self):
        if self.household_id and self.school_id and self.household.school_id != self.school_id:
            raise ValidationError({"household": "This household belongs to another school."})
        if self.date_of_birth and self.date_of_birth > datetime.date.today():
            raise ValidationError({"date_of_birth": "The date of birth cannot be in the future."})
        if self.social_worker_phone and not self.social_worker_name:
            raise ValidationError({"social_worker_name": "Give the social worker's name with their phone."})

    def is_on_roll(self, on: datetime.date | None = None) -> bool:
        return self.left_on is None or self.left_on > (on or timezone.localdate())

    @property
    def has_social_worker(self) -> bool:
        return bool(self.social_worker_name)


class PupilImportLayout(models.Model):
    """The columns of a school's MIS export, mapped once (families/imports): the next import starts from them."""

    school = models.OneToOneField(School, on_delete=models.CASCADE, related_name="pupil_import_layout")
    preset = models.CharField(max_length=20, blank=True)
    mapping = models.JSONField(default=dict, help_text="Our field -> the export's column(s).")
    saved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    saved_at = models.DateTimeField()

    def __str__(self):
        return f"MIS export layout of {self.school}"
