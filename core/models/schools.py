"""The trust and its schools."""

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from phonenumber_field.modelfields import PhoneNumberField

from ..fields import PostcodeField
from .policy import EffectivePolicy


class Trust(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class School(models.Model):
    trust = models.ForeignKey(Trust, on_delete=models.PROTECT, related_name="schools")
    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    address_line1 = models.CharField("address line 1", max_length=200)
    address_line2 = models.CharField("address line 2", max_length=200, blank=True)
    town = models.CharField(max_length=100)
    postcode = PostcodeField()
    phone = PhoneNumberField()
    email = models.EmailField(blank=True)
    logo = models.ImageField(upload_to="school-logos/", blank=True)
    urn = models.CharField(
        "URN",
        max_length=6,
        blank=True,
        validators=[RegexValidator(r"^\d{6}$", "A URN is six digits.")],
        help_text="The school's Unique Reference Number (Get Information about Schools). An MIS export that names "
        "another school's URN is refused.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["urn"], condition=~Q(urn=""), name="school_urn_unique")]

    def __str__(self):
        return self.name

    @property
    def address(self) -> str:
        parts = [self.address_line1, self.address_line2, self.town, self.postcode]
        return ", ".join(p for p in parts if p)

    def policy(self) -> "EffectivePolicy":
        """The values this school works to: its own overrides on top of its trust's defaults."""
        return EffectivePolicy.for_school(self)
