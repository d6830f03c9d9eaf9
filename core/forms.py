"""What every app's forms share: turning a service's refusal into messages beside the right fields."""

from django.core.exceptions import ValidationError


def add_service_errors(form, error: ValidationError, field_map: dict[str, str] | None = None) -> None:
    """A rule checked in a service, shown beside the field it is about (or at the top of the form), so what was
    typed stays on the page. `field_map` names the form field for a service's field where they differ."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, messages in error.message_dict.items():
        target = (field_map or {}).get(field, field)
        form.add_error(target if target in form.fields else None, messages)
