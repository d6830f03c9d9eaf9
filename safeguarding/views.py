"""Pages for the safeguarding records: the prohibited-addresses list, training, risk assessments and the
address check. Thin views: forms check input, services change state (with audit), selectors scope reads."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.audit import audit
from core.decorators import senior_required
from core.forms import add_service_errors
from core.models import Membership, School
from core.permissions import may_see_family_records, school_ids_where
from core.roles import SENIOR, is_senior
from families.access import get_household_for
from families.models import Household

from . import selectors, services
from .forms import (
    ExpireForm,
    ImportForm,
    JudgementForm,
    ProhibitedAddressForm,
    RiskAssessmentForm,
    RiskRowFormSet,
    TrainingRecordForm,
)
from .models import ProhibitedAddressImport
from .prohibited_csv import prohibited_import_prepare


def _scope(user, school):
    """(trust, school) for a new entry: the chosen school, or the whole trust of the user's school."""
    if school is not None:
        return school.trust, school
    first = School.objects.filter(pk__in=school_ids_where(user, *SENIOR)).select_related("trust").first()
    if first is None:
        raise PermissionDenied("You do not work at any school.")
    return first.trust, None


@senior_required
def prohibited_list(request):
    today = timezone.localdate()
    entries = selectors.visible_prohibited(user=request.user).select_related("school", "added_by", "expired_by")
    active = entries.filter(expired_at__isnull=True).filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))
    ended = entries.exclude(pk__in=active.values("pk")).order_by("-expired_at", "-expires_on")[:50]
    pending = selectors.visible_imports(user=request.user).filter(status=ProhibitedAddressImport.Status.PENDING)
    return render(
        request,
        "safeguarding/prohibited_list.html",
        {
            "active": active,
            "ended": ended,
            "pending": pending,
        },
    )


@senior_required
def prohibited_add(request):
    form = ProhibitedAddressForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        trust, school = _scope(request.user, data["school"])
        try:
            entry = services.prohibited_address_add(
                actor=request.user,
                trust=trust,
                school=school,
                address_line1=data["address_line1"],
                address_line2=data["address_line2"],
                town=data["town"],
                postcode=data["postcode"],
                note=data["note"],
                expires_on=data["expires_on"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{entry.address} is on the list.")
            return redirect("safeguarding:prohibited_list")
    return render(
        request,
        "safeguarding/form_page.html",
        {
            "title": "Add a prohibited address",
            "form": form,
            "intro": "An address the local authority says staff must not visit.",
            "back": reverse("safeguarding:prohibited_list"),
        },
    )


@senior_required
def prohibited_expire(request, pk):
    entry = get_object_or_404(selectors.visible_prohibited(user=request.user).filter(expired_at__isnull=True), pk=pk)
    form = ExpireForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.prohibited_address_expire(entry=entry, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{entry.address} is off the list.")
            return redirect("safeguarding:prohibited_list")
    return render(
        request,
        "safeguarding/form_page.html",
        {
            "title": "Take an address off the list",
            "form": form,
            "intro": entry.address,
            "back": reverse("safeguarding:prohibited_list"),
        },
    )


@senior_required
def prohibited_import(request):
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        trust, school = _scope(request.user, form.cleaned_data["school"])
        try:
            batch = prohibited_import_prepare(
                upload=form.cleaned_data["file"], trust=trust, school=school, actor=request.user
            )
        except ValidationError as error:
            form.add_error("file", error.messages)
        else:
            return redirect("safeguarding:prohibited_import_report", pk=batch.pk)
    return render(
        request,
        "safeguarding/form_page.html",
        {
            "title": "Import the local authority's list",
            "form": form,
            "multipart": True,
            "intro": "You will see what would be taken and what would be rejected before anything is imported.",
            "back": reverse("safeguarding:prohibited_list"),
        },
    )


@senior_required
def prohibited_import_report(request, pk):
    batch = get_object_or_404(
        selectors.visible_imports(user=request.user).select_related("school"),
        pk=pk,
    )
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "confirm":
                created = services.prohibited_import_confirm(batch=batch, actor=request.user)
                messages.success(request, f"Imported {len(created)} addresses.")
            elif action == "discard":
                services.prohibited_import_discard(batch=batch, actor=request.user)
                messages.info(request, "Import discarded: nothing was added.")
            else:
                raise ValidationError("Choose import or discard.")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("safeguarding:prohibited_import_report", pk=batch.pk)
        return redirect("safeguarding:prohibited_list")
    return render(request, "safeguarding/prohibited_import_report.html", {"batch": batch})


def _family_household(user, pk):
    """The household if this user needs to know about it (families/access.py); a 404 otherwise."""
    return get_household_for(user, pk, Household.objects.select_related("school"))


@login_required
def household_address_check(request, pk):
    household = _family_household(request.user, pk)
    form = JudgementForm(request.POST or None)
    if request.method == "POST":
        if not (request.user.is_superuser or is_senior(request.user, household.school)):
            raise PermissionDenied("Only a DSL or the Principal judges a near match.")
        if form.is_valid():
            entry = get_object_or_404(
                selectors.active_prohibited(school=household.school), pk=form.cleaned_data["entry"]
            )
            services.address_judgement_record(
                household=household,
                entry=entry,
                actor=request.user,
                same_place=form.cleaned_data["same_place"],
                note=form.cleaned_data["note"],
            )
            messages.success(request, "Judgement recorded.")
            return redirect("safeguarding:address_check", pk=household.pk)
    matches = selectors.prohibited_address_matches(household_or_address=household)
    audit(
        actor=request.user,
        action="prohibited.check",
        obj=household,
        school=household.school,
        summary=f"Checked {household.name}'s address against the list: {len(matches)} match(es)",
    )
    return render(
        request,
        "safeguarding/address_check.html",
        {
            "household": household,
            "matches": matches,
            "form": form,
            "can_judge": request.user.is_superuser or is_senior(request.user, household.school),
        },
    )


@senior_required
def training_due(request):
    today = timezone.localdate()
    senior_at = School.objects.filter(pk__in=school_ids_where(request.user, *SENIOR))
    warning_days = selectors.training_warning_days(schools=senior_at)
    profiles = selectors.training_expiring(user=request.user, today=today, warning_days=warning_days).prefetch_related(
        Prefetch(
            "user__memberships",
            queryset=Membership.objects.active(today).select_related("school").order_by("school__name"),
            to_attr="current_memberships",
        )
    )
    rows = [
        {
            "profile": p,
            "schools": sorted({m.school.name for m in p.user.current_memberships}),
            "expired": not p.training_valid_on(today),
            "days_left": (p.training_expires_on - today).days if p.training_expires_on else None,
        }
        for p in profiles
    ]
    return render(
        request,
        "safeguarding/training_due.html",
        {
            "rows": rows,
            "warning_days": warning_days,
            "today": today,
        },
    )


@senior_required
def training_add(request):
    form = TrainingRecordForm(request.POST or None, user=request.user, initial={"profile": request.GET.get("profile")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.training_record_add(
                profile=data["profile"],
                completed_on=data["completed_on"],
                expires_on=data["expires_on"],
                course=data["course"],
                provider=data["provider"],
                actor=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Training recorded for {data['profile']}.")
            return redirect("safeguarding:training_due")
    return render(
        request,
        "safeguarding/form_page.html",
        {
            "title": "Record safer-working-practice training",
            "form": form,
            "back": reverse("safeguarding:training_due"),
        },
    )


@login_required
def household_risk(request, pk):
    household = _family_household(request.user, pk)
    assessments = list(selectors.risk_assessments_of(household=household)[:20])
    audit(
        actor=request.user,
        action="risk.list",
        obj=household,
        school=household.school,
        summary=f"Viewed the list of {household.name}'s risk assessments ({len(assessments)} shown)",
    )
    return render(
        request,
        "safeguarding/household_risk.html",
        {
            "household": household,
            "assessments": assessments,
            "today": timezone.localdate(),
            "redo_refusal": services.risk_redo_refusal(actor=request.user, household=household),
        },
    )


@login_required
def risk_new(request, pk):
    household = _family_household(request.user, pk)
    refusal = services.risk_redo_refusal(actor=request.user, household=household)
    if refusal:
        raise PermissionDenied(refusal)
    policy = household.school.policy()
    matrix = policy.risk_matrix
    today = timezone.localdate()
    previous = selectors.current_risk_assessment(household=household)
    if previous is not None and request.method == "GET":
        # The new form starts from the last assessment's answers: that is reading it.
        audit(
            actor=request.user,
            action="risk.view",
            obj=previous,
            school=household.school,
            summary=f"Opened a new assessment for {household.name}, starting from {previous}",
        )
    start_rows = (
        [
            {
                "hazard": r.hazard,
                "people": r.people,
                "severity": r.severity,
                "likelihood": r.likelihood,
                "controls": r.controls,
            }
            for r in previous.rows.all()
        ]
        if previous
        else selectors.risk_rows_to_start_from(school=household.school)
    )
    initial = {"review_on": today + datetime.timedelta(days=policy.risk_review_days)}
    if previous:
        initial.update(
            {
                name: getattr(previous, name)
                for name in [
                    "vulnerable_persons",
                    "safeguarding_team_aware",
                    "dangerous_animals",
                    "animals_note",
                    "animals_kept_apart_agreed",
                    "aggressive_adult",
                    "invite_to_school_instead",
                ]
            }
        )
    form = RiskAssessmentForm(request.POST or None, initial=initial, max_review_days=policy.risk_review_days)
    formset = RiskRowFormSet(request.POST or None, initial=start_rows, form_kwargs={"matrix": matrix}, prefix="rows")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        rows = [
            services.RiskRowInput(
                **{k: f.cleaned_data[k] for k in ["hazard", "people", "severity", "likelihood", "controls"]}
            )
            for f in formset.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        try:
            assessment = services.risk_assessment_create(
                household=household, actor=request.user, rows=rows, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Risk assessment saved.")
            return redirect(assessment)
    return render(
        request,
        "safeguarding/risk_form.html",
        {
            "household": household,
            "form": form,
            "formset": formset,
            "matrix": matrix,
        },
    )


@login_required
def risk_detail(request, pk):
    assessment = get_object_or_404(
        selectors.visible_risk_assessments(user=request.user).select_related("household__school"),
        pk=pk,
    )
    if not may_see_family_records(request.user, school=assessment.household.school):
        raise Http404("No such assessment.")
    audit(
        actor=request.user,
        action="risk.view",
        obj=assessment,
        school=assessment.household.school,
        summary=f"Viewed {assessment}",
    )
    return render(
        request,
        "safeguarding/risk_detail.html",
        {
            "assessment": assessment,
            "today": timezone.localdate(),
            "can_sign_off": request.user.is_superuser or is_senior(request.user, assessment.household.school),
        },
    )


@senior_required
@require_POST
def risk_sign_off(request, pk):
    assessment = get_object_or_404(selectors.visible_risk_assessments(user=request.user), pk=pk)
    try:
        services.risk_assessment_sign_off(assessment=assessment, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Signed off.")
    return redirect(assessment)
