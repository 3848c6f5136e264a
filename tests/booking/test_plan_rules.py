"""The plan's pure rules: spacing between sessions, and the series the engine proposes (plain values, no database)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking.plan_rules import change_window, propose_series, series_too_close, too_close, within

NY = ZoneInfo("America/New_York")
H = timedelta(hours=1)
DAY = timedelta(days=1)
A, B = 1, 2  # two clinicians


def at(day: int, hour: int, minute: int = 0, *, month: int = 12, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NY)


def daily(days: range, hours: tuple[int, ...], clinician: int, **when) -> list[tuple[datetime, int]]:
    return [(at(day, hour, **when), clinician) for day in days for hour in hours]


def merged(*groups: list[tuple[datetime, int]]) -> list[tuple[datetime, int]]:
    return sorted((slot for group in groups for slot in group), key=lambda slot: (slot[0].astimezone(UTC), slot[1]))


class TestTooClose:
    def test_a_gap_of_exactly_the_minimum_is_allowed_and_a_minute_less_is_not(self):
        assert too_close(at(10, 9), [at(8, 9)], 48 * H) is None
        assert too_close(at(10, 8, 59), [at(8, 9)], 48 * H) == at(8, 9)

    def test_either_side_counts_and_the_nearest_is_named(self):
        others = [at(8, 9), at(11, 9), at(20, 9)]
        assert too_close(at(10, 9), others, 48 * H) == at(11, 9)
        assert too_close(at(10, 9), [at(12, 8)], 48 * H) == at(12, 8)

    def test_no_spacing_means_nothing_is_too_close(self):
        assert too_close(at(8, 9), [at(8, 9)], timedelta(0)) is None

    def test_elapsed_time_across_the_spring_dst_change(self):
        # Fri 10:00 EST to Sun 11:00 EDT is 49 wall-clock hours but 48 real ones.
        friday = at(12, 10, month=3, year=2027)
        assert too_close(at(14, 11, month=3, year=2027), [friday], 48 * H) is None
        assert too_close(at(14, 10, 30, month=3, year=2027), [friday], 48 * H) == friday

    def test_elapsed_time_across_the_autumn_dst_change(self):
        # Fri 10:00 EDT to Sun 9:00 EST is 47 wall-clock hours but 48 real ones.
        friday = at(5, 10, month=11, year=2027)
        assert too_close(at(7, 9, month=11, year=2027), [friday], 48 * H) is None
        assert too_close(at(7, 8, 59, month=11, year=2027), [friday], 48 * H) == friday

    def test_zones_do_not_matter(self):
        assert too_close(at(10, 9).astimezone(UTC), [at(8, 9)], 48 * H) is None


class TestSeriesTooClose:
    def test_the_first_close_pair_by_index(self):
        starts = [at(8, 9), at(10, 9), at(11, 9), at(12, 0)]
        assert series_too_close(starts, 48 * H) == (1, 2)

    def test_not_only_neighbours(self):
        assert series_too_close([at(8, 9), at(12, 9), at(9, 9)], 48 * H) == (0, 2)

    def test_a_well_spaced_series(self):
        assert series_too_close([at(8 + 2 * n, 9) for n in range(6)], 48 * H) is None
        assert series_too_close([], 48 * H) is None and series_too_close([at(8, 9)], 48 * H) is None


class TestProposeSeries:
    def test_each_next_session_at_the_earliest_time_after_the_gap_with_the_same_clinician(self):
        candidates = merged(daily(range(8, 31), (9, 13), A), daily(range(8, 31), (8, 10), B))
        picks = propose_series(candidates, first=(A, at(8, 13)), count=4, min_gap=48 * H)
        assert picks == [(A, at(8, 13)), (A, at(10, 13)), (A, at(12, 13)), (A, at(14, 13))]

    def test_any_clinician_takes_the_earliest_of_anyone_and_stays_any(self):
        candidates = merged(daily(range(8, 31), (9, 13), A), daily(range(8, 31), (10,), B))
        picks = propose_series(candidates, first=(None, at(8, 9)), count=3, min_gap=48 * H)
        assert picks == [(None, at(8, 9)), (None, at(10, 9)), (None, at(12, 9))]
        later = propose_series(candidates, first=(None, at(8, 10)), count=2, min_gap=48 * H)
        assert later == [(None, at(8, 10)), (None, at(10, 10))]  # B's 10:00, the earliest after the gap

    def test_another_clinician_when_the_chosen_one_has_no_time_left(self):
        candidates = merged(daily(range(8, 11), (9,), A), daily(range(8, 31), (15,), B))
        picks = propose_series(candidates, first=(A, at(8, 9)), count=3, min_gap=48 * H)
        assert picks == [(A, at(8, 9)), (A, at(10, 9)), (B, at(12, 15))]

    def test_the_chosen_clinician_later_beats_another_earlier(self):
        candidates = merged(daily(range(8, 31), (9,), B), daily(range(8, 31), (16,), A))
        picks = propose_series(candidates, first=(A, at(8, 16)), count=2, min_gap=48 * H)
        assert picks == [(A, at(8, 16)), (A, at(10, 16))]

    def test_fewer_when_the_horizon_ends(self):
        candidates = daily(range(8, 14), (9,), A)
        picks = propose_series(candidates, first=(A, at(8, 9)), count=6, min_gap=48 * H)
        assert [start for _clinician, start in picks] == [at(8, 9), at(10, 9), at(12, 9)]

    def test_a_gap_of_exactly_the_minimum_is_taken(self):
        candidates = [(at(10, 8, 59), A), (at(10, 9), A)]
        assert propose_series(candidates, first=(A, at(8, 9)), count=2, min_gap=48 * H)[1] == (A, at(10, 9))

    def test_no_gap_still_means_a_later_time(self):
        candidates = [(at(8, 9), B), (at(8, 10), A)]
        assert propose_series(candidates, first=(A, at(8, 9)), count=2, min_gap=timedelta(0)) == [
            (A, at(8, 9)),
            (A, at(8, 10)),
        ]

    def test_sessions_already_booked_are_kept_clear_of(self):
        candidates = daily(range(8, 31), (9,), A)
        picks = propose_series(candidates, first=(A, at(8, 9)), count=3, min_gap=48 * H, booked=[at(11, 9)])
        assert picks == [(A, at(8, 9)), (A, at(13, 9)), (A, at(15, 9))]

    def test_count_zero_or_one(self):
        candidates = daily(range(8, 31), (9,), A)
        assert propose_series(candidates, first=(A, at(8, 9)), count=0, min_gap=48 * H) == []
        assert propose_series(candidates, first=(A, at(8, 9)), count=1, min_gap=48 * H) == [(A, at(8, 9))]
        assert propose_series([], first=(A, at(8, 9)), count=3, min_gap=48 * H) == [(A, at(8, 9))]

    def test_across_the_spring_dst_change_the_gap_is_real_hours(self):
        # Candidates as the engine gives them: UTC instants, each half hour of a clinic day.
        candidates = [
            ((at(day, 8, month=3, year=2027) + step * timedelta(minutes=30)).astimezone(UTC), A)
            for day in range(12, 20)
            for step in range(18)
        ]
        picks = propose_series(candidates, first=(A, at(12, 10, month=3, year=2027)), count=2, min_gap=48 * H)
        assert picks[1] == (A, at(14, 11, month=3, year=2027))  # 48 real hours: 11:00 on the EDT clock

    @given(
        st.lists(st.tuples(st.integers(0, 24 * 60), st.sampled_from([A, B])), max_size=60),
        st.sampled_from([None, A, B]),
        st.integers(0, 8),
        st.integers(0, 96),
    )
    def test_any_proposal_keeps_the_rules(self, raw, clinician, count, gap_hours):
        """Against the rules read plainly: in order, spaced, from the candidates, the chosen clinician first."""
        origin = datetime(2026, 12, 8, 9, tzinfo=UTC)
        candidates = sorted({(origin + timedelta(hours=hours), owner) for hours, owner in raw})
        gap = gap_hours * H
        picks = propose_series(candidates, first=(clinician, origin), count=count, min_gap=gap)
        assert len(picks) <= count and (count == 0 or picks[0] == (clinician, origin))
        starts = [start for _owner, start in picks]
        assert all(
            later > earlier and later - earlier >= gap for earlier, later in zip(starts, starts[1:], strict=False)
        )
        assert series_too_close(starts, gap) is None
        for (_o, previous_start), (owner, start) in zip(picks, picks[1:], strict=False):
            options = [(s, o) for s, o in candidates if s > previous_start and s - previous_start >= gap]
            if clinician is None:
                assert owner is None and start == options[0][0]
            elif own := [s for s, o in options if o == clinician]:
                assert (owner, start) == (clinician, own[0])
            else:
                assert (start, owner) == options[0]
        if 0 < len(picks) < count:  # it stopped: nothing was left after the last one
            last = starts[-1]
            assert not [s for s, _o in candidates if s > last and s - last >= gap]


class TestChangeWindow:
    STARTS = [at(8, 9), at(10, 9), at(12, 9), at(14, 9)]

    def test_a_middle_session_between_its_neighbours(self):
        window = change_window(self.STARTS, 2, 48 * H)
        assert window == (at(12, 9), at(12, 9))  # tightly packed: only where it is
        window = change_window([at(8, 9), at(12, 9), at(16, 9)], 1, 48 * H)
        assert within(at(10, 9), window) and within(at(14, 9), window)
        assert not within(at(10, 8, 59), window) and not within(at(14, 9, 1), window)

    def test_the_first_and_last_are_open_on_one_side(self):
        first = change_window(self.STARTS, 0, 48 * H)
        last = change_window(self.STARTS, 3, 48 * H)
        assert first == (None, at(8, 9).astimezone(UTC)) and last == (at(14, 9).astimezone(UTC), None)
        assert within(at(1, 9), first) and within(at(31, 9), last)
        assert change_window([at(8, 9)], 0, 48 * H) == (None, None)

    def test_real_hours_across_dst(self):
        earliest, _latest = change_window([at(12, 10, month=3, year=2027), at(20, 10, month=3, year=2027)], 1, 48 * H)
        assert earliest == at(14, 11, month=3, year=2027)


@pytest.mark.parametrize("gap", [timedelta(0), H, 48 * H, 168 * H])
def test_a_proposal_never_pairs_too_close(gap):
    candidates = [(at(8, 9) + step * timedelta(minutes=30), A) for step in range(24 * 2 * 60)]
    picks = propose_series(candidates, first=(A, at(8, 9)), count=6, min_gap=gap)
    assert len(picks) == 6 and series_too_close([start for _c, start in picks], gap) is None
