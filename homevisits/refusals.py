"""Every refusal the site answers (403, 404, 405, 400, a form whose CSRF check failed) is a page in the site's
layout that says what was refused, why, and what to do instead, with a way back.

Why: the exception's own message (each PermissionDenied and Http404 in the product says it in words), or a
general one. What and what to do instead: the words below for the page that refused, looked up by its URL name,
or general ones that fit any page. A 404 says the same whether the record does not exist or is not the person's
to see, so it never confirms that something exists.
"""

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme

NOT_FOUND_WHY = (
    "There is nothing at this address, or it is not yours to see: records are shown only to the people who need "
    "them, so this page says the same either way."
)
ASK_THE_DSL = "If your work needs it, ask a DSL or the Principal of your school."


@dataclass(frozen=True)
class Words:
    """What a page's refusal says beyond the why. `back`: a URL name to go back to (given the refused page's
    own pk where it takes one), or "" for the page the person came from."""

    what: str = ""
    instead: str = ""
    back: str = ""
    back_label: str = ""


VISIT_NOT_YOURS = Words(
    what="Visit not found",
    instead="Find it in your list of visits. A visit is shown to its pair, the person who asked for it and the "
    "school's DSLs and Principal: ask your DSL if you need it.",
    back="visits:list",
    back_label="Your visits",
)
SENIOR_PAGES = Words(
    what="This page is for the DSLs and the Principal",
    instead="If you are worried about a child, raise a concern (anyone can, from any visit or from Concerns); "
    "for anything else, ask a DSL.",
)
TRUST_ADMIN_PAGES = Words(
    what="This page is for the trust admin",
    instead="Roles, board screens and sign-in lockouts are kept by your trust admin: ask them.",
)
BOARD = Words(
    what="The office board is not for your role",
    instead="To record your own visit's check-ins, open the visit from Visits and use its check-in page; if you "
    "are worried about colleagues who are out, ring the school office.",
)

# Per URL name, per status (None: any), the words for a refusal there.
RECORDS_REVIEW = Words(
    what="The retention review is for the DSLs and the Principal",
    instead="Records are disposed of only when a DSL or the Principal of the school confirms it (the trust admin "
    "for trust-wide records): ask them if you think a record should be kept longer.",
)

WORDS: dict[str, dict[int | None, Words]] = {
    "records:retention": {403: RECORDS_REVIEW},
    "records:retention_confirm": {403: RECORDS_REVIEW, 405: Words(back="records:retention", back_label="The review")},
    "board": {403: BOARD},
    "board-live": {403: BOARD},
    "board-timetable": {403: BOARD},
    "board-acknowledge": {
        403: Words(what="You cannot answer the board's alerts", instead=BOARD.instead),
        405: Words(back="board", back_label="The board"),
    },
    "board-duress": {
        403: Words(what="You cannot raise a duress alert from the board", instead=BOARD.instead),
        405: Words(back="board", back_label="The board"),
    },
    "board-confirm-safe": {
        403: Words(
            what="You cannot confirm the pair are safe",
            instead="Ring a DSL or the Principal (the alert's page lists them, with their mobiles) and tell them "
            "what you know: they confirm it once they know it themselves. If you called the police, record it on "
            "the board.",
            back="board-confirm-safe",
            back_label="Back to the alert",
        ),
    },
    "approval_decide": {
        403: Words(
            what="You cannot record this decision",
            instead="Ask the Principal to decide it: it waits for them on their Approvals page. The decision page "
            "says which choices are yours.",
            back="approval_decide",
            back_label="Back to the decision page",
        ),
        404: Words(
            what="Request not found",
            instead="The requests waiting for you are on your Approvals page.",
            back="approvals",
            back_label="Approvals",
        ),
    },
    "checklist_action": {
        403: Words(
            what="You cannot override this checklist item",
            instead="Ask the person the item names (a DSL or the Principal) to record the override on the visit's "
            "page, or do what the item asks before you go.",
            back="visits:detail",
            back_label="Back to the visit",
        ),
        404: VISIT_NOT_YOURS,
        405: Words(back="visits:detail", back_label="Back to the visit"),
    },
    "safeguarding:risk_new": {
        403: Words(
            what="You cannot redo this risk assessment",
            instead="Ask the Principal: they review the household's assessment and redo it. Until then, the visit's "
            "checklist shows it as needing review.",
            back="safeguarding:household_risk",
            back_label="Back to the household's risk assessments",
        ),
    },
    "visits:report": {
        403: Words(
            what="You cannot write this Home Visit Form",
            instead="The visit's lead writes it once the pair are back: tell them what should go in it.",
            back="visits:detail",
            back_label="Back to the visit",
        ),
    },
    "dashboard": {403: SENIOR_PAGES},
    "approvals": {403: SENIOR_PAGES},
    "concerns": {403: SENIOR_PAGES},
    "concern": {403: SENIOR_PAGES},
    "visits:school_actions": {403: SENIOR_PAGES},
    "safeguarding:prohibited_list": {403: SENIOR_PAGES},
    "safeguarding:training_due": {403: SENIOR_PAGES},
    "figures": {403: Words(what="The figures are not for your role", instead=SENIOR_PAGES.instead)},
    "memberships": {403: TRUST_ADMIN_PAGES},
    "board-screens": {403: TRUST_ADMIN_PAGES},
    "signin:lockouts": {403: TRUST_ADMIN_PAGES},
    "invitation": {
        404: Words(
            what="This link does not work",
            instead="If you have already set your password, log in. Otherwise ask your trust admin to invite you "
            "again.",
            back="login",
            back_label="Log in",
        ),
    },
}
# Machines post to the webhooks, not people; a person who opens one is told what it is for.
PROVIDERS_ONLY = Words(
    what="This address takes requests from the text provider only",
    instead="Nothing here is for people: GOV.UK Notify or Twilio send the school's texts and receipts here.",
)
for name in ("webhook-twilio-inbound", "webhook-notify-inbound", "webhook-twilio-status", "webhook-notify-status"):
    WORDS[name] = {403: PROVIDERS_ONLY}
for name in ("visits:detail", "visits:edit", "visits:field", "visits:report", "safe_word", "visits:parent_copy_pdf"):
    WORDS.setdefault(name, {}).setdefault(404, VISIT_NOT_YOURS)


@dataclass(frozen=True)
class Refusal:
    status: int
    what: str
    why: str
    instead: str
    back_url: str
    back_label: str


def _words(request, status: int) -> Words:
    match = getattr(request, "resolver_match", None)
    by_status = WORDS.get(match.view_name, {}) if match else {}
    return by_status.get(status) or by_status.get(None) or Words()


def _back(request, words: Words) -> tuple[str, str]:
    """Where "back" goes: the page the words name (with the refused page's own pk), else the page the person came
    from on this site, else their start page."""
    match = getattr(request, "resolver_match", None)
    if words.back:
        kwargs = {k: v for k, v in (match.kwargs if match else {}).items() if k == "pk"}
        for attempt in (kwargs, {}):
            try:
                return reverse(words.back, kwargs=attempt), words.back_label or "Back"
            except NoReverseMatch:
                continue
    came_from = request.META.get("HTTP_REFERER", "")
    same_site = url_has_allowed_host_and_scheme(
        came_from, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if came_from and same_site and not came_from.endswith(request.get_full_path()):
        return came_from, "Back to the page you came from"
    return reverse("home"), "Back to your start page"


def _message(exception) -> str:
    """The exception's own words, if it has some for a person (not Django's generic or technical ones)."""
    message = exception.args[0] if exception is not None and exception.args else ""
    if not isinstance(message, str) or (message.startswith("No ") and "match" in message):
        return ""  # Django's "No Visit matches the given query.": a model's name, and no help
    return message


def _render(request, status: int, *, what: str, why: str, instead: str, words: Words):
    if not hasattr(request, "user"):
        request.user = AnonymousUser()  # refused before the sign-in middleware ran: the page still renders
    back_url, back_label = _back(request, words)
    refusal = Refusal(
        status=status,
        what=words.what or what,
        why=why,
        instead=words.instead or instead,
        back_url=back_url,
        back_label=back_label,
    )
    return render(request, "refusal.html", {"refusal": refusal}, status=status)


def permission_denied(request, exception=None):
    words = _words(request, 403)
    asked_to_change = request.method not in ("GET", "HEAD")
    return _render(
        request,
        403,
        what="You cannot do this" if asked_to_change else "You cannot open this page",
        why=_message(exception) or "Your role at this school does not include it.",
        instead=ASK_THE_DSL + " Roles are given by your trust admin.",
        words=words,
    )


def page_not_found(request, exception=None):
    message = _message(exception)
    # A message of ours (e.g. "No such visit.") is said first; the rest never says whether the record exists.
    why = f"{message} {NOT_FOUND_WHY}" if message and not message.startswith("/") else NOT_FOUND_WHY
    return _render(
        request,
        404,
        what="Not found",
        why=why,
        instead="Check the address, or find what you need from your start page. " + ASK_THE_DSL,
        words=_words(request, 404),
    )


def method_not_allowed(request):
    return _render(
        request,
        405,
        what="This address only takes a form's button",
        why="It changes a record, so it cannot be opened as a page.",
        instead="Go back to the page with the button and use it there.",
        words=_words(request, 405),
    )


def bad_request(request, exception=None):
    return _render(
        request,
        400,
        what="This request could not be read",
        why=_message(exception) or "It arrived damaged or incomplete.",
        instead="Go back, reload the page and try again.",
        words=_words(request, 400),
    )


def csrf_failure(request, reason=""):
    """A form whose CSRF check failed: nearly always a page left open too long, or a sign-in since it loaded."""
    return _render(
        request,
        403,
        what="Your form was not sent",
        why="The page had been open a long time, or you signed in again since it loaded, so the system could not "
        "be sure the form came from you.",
        instead="Go back, reload the page and send it again. Copy anything long you typed before you reload.",
        words=Words(),
    )


class RefusalPageMiddleware:
    """A refusal answered with no body of its own (Django's require_POST answers 405 with nothing at all) gets the
    worded page too, with the response's `refusal_why` if the view gave one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code in (403, 404, 405) and not response.streaming and not response.content:
            page = method_not_allowed(request) if response.status_code == 405 else None
            if page is None:
                handler = permission_denied if response.status_code == 403 else page_not_found
                # A view may say why on the response: Django's debug 404 page would hide an Http404's words.
                why = getattr(response, "refusal_why", "")
                page = handler(request, (PermissionDenied if response.status_code == 403 else Http404)(why))
            if response.has_header("Allow"):
                page["Allow"] = response["Allow"]
            return page
        return response
