"""Model fields shared by every app: UK postcodes, and text encrypted at rest."""

from cryptography.fernet import InvalidToken
from django.core.exceptions import ValidationError
from django.db import models
from localflavor.gb.forms import GBPostcodeField

from .crypto import TOKEN_PREFIX, decrypt, encrypt


def normalise_postcode(value: str) -> str:
    """'lu11aa' -> 'LU1 1AA'. Raises ValidationError for something that is not a UK postcode."""
    return GBPostcodeField().clean(value)


class PostcodeField(models.CharField):
    """A UK postcode, validated and stored in its normal form by django-localflavor."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 8)
        kwargs.setdefault("validators", [normalise_postcode])
        super().__init__(*args, **kwargs)

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if value:
            try:
                value = normalise_postcode(value)
            except ValidationError:
                return value  # full_clean reports it; the DB keeps what was typed rather than crash.
            setattr(model_instance, self.attname, value)
        return value


class EncryptedTextField(models.TextField):
    """Plain text in Python, a Fernet token in the database and in serialised exports (dumpdata).

    Tokens differ on every save, so the field cannot be filtered on; nothing needs to.
    """

    def from_db_value(self, value, expression, connection):
        return None if value in (None, "") else decrypt(value)

    def to_python(self, value):
        # loaddata hands back what dumpdata wrote: a token.
        if isinstance(value, str) and value.startswith(TOKEN_PREFIX):
            try:
                return decrypt(value)
            except InvalidToken:
                return value
        return value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return value if value in (None, "") else encrypt(value)

    def value_to_string(self, obj):
        value = self.value_from_object(obj)
        return value if value in (None, "") else encrypt(value)
