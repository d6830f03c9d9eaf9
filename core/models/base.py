"""Abstract bases for models of every app."""

from django.core.exceptions import ValidationError
from django.db import models


class PermanentRecord(models.Model):
    """A row that is written once and never edited or deleted: the record of who decided what."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and type(self).objects.filter(pk=self.pk).exists():
            raise ValidationError(f"A {self._meta.verbose_name} is a permanent record and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(f"A {self._meta.verbose_name} is a permanent record and cannot be deleted.")
