"""Triage rules: every contraindication, the safety path and their combinations."""

import itertools

import pytest

from screening.triage import (
    ABSOLUTE_CONTRAINDICATIONS,
    ELIGIBLE,
    NOT_SUITABLE,
    RELATIVE_CONTRAINDICATIONS,
    REVIEW,
    URGENT,
    triage,
)

NONE = frozenset()


def run(*, age=35, item9=0, conditions=NONE, medications=NONE):
    return triage(age=age, phq9_item9=item9, conditions=frozenset(conditions), medications=frozenset(medications))


def test_nothing_of_note_is_eligible():
    result = run()
    assert (result.outcome, result.clinical_outcome, result.urgent, result.reasons) == (ELIGIBLE, ELIGIBLE, False, ())
    assert result.can_self_book_consultation


@pytest.mark.parametrize("item9", [1, 2, 3])
@pytest.mark.parametrize("age", [17, 18, 64])
def test_any_thought_of_self_harm_is_urgent_whatever_else(item9, age):
    result = run(age=age, item9=item9)
    assert result.outcome == URGENT
    assert result.urgent
    assert result.reasons[0].rule == "phq9_item9"
    assert result.flags[0] == "urgent"


@pytest.mark.parametrize("code", sorted(ABSOLUTE_CONTRAINDICATIONS))
def test_each_absolute_contraindication_is_not_suitable(code):
    result = run(conditions={code})
    assert result.outcome == NOT_SUITABLE
    assert not result.can_self_book_consultation
    [reason] = result.reasons
    assert (reason.rule, reason.outcome) == (code, NOT_SUITABLE)
    assert "SPRAVATO" in reason.source


@pytest.mark.parametrize("code", sorted(set(RELATIVE_CONTRAINDICATIONS) - {"maoi_14d"}))
def test_each_relative_contraindication_needs_review(code):
    result = run(conditions={code})
    assert result.outcome == REVIEW
    assert result.can_self_book_consultation
    [reason] = result.reasons
    assert (reason.rule, reason.outcome) == (code, REVIEW)
    assert reason.source


def test_a_recent_maoi_needs_review():
    result = run(medications={"maoi_14d"})
    assert result.outcome == REVIEW
    assert [reason.rule for reason in result.reasons] == ["maoi_14d"]


@pytest.mark.parametrize("age", [0, 12, 17])
def test_under_18_is_not_suitable(age):
    result = run(age=age)
    assert result.outcome == NOT_SUITABLE
    assert [reason.rule for reason in result.reasons] == ["under_18"]


@pytest.mark.parametrize("age", [18, 19, 90])
def test_adults_are_eligible(age):
    assert run(age=age).outcome == ELIGIBLE


@pytest.mark.parametrize("total_items", [0, 27])
def test_item9_positive_is_urgent_at_total_0_and_27(total_items):
    """Urgency depends on item 9 alone, however high or low the total."""
    assert run(item9=1 if total_items == 0 else 3).outcome == URGENT
    assert run(item9=0).outcome == ELIGIBLE


@pytest.mark.parametrize("code", sorted(ABSOLUTE_CONTRAINDICATIONS))
def test_urgent_with_an_absolute_contraindication_records_both_and_crisis_leads(code):
    result = run(item9=2, conditions={code})
    assert result.outcome == URGENT
    assert result.clinical_outcome == NOT_SUITABLE
    assert not result.can_self_book_consultation
    assert [reason.outcome for reason in result.reasons] == [URGENT, NOT_SUITABLE]


def test_urgent_with_a_relative_contraindication_can_still_request_a_consultation():
    result = run(item9=1, conditions={"seizures"})
    assert (result.outcome, result.clinical_outcome) == (URGENT, REVIEW)
    assert result.can_self_book_consultation


def test_absolute_beats_relative_and_all_reasons_are_kept():
    result = run(conditions={"ketamine_hypersensitivity", "psychosis"}, medications={"maoi_14d"})
    assert result.outcome == NOT_SUITABLE
    assert {reason.rule for reason in result.reasons} == {"ketamine_hypersensitivity", "psychosis", "maoi_14d"}


def test_every_pair_of_conditions_gives_the_most_serious_outcome():
    codes = sorted(ABSOLUTE_CONTRAINDICATIONS) + sorted(set(RELATIVE_CONTRAINDICATIONS) - {"maoi_14d"})
    for first, second in itertools.combinations(codes, 2):
        result = run(conditions={first, second})
        absolute = {first, second} & ABSOLUTE_CONTRAINDICATIONS.keys()
        assert result.outcome == (NOT_SUITABLE if absolute else REVIEW), (first, second)
        assert len(result.reasons) == 2


def test_medicines_to_discuss_are_flagged_without_changing_the_outcome():
    result = run(medications={"benzodiazepines", "lamotrigine", "stimulants"})
    assert result.outcome == ELIGIBLE
    assert result.flags == ("discuss:benzodiazepines", "discuss:lamotrigine")


def test_unknown_input_is_refused():
    with pytest.raises(ValueError, match="unknown"):
        run(conditions={"made_up"})
    with pytest.raises(ValueError):
        run(item9=4)
