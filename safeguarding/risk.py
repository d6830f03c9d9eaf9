"""A risk row's level, from the school's risk matrix (the standard one is in core/standards.py)."""

from django.core.exceptions import ValidationError


def risk_level(matrix: dict, severity: str, likelihood: str) -> str:
    """The level the school's matrix gives to this severity and likelihood."""
    try:
        return matrix["levels"][severity][likelihood]
    except KeyError:
        raise ValidationError("Choose a severity and likelihood from the school's risk matrix.") from None
