"""Encryption at rest for the safe word (Fernet, keys from the SAFE_WORD_KEY environment variable).

SAFE_WORD_KEY may hold several comma-separated keys: the first encrypts, all decrypt, so keys can be rotated.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

TOKEN_PREFIX = "gAAAAA"  # every Fernet token starts with its version byte and timestamp, base64-encoded


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in settings.SAFE_WORD_KEYS])


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


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
