"""The acceptance test of fair invitations, on SQLite and on PostgreSQL: "60 residents across 6
buildings and 12 sessions of 12 invitations each; nobody gets a third invitation while someone
willing has had none, and each session's list spans at least 4 buildings."

Staff take the suggested list as it is, session after session, two weeks apart; about a third of
those invited come and sign in, so the next few lists must skip them (RECENT_DAYS). Three residents
asked not to be invited: "willing" is everyone else. The same runs on an uneven estate, where one
building has 2 residents and another 20.
"""
from collections import Counter
from datetime import date, time, timedelta

import pytest

from kiosk import tea
from kiosk.database import write_transaction
from kiosk.models import Resident
from kiosk.models.base import utcnow

SESSIONS = 12
INVITED = 12
FIRST_DAY = date(2026, 1, 6)
OPTED_OUT = 3
MIN_BUILDINGS = 4


def estate(sizes: list[int]) -> tuple[dict[int, str], set[int]]:
    """Residents in buildings 1, 2, … of the given sizes ("3号楼2单元"), all consented; the first
    resident of each of the first OPTED_OUT buildings asked not to be invited.
    (resident id -> building, the ids of those who opted out)."""
    with write_transaction() as s:
        people = {(b, n): Resident(mobile=f"139{b:02d}{n:06d}", name=f"居民{b}-{n}", consent_at=utcnow(),
                                   building_unit=f"{b}号楼{n % 3 + 1}单元", tea_opt_out=n == 0 and b <= OPTED_OUT)
                  for b, size in enumerate(sizes, start=1) for n in range(size)}
        s.add_all(people.values())
        s.flush()
        return ({p.id: str(b) for (b, _n), p in people.items()},
                {p.id for p in people.values() if p.tea_opt_out})


def sessions(hall) -> list[tuple[int, date]]:
    days = [FIRST_DAY + timedelta(weeks=2 * n) for n in range(SESSIONS)]
    return [(tea.save_session(tea.SessionFields(day, time(15), time(17), "Hall", target=INVITED),
                              hall.admin_id).id, day) for day in days]


@pytest.mark.parametrize("sizes", [[10] * 6, [2, 20, 10, 10, 10, 8], [2, 20, 16, 13, 5, 4]],
                         ids=["even", "uneven", "lopsided"])
def test_twelve_sessions_invite_everyone_willing_before_anyone_a_third_time(any_hall, sizes):
    building, unwilling = estate(sizes)
    willing = set(building) - unwilling
    invitations: Counter = Counter()
    came_on: dict[int, list[date]] = {}
    for n, (session, day) in enumerate(sessions(any_hall), start=1):
        suggestion = tea.suggest(session)
        chosen = [s.resident.id for s in suggestion]
        assert len(chosen) == len(set(chosen)) == INVITED, (n, chosen)
        assert {s.building for s in suggestion} == {building[r] for r in chosen}
        assert not set(chosen) & unwilling, n
        recently = {r for r in chosen
                    if any(day - timedelta(days=tea.RECENT_DAYS) <= d < day for d in came_on.get(r, ()))}
        assert not recently, (n, recently)
        spans = Counter(building[r] for r in chosen)
        assert len(spans) >= MIN_BUILDINGS, (n, spans)

        assert tea.invite(session, chosen) == INVITED
        invitations.update(chosen)
        third = {r for r in willing if invitations[r] >= 3}
        none_yet = {r for r in willing if invitations[r] == 0}
        assert not (third and none_yet), (n, third, none_yet)
        for resident in chosen[::3]:  # a third of them come
            tea.sign_in(session, resident, "tablet")
            came_on.setdefault(resident, []).append(day)

    # Over the twelve, everyone willing was asked; the rotation never goes more than two apart.
    assert sum(invitations.values()) == SESSIONS * INVITED
    assert {r for r in willing if invitations[r] == 0} == set()
    spread = [invitations[r] for r in willing]
    assert max(spread) - min(spread) <= 2, Counter(spread)
