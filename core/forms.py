"""What every app's forms share: the base form that refuses control characters, and turning a service's refusal
into messages beside the right fields."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe


def add_service_errors(form, error: ValidationError, field_map: dict[str, str] | None = None) -> None:
    """A rule checked in a service, shown beside the field it is about (or at the top of the form), so what was
    typed stays on the page. `field_map` names the form field for a service's field where they differ."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, messages in error.message_dict.items():
        target = (field_map or {}).get(field, field)
        form.add_error(target if target in form.fields else None, messages)


# Control characters break the PDFs and CSV exports, and PostgreSQL cannot store NUL at all. Multi-line text
# keeps its tab, newline and carriage return; a single-line field has no use for any of them.
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def control_character_problem(value, *, multiline: bool) -> str:
    """The message for the first control character in `value` (a string or a list of them), or ""."""
    pattern = _CONTROL_MULTILINE if multiline else _CONTROL_SINGLE_LINE
    for text in value if isinstance(value, list | tuple) else [value]:
        if isinstance(text, str) and (found := pattern.search(text)):
            return (
                f"This contains an invisible control character (U+{ord(found.group()):04X}, at character "
                f"{found.start() + 1}) that cannot be stored. Delete it (retyping the text around it helps) "
                "and save again."
            )
    return ""


def without_control_characters(text: str) -> str:
    """For what is only searched with, never stored: a search box's text, where a refusal would help nobody."""
    return _CONTROL_SINGLE_LINE.sub("", text)


def is_multiline(field) -> bool:
    return isinstance(field.widget, forms.Textarea)


class RefuseControlCharacters:
    """Every field of the form refuses control characters with a message beside it. The check runs before the
    field's own cleaning, so no query or service ever sees the character."""

    def full_clean(self):
        if self.is_bound:
            for name, field in self.fields.items():
                if field.disabled:
                    continue
                problem = control_character_problem(self[name].data, multiline=is_multiline(field))
                if problem:
                    field.clean = _refusal(problem)  # this form's own copy of the field
        super().full_clean()


def _refusal(message):
    def clean(value):
        raise ValidationError(message, code="control_character")

    return clean


class Form(RefuseControlCharacters, forms.Form):
    """The base of every form of the product."""


# A formset row costs a form's worth of cleaning: a post claiming thousands of rows is refused before any is built.
FORMSET_MAX_ROWS = 30


class CappedFormSet(forms.BaseFormSet):
    default_error_messages = {
        "too_many_forms": "At most %(num)d rows can be saved at once. Remove some rows and save again.",
    }


def formset_factory(form, formset=CappedFormSet, **kwargs):
    """Django's formset_factory with the product's cap: at most FORMSET_MAX_ROWS rows, and a post that claims more
    is refused (validate_max), with no more than that many forms ever built (absolute_max)."""
    kwargs.setdefault("max_num", FORMSET_MAX_ROWS)
    kwargs.setdefault("absolute_max", kwargs["max_num"])
    return forms.formset_factory(form, formset=formset, validate_max=True, **kwargs)


class QuickSelect(forms.Select):
    """A <select> whose options are written here rather than through a template each: Django's per-option
    templates cost about a millisecond per ten options, which a list of a school's children (hundreds) feels."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (option["value"], mark_safe(" selected") if option["selected"] else "", option["label"])
                for _, group, _ in widget["optgroups"]
                for option in group
            ),
        )
        return format_html('<select name="{}"{}>{}</select>', widget["name"], flatatt(widget["attrs"]), options)
