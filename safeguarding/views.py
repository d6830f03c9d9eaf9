import datetime

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.audit import audit
from core.models import School, StaffProfile
from core.roles import Role, has_role, is_senior
from core.scoping import school_ids_for

from . import services
from .checklist import checklist_override
from .forms import (
    ConcernCloseForm,
    ConcernForm,
    ExpireForm,
    ImportForm,
    IncidentForm,
    JudgementForm,
    OverrideForm,
    ProhibitedAddressForm,
    RiskAssessmentForm,
    RiskRowFormSet,
    SafeWordForm,
    SocialWorkerForm,
    TrainingRecordForm,
)
from .models import ProhibitedAddress, ProhibitedAddressImport, RiskAssessment
from .prohibited_csv import prohibited_import_prepare
from .selectors import (
    risk_assessments_due,
    training_expiring,
    training_warning_days,
    visible_concerns,
    visible_incidents,
)


def senior_required(view):
    """DSLs and the Principal only; everyone else gets 403."""

    @login_required
    def wrapped(request, *args, **kwargs):
        if not (request.user.is_superuser or is_senior(request.user)):
            raise PermissionDenied("Only a DSL or the Principal can open this page.")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _policies(schools) -> dict:
    """Each school's effective policy, read once per school rather than once per row."""
    return {school.pk: school.policy() for school in schools}


@senior_required
def approvals(request):
    """Requests awaiting a decision at the user's schools, oldest first, with how long each has waited."""
    from visits import policy
    from visits.access import visible_visits

    pending = list(
        visible_visits(request.user, policy.pending_for(request.user))
        .select_related("household", "school", "requested_by")
        .prefetch_related("people__user", "children")[:500]
    )
    policies = _policies({v.school for v in pending})
    now = timezone.now()
    rows = []
    for visit in pending:
        school_policy = policies[visit.school_id]
        rows.append(
            {
                "visit": visit,
                "age_text": policy.age_words(policy.age(visit, now)),
                "exceptions": policy.principal_exceptions(visit, school_policy),
                "refusal": policy.decision_refusal(request.user, visit, approving=False, policy=school_policy),
            }
        )
    return render(request, "safeguarding/approvals.html", {"rows": rows})


@senior_required
def approval_decide(request, pk):
    from visits import policy, services
    from visits.access import get_visit_for
    from visits.forms import DecisionForm
    from visits.models import Visit

    visit = get_visit_for(
        request.user,
        pk,
        Visit.objects.select_related("household", "school", "requested_by").prefetch_related(
            "people__user__profile", "children", "decisions__decided_by", "transitions__actor"
        ),
    )
    school_policy = visit.school.policy()
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                services.visit_decide(
                    visit=visit,
                    actor=request.user,
                    decision=data["decision"],
                    reason=data["reason"],
                    conditions=data["conditions"],
                )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, "Decision recorded. The requester has been told.")
            return redirect("approvals")
    audit(actor=request.user, action="visit.view", obj=visit, summary=f"Opened the decision page for {visit}")
    return render(
        request,
        "safeguarding/approval_decide.html",
        {
            "visit": visit,
            "form": form,
            "policy": school_policy,
            "exceptions": policy.principal_exceptions(visit, school_policy),
            "refusal": policy.decision_refusal(request.user, visit, approving=False, policy=school_policy),
            "approve_refusal": policy.decision_refusal(request.user, visit, approving=True, policy=school_policy),
            "problems": policy.submission_errors(visit, requested_by=visit.requested_by, policy=school_policy)
            if visit.status == "requested"
            else {},
            "age_text": policy.age_words(policy.age(visit)),
        },
    )


PANEL_ROWS = 8  # rows shown per dashboard panel; the panel's link opens the full list


def _panel(queryset, rows=PANEL_ROWS) -> dict:
    """The first rows of a list and how many there are in all: two queries whatever the list's size."""
    items = list(queryset[:rows])
    total = queryset.count()
    return {"items": items, "total": total, "more": total - len(items)}


@senior_required
def dashboard(request):
    """Everything a DSL or the Principal must act on, across their schools, in a bounded number of queries."""
    from visits import policy
    from visits import selectors as visit_selectors
    from visits.access import visible_visits

    user, now = request.user, timezone.now()
    today = timezone.localdate(now)
    schools = list(School.objects.filter(pk__in=school_ids_for(user)).select_related("trust"))
    warning_days = training_warning_days(schools)

    pending = _panel(
        visible_visits(user, policy.pending_for(user)).select_related("household", "school", "requested_by")
    )
    for visit in pending["items"]:
        visit.age_text = policy.age_words(policy.age(visit, now))
    due = visit_selectors.reports_due(user, now)
    late = [row for row in due if row.late]
    return render(
        request,
        "safeguarding/dashboard.html",
        {
            "today": today,
            "now": now,
            "pending": pending,
            "today_visits": _panel(visit_selectors.todays_visits(user, today), rows=20),
            "out_now": _panel(visit_selectors.out_now(user), rows=20),
            "alerts": visit_selectors.open_alerts_for(user),
            "reports_late": {"items": late[:PANEL_ROWS], "total": len(late), "more": max(len(late) - PANEL_ROWS, 0)},
            "reports_due_count": len(due),
            "awaiting_review": _panel(visit_selectors.reports_awaiting_review(user)),
            "actions_overdue": _panel(visit_selectors.overdue_actions(user, today)),
            "concerns": _panel(
                visible_concerns(user)
                .filter(closed_at__isnull=True)
                .select_related("child", "school")
                .order_by("raised_at", "pk")
            ),
            "risk_due": _panel(risk_assessments_due(user, today)),
            "training": _panel(training_expiring(user, today, warning_days=warning_days)),
            "warning_days": warning_days,
        },
    )


# --- Prohibited addresses, training, risk assessments, the safe word and the checklist ----------------------
# Thin views: forms check input, services change state (with audit), selectors scope what each user may see.


def _trust_ids(user) -> list[int]:
    return list(School.objects.filter(pk__in=school_ids_for(user)).values_list("trust_id", flat=True).distinct())


def _visible_prohibited(user):
    return ProhibitedAddress.objects.filter(trust_id__in=_trust_ids(user)).filter(
        Q(school__isnull=True) | Q(school_id__in=school_ids_for(user))
    )


def _form_errors_from(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages)


def _scope(user, school):
    """(trust, school) for a new entry: the chosen school, or the whole trust of the user's school."""
    if school is not None:
        return school.trust, school
    first = School.objects.filter(pk__in=school_ids_for(user)).select_related("trust").first()
    if first is None:
        raise PermissionDenied("You do not work at any school.")
    return first.trust, None


@senior_required
def prohibited_list(request):
    today = timezone.localdate()
    entries = _visible_prohibited(request.user).select_related("school", "added_by", "expired_by")
    active = entries.filter(expired_at__isnull=True).filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))
    ended = entries.exclude(pk__in=active.values("pk")).order_by("-expired_at", "-expires_on")[:50]
    pending = (
        ProhibitedAddressImport.objects.filter(
            trust_id__in=_trust_ids(request.user), status=ProhibitedAddressImport.Status.PENDING
        )
        .filter(Q(school__isnull=True) | Q(school_id__in=school_ids_for(request.user)))
        .select_related("uploaded_by")
    )
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
            _form_errors_from(form, error)
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
    entry = get_object_or_404(_visible_prohibited(request.user).filter(expired_at__isnull=True), pk=pk)
    form = ExpireForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.prohibited_address_expire(entry=entry, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            _form_errors_from(form, error)
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
        ProhibitedAddressImport.objects.filter(trust_id__in=_trust_ids(request.user))
        .filter(Q(school__isnull=True) | Q(school_id__in=school_ids_for(request.user)))
        .select_related("school", "uploaded_by"),
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
    from families.models import Household

    if not (user.is_superuser or has_role(user, Role.STAFF, Role.DSL, Role.PRINCIPAL)):
        raise Http404("No such household.")
    return get_object_or_404(Household.objects.for_user(user).select_related("school"), pk=pk)


@login_required
def household_address_check(request, pk):
    household = _family_household(request.user, pk)
    form = JudgementForm(request.POST or None)
    if request.method == "POST":
        if not (request.user.is_superuser or is_senior(request.user)):
            raise PermissionDenied("Only a DSL or the Principal judges a near match.")
        if form.is_valid():
            entry = get_object_or_404(
                services.active_prohibited(school=household.school), pk=form.cleaned_data["entry"]
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
    matches = services.prohibited_address_matches(household)
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
            "can_judge": request.user.is_superuser or is_senior(request.user),
        },
    )


@senior_required
def training_due(request):
    today = timezone.localdate()
    schools = list(School.objects.filter(pk__in=school_ids_for(request.user)).select_related("trust"))
    warning_days = max((s.policy().training_warning_days for s in schools), default=30)
    horizon = today + datetime.timedelta(days=warning_days)
    profiles = (
        StaffProfile.objects.filter(schools__in=schools, user__is_active=True)
        .filter(Q(training_expires_on__isnull=True) | Q(training_expires_on__lte=horizon))
        .select_related("user")
        .prefetch_related("schools")
        .distinct()
        .order_by(F("training_expires_on").asc(nulls_first=True), "user__last_name")
    )
    rows = [
        {
            "profile": p,
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
            _form_errors_from(form, error)
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
    assessments = (
        RiskAssessment.objects.filter(household=household)
        .select_related("created_by", "signed_off_by")
        .prefetch_related("rows")[:20]
    )
    return render(
        request,
        "safeguarding/household_risk.html",
        {
            "household": household,
            "assessments": assessments,
            "today": timezone.localdate(),
        },
    )


@login_required
def risk_new(request, pk):
    household = _family_household(request.user, pk)
    policy = household.school.policy()
    matrix = policy.risk_matrix
    today = timezone.localdate()
    previous = services.current_risk_assessment(household)
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
        else services.risk_rows_to_start_from(household.school)
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
            _form_errors_from(form, error)
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
    if not (request.user.is_superuser or has_role(request.user, Role.STAFF, Role.DSL, Role.PRINCIPAL)):
        raise Http404("No such assessment.")
    assessment = get_object_or_404(
        RiskAssessment.objects.filter(household__school_id__in=school_ids_for(request.user))
        .select_related("household__school", "created_by", "signed_off_by")
        .prefetch_related("rows"),
        pk=pk,
    )
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
            "can_sign_off": request.user.is_superuser or is_senior(request.user),
        },
    )


@senior_required
@require_POST
def risk_sign_off(request, pk):
    assessment = get_object_or_404(
        RiskAssessment.objects.filter(household__school_id__in=school_ids_for(request.user)), pk=pk
    )
    try:
        services.risk_assessment_sign_off(assessment=assessment, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Signed off.")
    return redirect(assessment)


def _visit_in_school(user, pk):
    from visits.models import Visit

    return get_object_or_404(
        Visit.objects.for_user(user).select_related("school", "household").prefetch_related("people"), pk=pk
    )


@login_required
def safe_word(request, pk):
    """GET shows the word to those allowed (audited); POST agrees it. Anyone else gets a 404."""
    visit = _visit_in_school(request.user, pk)
    if request.method == "POST":
        if not services.may_set_safe_word(request.user, visit):
            raise Http404("No such visit.")
        form = SafeWordForm(request.POST)
        if form.is_valid():
            try:
                services.safe_word_set(visit=visit, word=form.cleaned_data["word"], actor=request.user)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, "Safe word agreed.")
        else:
            messages.error(request, " ".join(form.errors.get("word", ["Check the safe word."])))
        return redirect(visit)
    if not services.may_see_safe_word(request.user, visit):
        raise Http404("No such visit.")
    word = services.safe_word_reveal(visit=visit, user=request.user)
    template = "safeguarding/_safe_word.html" if request.htmx else "safeguarding/safe_word_page.html"
    response = render(request, template, {"visit": visit, "word": word})
    response["Cache-Control"] = "no-store"
    return response


CHECKLIST_ACTIONS = {"override", "headteacher", "social_worker", "cancel_animals"}


@login_required
@require_POST
def checklist_action(request, pk, action):
    from visits.access import get_visit_for
    from visits.models import Visit

    if action not in CHECKLIST_ACTIONS:
        raise Http404("No such action.")
    # The pair, the requester and the school's DSLs and Principal: the same people who see the visit page.
    visit = get_visit_for(
        request.user, pk, Visit.objects.select_related("school", "household").prefetch_related("people", "children")
    )
    try:
        if action == "override":
            form = OverrideForm(request.POST)
            if not form.is_valid():
                raise ValidationError("Give the reason for the override.")
            checklist_override(
                visit=visit, item=form.cleaned_data["item"], reason=form.cleaned_data["reason"], actor=request.user
            )
            done = "Override recorded."
        elif action == "headteacher":
            services.visit_inform_headteacher(visit=visit, actor=request.user)
            done = "The Headteacher has been sent the purpose, address and time due back."
        elif action == "social_worker":
            form = SocialWorkerForm(request.POST)
            form.is_valid()
            services.visit_record_social_worker(
                visit=visit,
                actor=request.user,
                told_after=form.cleaned_data.get("told_after", False),
                note=form.cleaned_data.get("note", ""),
            )
            done = "Recorded."
        else:
            services.visit_cancel_for_animals(visit=visit, actor=request.user, note=request.POST.get("note", ""))
            done = "The visit is cancelled: the animals could not be kept in another room."
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect(visit)


# --- Concerns and incidents (issue 6) -------------------------------------------------------------------------


def _form_errors(form, error: ValidationError):
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _may_raise(user) -> bool:
    return has_role(user, Role.STAFF, Role.DSL, Role.PRINCIPAL)


@senior_required
def concern_list(request):
    concerns = visible_concerns(request.user).select_related("child", "raised_by", "school", "visit")
    incidents = visible_incidents(request.user).select_related("visit__household", "recorded_by", "school")
    audit(
        actor=request.user, action="concern.list", obj=request.user, summary="Viewed the list of concerns", school=None
    )
    return render(
        request,
        "safeguarding/concern_list.html",
        {
            "open_concerns": concerns.filter(closed_at__isnull=True),
            "closed_concerns": concerns.filter(closed_at__isnull=False)[:50],
            "incidents": incidents[:100],
        },
    )


@login_required
def concern_new(request):
    """Raise a concern: from a visit (?visit=) or on its own (?child=)."""
    from families.models import Child
    from visits.access import get_visit_for

    if not _may_raise(request.user):
        raise PermissionDenied("Staff, DSLs and the Principal raise concerns.")
    visit = None
    children = Child.objects.for_user(request.user)
    if request.GET.get("visit"):
        visit = get_visit_for(request.user, request.GET["visit"])
        children = visit.children.all()
    initial = {"child": request.GET.get("child")} if request.GET.get("child") else {}
    if len(children) == 1:
        initial["child"] = children[0].pk
    form = ConcernForm(request.POST or None, children=children, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.concern_raise(raised_by=request.user, visit=visit, **form.cleaned_data)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(
                request,
                "Your concern has gone to the Designated Safeguarding Leads. "
                "If a child is in immediate danger, also speak to a DSL now.",
            )
            return redirect(visit.get_absolute_url() if visit else "home")
    return render(request, "safeguarding/concern_form.html", {"form": form, "visit": visit})


def _concern_for(user, pk):
    return get_object_or_404(
        visible_concerns(user).select_related("child", "school", "raised_by", "closed_by", "visit__household"), pk=pk
    )


@senior_required
def concern_detail(request, pk):
    from visits.forms import ActionForm

    concern = _concern_for(request.user, pk)
    services.concern_viewed(concern=concern, actor=request.user)
    return render(
        request,
        "safeguarding/concern_detail.html",
        {
            "concern": concern,
            "actions": concern.actions.select_related("owner", "completed_by"),
            "close_form": ConcernCloseForm(),
            "action_form": ActionForm(school=concern.school, prefix="action", required=True),
        },
    )


@senior_required
@require_POST
def concern_close(request, pk):
    concern = _concern_for(request.user, pk)
    form = ConcernCloseForm(request.POST)
    if form.is_valid():
        try:
            services.concern_close(concern=concern, actor=request.user, outcome=form.cleaned_data["outcome"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Concern closed.")
            return redirect(concern)
    else:
        messages.error(request, "Record the outcome before closing the concern.")
    return redirect(concern)


@senior_required
@require_POST
def concern_action_add(request, pk):
    from visits.forms import ActionForm
    from visits.services import action_create

    concern = _concern_for(request.user, pk)
    form = ActionForm(request.POST, school=concern.school, prefix="action", required=True)
    if form.is_valid():
        try:
            action_create(
                school=concern.school,
                concern=concern,
                child=concern.child,
                created_by=request.user,
                **form.cleaned_data,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Action added.")
            return redirect(concern)
    services.concern_viewed(concern=concern, actor=request.user)
    return render(
        request,
        "safeguarding/concern_detail.html",
        {
            "concern": concern,
            "actions": concern.actions.select_related("owner", "completed_by"),
            "close_form": ConcernCloseForm(),
            "action_form": form,
        },
        status=400,
    )


@login_required
def incident_new(request):
    from visits.access import get_visit_for

    if not _may_raise(request.user):
        raise PermissionDenied("Staff, DSLs and the Principal record incidents.")
    visit = get_visit_for(request.user, request.GET.get("visit", ""))
    staff = get_user_model().objects.filter(profile__schools=visit.school, is_active=True).distinct()
    form = IncidentForm(request.POST or None, staff=staff)
    if request.method == "POST" and form.is_valid():
        try:
            services.incident_record(visit=visit, recorded_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(
                request,
                "Incident recorded and passed to the "
                + ("Principal." if form.cleaned_data["kind"] == "accusation" else "DSLs and Principal."),
            )
            return redirect(visit)
    return render(request, "safeguarding/incident_form.html", {"form": form, "visit": visit})


@login_required
def incident_detail(request, pk):
    incident = get_object_or_404(
        visible_incidents(request.user).select_related("visit__household", "recorded_by", "staff_accused", "school"),
        pk=pk,
    )
    if incident.school_id not in school_ids_for(request.user):
        raise Http404("No such incident.")
    audit(actor=request.user, action="incident.view", obj=incident, summary=f"Viewed {incident}")
    return render(request, "safeguarding/incident_detail.html", {"incident": incident})
