"""The interview lifecycle table: every (status, event) pair, legal or not."""

from __future__ import annotations

import pytest

from server.domain.errors import FailedPrecondition
from server.domain.interview_state import FINAL, TRANSITIONS, InterviewEvent, transition
from server.domain.models import InterviewStatus as S

E = InterviewEvent

LEGAL = {
    (S.PENDING, E.SCHEDULE): S.SCHEDULED,
    (S.PENDING, E.RESCHEDULE): S.SCHEDULED,
    (S.PENDING, E.CANCEL): S.CANCELLED,
    (S.SCHEDULED, E.START): S.IN_PROGRESS,
    (S.SCHEDULED, E.RESCHEDULE): S.SCHEDULED,
    (S.SCHEDULED, E.CANCEL): S.CANCELLED,
    (S.SCHEDULED, E.EXPIRE): S.EXPIRED,
    (S.IN_PROGRESS, E.COMPLETE): S.COMPLETED,
    (S.IN_PROGRESS, E.CANCEL): S.CANCELLED,
    (S.IN_PROGRESS, E.EXPIRE): S.EXPIRED,
}
PAIRS = [(status, event) for status in S for event in E]


def test_the_table_is_exactly_the_documented_lifecycle() -> None:
    assert TRANSITIONS == LEGAL
    assert {S.COMPLETED, S.CANCELLED, S.EXPIRED} == FINAL
    assert not any(status in FINAL for status, _ in TRANSITIONS)


@pytest.mark.parametrize(("status", "event"), PAIRS,
                         ids=[f"{s.value}-{e.value}" for s, e in PAIRS])
def test_every_pair(status: S, event: InterviewEvent) -> None:
    if (status, event) in LEGAL:
        assert transition(status, event) is LEGAL[(status, event)]
        return
    with pytest.raises(FailedPrecondition) as err:
        transition(status, event)
    assert err.value.reason == "ILLEGAL_TRANSITION"
    assert err.value.metadata == {"status": status.value, "event": event.value}
