"""The standard policy values a trust starts from: the risk matrix and hazards of the lone-working risk
assessment (Appendix 1 of the trust policy), who may override each pre-departure checklist item, review periods.

Each trust default policy (and any school override) can replace them in the admin, and code reads them only
through `school.policy()`.
"""

from django.core.exceptions import ValidationError

from .roles import Role

LEVELS = ["low", "medium", "high"]

STANDARD_RISK_MATRIX = {
    "severities": [["minor", "Minor harm"], ["serious", "Serious harm"], ["major", "Major injury may occur"]],
    "likelihoods": [["remote", "Remote possibility"], ["possible", "Possible"], ["likely", "Likely"]],
    # severity -> likelihood -> level. Appendix 1 rates "major injury, remote possibility" as low.
    "levels": {
        "minor": {"remote": "low", "possible": "low", "likely": "medium"},
        "serious": {"remote": "low", "possible": "medium", "likely": "high"},
        "major": {"remote": "low", "possible": "high", "likely": "high"},
    },
}

STANDARD_HAZARDS = [
    {
        "hazard": "Aggressive or violent parent, student or family member",
        "people": "Member of staff may be harmed",
        "severity": "major",
        "likelihood": "remote",
        "controls": "Refer to the home visit policy. Inform the safeguarding team before the visit. Visit in a pair. "
        "Inform reception and sign out so others know. Take a mobile phone.",
    },
    {
        "hazard": "Driving",
        "people": "Member of staff may be harmed",
        "severity": "major",
        "likelihood": "remote",
        "controls": "Vehicle maintained and insured for business use. Breakdown cover. Carry a torch and phone. "
        "Tell the team where you are going and phone in if plans change. No valuables left in the car.",
    },
    {
        "hazard": "Moving through public areas, e.g. to and from car parks",
        "people": "Member of staff may be harmed",
        "severity": "major",
        "likelihood": "remote",
        "controls": "Back down from confrontation. Call for help. Keep valuables out of sight. "
        "Surrender valuables if personal safety is at risk. Post-incident support.",
    },
    {
        "hazard": "Illness, injury or accident",
        "people": "Member of staff may be harmed or injured",
        "severity": "major",
        "likelihood": "remote",
        "controls": "Alert emergency services if appropriate. Alert team members. Carry a phone. "
        "Take prescribed medication. Complete the injury-at-work protocol on return.",
    },
    {
        "hazard": "Attack by a dog or other animal",
        "people": "Member of staff may be harmed or injured",
        "severity": "major",
        "likelihood": "remote",
        "controls": "Avoid contact with animals. Ask for animals to be kept in another room. "
        "Avoid sudden movements near animals.",
    },
]

# Who may override each pre-departure checklist item ([] = nobody: it must be met).
STANDARD_CHECKLIST_OVERRIDES = {
    "authorised": [],
    "address": ["DSL"],
    "training": ["Principal"],
    "risk_assessment": ["DSL", "Principal"],
    "risk_flags": ["Principal"],
    "safe_word": [],
    "parents": ["DSL", "Principal"],
    "social_worker": ["DSL", "Principal"],
}

STANDARD_RISK_REVIEW_DAYS = 365
STANDARD_TRAINING_WARNING_DAYS = 30
# Staff-safety timers: the earliest a pair may check out before the planned start, how long an unanswered alert
# waits before it is sent again (and then climbs), and when the lead is reminded before due back.
STANDARD_EARLIEST_CHECKOUT_MINUTES = 60
STANDARD_REPEAT_AFTER_MINUTES = 5
STANDARD_REMIND_BEFORE_MINUTES = 10
# Only one seed asks for the lead's debrief before the DSL signs the form off, so a school opts in.
STANDARD_DEBRIEF_BEFORE_SIGN_OFF = False
# The duress word a pair may text (check-in by text message): none unless the trust or school chooses one.
STANDARD_DURESS_WORD = ""
# Days a check-in's location (sent only with the visitor's consent) is kept before it is removed.
STANDARD_LOCATION_KEEP_DAYS = 30
# Words the check-in texts understand (visits/field/texts.py) and the words phone networks keep for themselves:
# a duress word must be none of them, or an ordinary check-in would raise duress (or the reverse).
TEXT_COMMAND_WORDS = frozenset(
    {"OUT", "CHECKOUT", "CHECKEDOUT", "LEAVING", "ARRIVED", "ARRIVE", "HERE", "LEFT", "BACK", "RETURNED", "LATE"}
    | {"MIN", "MINS", "MINUTE", "MINUTES", "HELP", "STOP", "START", "UNSTOP", "INFO", "YES", "NO", "CANCEL"}
)
DURESS_WORD_MIN_LENGTH = 5


def validate_risk_matrix(value) -> None:
    """A matrix must rate every severity against every likelihood with a known level."""
    if value in (None, ""):
        return
    try:
        severities = [key for key, _label in value["severities"]]
        likelihoods = [key for key, _label in value["likelihoods"]]
        levels = value["levels"]
        missing = [f"{s}/{lk}" for s in severities for lk in likelihoods if levels.get(s, {}).get(lk) not in LEVELS]
    except (KeyError, TypeError, ValueError) as error:
        raise ValidationError(
            "The risk matrix needs 'severities' and 'likelihoods' (lists of [key, label]) and 'levels'."
        ) from error
    if missing:
        raise ValidationError(f"The risk matrix has no low/medium/high level for: {', '.join(missing)}.")


def validate_duress_word(value) -> None:
    """One word of letters, long enough not to be texted by accident, and not a word the check-in texts use."""
    if not value:
        return
    if not value.isascii() or not value.isalpha():
        raise ValidationError("The duress word must be a single word of letters A to Z (no spaces or digits).")
    if len(value) < DURESS_WORD_MIN_LENGTH:
        raise ValidationError(f"The duress word must be at least {DURESS_WORD_MIN_LENGTH} letters long.")
    if value.upper() in TEXT_COMMAND_WORDS:
        raise ValidationError(f"“{value}” is a check-in word or one phone networks use: choose another word.")


def validate_checklist_overrides(value) -> None:
    if value in (None, ""):
        return
    if not isinstance(value, dict):
        raise ValidationError("Checklist overrides map each item to a list of roles.")
    for item, roles in value.items():
        if item not in STANDARD_CHECKLIST_OVERRIDES:
            raise ValidationError(f"Unknown checklist item {item!r}.")
        if not isinstance(roles, list) or any(r not in Role.values for r in roles):
            raise ValidationError(f"Checklist item {item!r}: list roles from {', '.join(Role.values)}.")
