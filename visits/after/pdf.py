"""The documents the family receives, rendered to A4 PDF by WeasyPrint: take a visit, return bytes. And the one
document for staff, the child's file (visits/records/child_file.py builds what it holds).

The templates get a plain dictionary built here from the parent-facing fields only, never a model instance,
so a template cannot reach internal notes, concerns, the risk assessment or the safe word by accident.
"""

from functools import cache
from pathlib import Path

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_noop
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from ..models import FollowUpAction, Visit, VisitRole
from .letter_language import family_language, needs_plain_words

# The plain-words purpose the family reads, rather than the school's internal label. Marked for translation here;
# the letters translate them where they are used ({% both %}).
PURPOSE_FOR_FAMILY = {
    "transition": gettext_noop("to get to know your child before they start with us"),
    "attendance": gettext_noop("to talk about your child's attendance at school"),
    "send_support": gettext_noop("to talk about the support your child has for special educational needs"),
    "family_support": gettext_noop("to see how we can support your family"),
    "welfare_check": gettext_noop("to check in with you and your child"),
    "work_drop_off": gettext_noop("to drop off or collect your child's school work"),
    "medical_absence": gettext_noop("to see how your child is while they are unwell and away from school"),
    "suspected_holiday": gettext_noop("to talk about your child's absence from school"),
    "collect_or_drop_child": gettext_noop("to collect your child or bring them home"),
    "refusing_to_attend": gettext_noop("to talk about how we can help your child come to school"),
    "elective_home_education": gettext_noop("to talk about educating your child at home"),
    "other": gettext_noop("to talk with you about your child"),
}


def _school(visit: Visit) -> dict:
    school = visit.school
    logo = ""
    if school.logo:
        try:
            path = Path(school.logo.path)
            logo = path.as_uri() if path.exists() else ""
        except (ValueError, NotImplementedError):
            logo = ""
    return {
        "name": school.name,
        "address": school.address,
        "phone": str(school.phone.as_national if school.phone else ""),
        "email": school.email,
        "logo": logo,
    }


def _visitors(visit: Visit) -> list[dict]:
    people = []
    for person in visit.people.all():
        if person.role == VisitRole.EXTERNAL:
            role = f"{person.external_organisation}"
        else:
            profile = getattr(person.user, "profile", None)
            role = (profile.job_title if profile and profile.job_title else "") or "School staff"
        people.append({"name": person.name, "role": role, "visit_role": person.get_role_display()})
    return people


def addressed_to(carers: list[str]) -> str:
    """The first line of the address block: the carers by name, or all of them at once when more than two."""
    return " and ".join(carers) if 0 < len(carers) <= 2 else "The parents and carers"


def _common(visit: Visit) -> dict:
    start = timezone.localtime(visit.scheduled_start)
    everyone = list(visit.household.carers.all())
    lead = next((p for p in visit.people.all() if p.role == VisitRole.LEAD), None)
    carers = [c.addressed_as for c in everyone if c.parental_responsibility] or [c.addressed_as for c in everyone]
    household = visit.household
    address_lines = [
        x for x in [household.address_line1, household.address_line2, household.town, household.postcode] if x
    ]
    school = _school(visit)
    children = [f"{c.first_name} {c.last_name}" for c in visit.children.all()]
    return {
        "school": school,
        "date": start,
        "time": f"{start:%H:%M}",
        "children": children,
        "children_names": ", ".join(children),
        "dear": " and ".join(carers) if carers else gettext_noop("Parent or carer"),
        "carers": carers,
        "address_lines": address_lines,
        # What shows in an envelope's window: the carers, then the address (Notify reads it from there).
        "address_block": [addressed_to(carers), *address_lines],
        "purpose": PURPOSE_FOR_FAMILY.get(visit.purpose, PURPOSE_FOR_FAMILY["other"]),
        "visitors": _visitors(visit),
        "contact_name": lead.name if lead else "",
        "contact": lead.name if lead else gettext_noop("the school office"),
        "contact_phone": school["phone"] or school["name"],
        # Besides English, the family's language (None: English only); the plain-words box for literacy support.
        "family_language": family_language(household, everyone),
        "plain": needs_plain_words(household, everyone),
    }


def parent_copy_context(visit: Visit) -> dict:
    """What the parent copy may show. Nothing else reaches the template."""
    report = visit.report
    context = _common(visit)
    arrived = timezone.localtime(report.arrived_at) if report.arrived_at else None
    departed = timezone.localtime(report.departed_at) if report.departed_at else None
    actions = FollowUpAction.objects.filter(visit=visit, agreed_with_family=True, concern__isnull=True)
    context.update(
        arrived=arrived,
        departed=departed,
        outcome=report.get_outcome_display(),
        summary=report.parent_summary,
        present=[{"name": p.name, "relationship": p.relationship} for p in report.present.all()],
        actions=[{"description": a.description, "due_on": a.due_on} for a in actions],
        next_visit_on=report.next_visit_on,
    )
    return context


@cache
def _style(sheet: str = "pdf.css") -> tuple[FontConfiguration, CSS]:
    """Fonts and the stylesheet, prepared once per process: re-reading them made up much of each render."""
    fonts = FontConfiguration()
    return fonts, CSS(filename=str(Path(__file__).with_name(sheet)), font_config=fonts)


def _render(template: str, context: dict, *, sheet: str = "pdf.css") -> bytes:
    html = render_to_string(template, context)
    fonts, css = _style(sheet)
    # base_url lets the school logo load from MEDIA_ROOT as a file: URI; nothing is fetched over the network.
    return HTML(string=html, base_url=str(Path(__file__).resolve().parent)).write_pdf(
        stylesheets=[css], font_config=fonts
    )


def _visit_with_related(visit: Visit) -> Visit:
    return (
        Visit.objects.select_related("school", "household", "report")
        .prefetch_related("people__user__profile", "children", "household__carers", "report__present")
        .get(pk=visit.pk)
    )


def parent_copy_pdf(visit: Visit) -> bytes:
    """The Home Visit Form, parent/carer copy (policy 002, Appendix 2)."""
    return _render("visits/pdf/parent_copy.html", parent_copy_context(_visit_with_related(visit)))


def _missed_you_visit(visit: Visit) -> Visit:
    return (
        Visit.objects.select_related("school", "household")
        .prefetch_related("people__user__profile", "children", "household__carers")
        .get(pk=visit.pk)
    )


def missed_you_pdf(visit: Visit) -> bytes:
    """The "sorry we missed you" letter posted through the door when nobody answers."""
    return _render("visits/pdf/missed_you.html", _common(_missed_you_visit(visit)))


def postal_address(visit: Visit) -> list[str]:
    """The address block both letters print in the envelope window: what the sender confirms before posting."""
    return _common(_missed_you_visit(visit))["address_block"]


def child_file_pdf(context: dict) -> bytes:
    """The child's file for the DSL (and the next school's DSL): what visits/records/child_file.py gathered."""
    return _render("visits/pdf/child_file.html", context, sheet="file.css")


def subject_access_pdf(data: dict) -> bytes:
    """A subject access export for reading, from the reviewed (redacted) data visits/records/subject_access.py made."""
    return _render("visits/pdf/subject_access.html", data, sheet="file.css")
