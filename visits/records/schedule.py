"""The retention schedule as data: for each kind of record, how long it is kept, counted from what, what happens
then, and where the period comes from. These are the trust default; the periods follow the IRMS Information
Management Toolkit for Schools where it has a line for the record, and say so where it has none.

Nothing here disposes of anything: the nightly listing (services.retention_list_due) puts what falls due in front
of the DSLs, and only their confirmation (services.retention_confirm) removes or anonymises it.
"""

from dataclasses import dataclass

REMOVE = "removed"
ANONYMISE = "anonymised"


@dataclass(frozen=True)
class RetentionRule:
    kind: str
    label: str
    keep: str  # the period in words, as the review page and the disposal entry say it
    action: str
    source: str
    years: int = 0
    days: int = 0

    @property
    def in_words(self) -> str:
        return f"{self.label}: {self.keep}, then {self.action}"


TRUST_DEFAULT_SCHEDULE: tuple[RetentionRule, ...] = (
    RetentionRule(
        kind="concern",
        label="Child-protection concern",
        keep="until the child's 25th birthday",
        years=25,
        action=REMOVE,
        source="IRMS Toolkit for Schools, child-protection information on the pupil file: date of birth of the "
        "child + 25 years, then review and secure disposal. The review is the DSL's, on the due list.",
    ),
    RetentionRule(
        kind="incident",
        label="Incident on a visit",
        keep="until the 25th birthday of the youngest child the visit was for",
        years=25,
        action=REMOVE,
        source="As the child-protection file it belongs to (IRMS: date of birth + 25 years). An incident about a "
        "member of staff is a staff record, not on this schedule: the toolkit keeps those until the person's normal "
        "retirement age or 10 years, whichever is longer, and the Principal reviews them by hand.",
    ),
    RetentionRule(
        kind="visit",
        label="Visit and its Home Visit Form, with no concern or incident",
        keep="6 years after the visit",
        years=6,
        action=REMOVE,
        source="Trust default: IRMS keeps pupil welfare records with no child-protection content for the year of "
        "the contact + 6 years (the Limitation Act 1980 period). A visit with a concern or incident stays as long "
        "as that record, and comes due once it has gone.",
    ),
    RetentionRule(
        kind="risk_assessment",
        label="Risk assessment",
        keep="3 years after its review date",
        years=3,
        action=REMOVE,
        source="IRMS, health and safety: risk assessments, life of the assessment + 3 years. Kept for as long as "
        "a visit still on file relied on it.",
    ),
    RetentionRule(
        kind="prohibited_address",
        label="Prohibited-address entry, once expired",
        keep="1 year after it lapsed",
        years=1,
        action=REMOVE,
        source="Not in the toolkit (the local authority's list is the record). Trust default: a lapsed entry is "
        "kept a year so that the decisions taken against it can still be explained.",
    ),
    RetentionRule(
        kind="inbound_text",
        label="Text received on the school's number",
        keep="90 days",
        days=90,
        action=ANONYMISE,
        source="Not in the toolkit. Trust default under UK GDPR Article 5(1)(e) (kept no longer than needed): the "
        "check-in a text recorded stays on the visit; its words, number and reply go, its time and outcome stay.",
    ),
    RetentionRule(
        # Removed by visits.field.services.checkin_locations_remove_expired (nightly), by the policy's days.
        kind="checkin_location",
        label="Location sent with a check-in",
        keep="the school's policy's days (30 by default)",
        days=30,
        action=REMOVE,
        source="Not in the toolkit. Trust default: a position is needed while the pair are out and for following "
        "up an alert, not after. Removed each night by itself, with no review: the check-in stays, only where the "
        "phone was goes. The days are the school's home-visit policy value (location days).",
    ),
    RetentionRule(
        kind="audit_entries",
        label="Audit trail entries",
        keep="6 years",
        years=6,
        action=REMOVE,
        source="IRMS keeps management and audit records for the current year + 6 years. The database refuses to "
        "remove a younger entry whatever this says; the removed ones leave a checkpoint so the chain still verifies.",
    ),
)


def schedule() -> dict[str, RetentionRule]:
    """The schedule in force, by kind: the trust default (no trust has its own yet)."""
    return {rule.kind: rule for rule in TRUST_DEFAULT_SCHEDULE}
