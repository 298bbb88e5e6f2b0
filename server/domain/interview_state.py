"""The interview lifecycle, in one place: every status change of an interview goes through
`transition`, and nothing else decides whether a change is allowed.

    pending --schedule--> scheduled --start--> in_progress --complete--> completed
    pending, scheduled --reschedule--> scheduled
    pending, scheduled, in_progress --cancel--> cancelled
    scheduled, in_progress --expire--> expired

completed, cancelled and expired are final. ScheduleInterview creates an interview as pending
and applies `schedule` in the same transaction, so a stored interview is never left pending by
this API; the state exists for flows that create an interview before its time is known.
"""

from __future__ import annotations

from enum import StrEnum

from server.domain.errors import FailedPrecondition
from server.domain.models import InterviewStatus as S


class InterviewEvent(StrEnum):
    SCHEDULE = "schedule"
    START = "start"
    COMPLETE = "complete"
    CANCEL = "cancel"
    EXPIRE = "expire"
    RESCHEDULE = "reschedule"


E = InterviewEvent

TRANSITIONS: dict[tuple[S, InterviewEvent], S] = {
    (S.PENDING, E.SCHEDULE): S.SCHEDULED,
    (S.SCHEDULED, E.START): S.IN_PROGRESS,
    (S.IN_PROGRESS, E.COMPLETE): S.COMPLETED,
    (S.PENDING, E.RESCHEDULE): S.SCHEDULED,
    (S.SCHEDULED, E.RESCHEDULE): S.SCHEDULED,
    (S.PENDING, E.CANCEL): S.CANCELLED,
    (S.SCHEDULED, E.CANCEL): S.CANCELLED,
    (S.IN_PROGRESS, E.CANCEL): S.CANCELLED,
    (S.SCHEDULED, E.EXPIRE): S.EXPIRED,
    (S.IN_PROGRESS, E.EXPIRE): S.EXPIRED,
}

FINAL = frozenset({S.COMPLETED, S.CANCELLED, S.EXPIRED})


def transition(current: S, event: InterviewEvent) -> S:
    """The status after `event`; FAILED_PRECONDITION / ILLEGAL_TRANSITION if the lifecycle does
    not allow it (the metadata names the current status and the event)."""
    found = TRANSITIONS.get((current, event))
    if found is None:
        raise FailedPrecondition(
            f"an interview that is {current.value} cannot {event.value}",
            reason="ILLEGAL_TRANSITION",
            metadata={"status": current.value, "event": event.value})
    return found
