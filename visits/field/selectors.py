"""Reads for the field's pages (selectors): the log of texts received on the school's number."""

from core.permissions import BOARD_ROLES
from core.roles import SENIOR, schools_where

from ..models import InboundText

# The log shows the latest texts; older ones stay in the database (and the audit trail).
TEXT_LOG_LIMIT = 200


def inbound_text_log(*, user) -> list[dict]:
    """The latest texts of the schools where the user is office, DSL or Principal, newest first, each as the user
    may see it: the DSLs and the Principal see every text as sent; the office sees a duress-word text as the
    ordinary check-in its reply imitated (the word itself is never shown to them)."""
    seen_in_full = set(schools_where(user, *SENIOR))
    texts = (
        InboundText.objects.filter(school_id__in=schools_where(user, *BOARD_ROLES))
        .select_related("staff", "school", "visit__household", "reply_notification")
        .order_by("-received_at", "-id")[:TEXT_LOG_LIMIT]
    )
    rows = []
    for text in texts:
        in_full = text.school_id in seen_in_full
        said, did = (text.body, text.get_outcome_display()) if in_full else text.as_the_office_sees_it
        rows.append(
            {
                "text": text,
                "said": said,
                "did": did,
                "note": text.note if in_full or not text.is_duress else "",
                "duress": in_full and text.is_duress,
                "link_visit": in_full and text.visit_id is not None,
                "reply_status": text.reply_notification.get_delivery_status_display()
                if text.reply_notification and text.reply_notification.delivery_status
                else ("queued" if text.reply_notification else ""),
            }
        )
    return rows
