"""Encryption at rest for the safe word (Fernet, keys from the SAFE_WORD_KEY environment variable).

SAFE_WORD_KEY may hold several comma-separated keys: the first encrypts, all decrypt, so keys can be rotated.
"""

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings

TOKEN_PREFIX = "gAAAAA"  # every Fernet token starts with its version byte and timestamp, base64-encoded


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in settings.SAFE_WORD_KEYS])


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()
