"""Scoring, checked at every band boundary and against invalid answers."""

import itertools

import pytest

from screening import scoring
from screening.instruments import GAD7, PCL5, PHQ9


def answers_summing_to(instrument, target: int) -> list[int]:
    answers, left = [], target
    for _ in instrument.items:
        answers.append(min(left, instrument.max_item_score))
        left -= answers[-1]
    assert left == 0
    return answers


@pytest.mark.parametrize("score", range(0, 28))
def test_phq9_band_for_every_possible_total(score):
    expected = (
        "minimal" if score <= 4 else "mild" if score <= 9 else "moderate" if score <= 14
        else "moderately severe" if score <= 19 else "severe"
    )  # fmt: skip
    assert scoring.phq9_total(answers_summing_to(PHQ9, score)) == score
    assert scoring.phq9_band(score) == expected


@pytest.mark.parametrize("score", range(0, 22))
def test_gad7_band_for_every_possible_total(score):
    expected = "minimal" if score <= 4 else "mild" if score <= 9 else "moderate" if score <= 14 else "severe"
    assert scoring.gad7_total(answers_summing_to(GAD7, score)) == score
    assert scoring.gad7_band(score) == expected


@pytest.mark.parametrize("score", range(0, 81))
def test_pcl5_provisional_positive_from_33(score):
    assert scoring.pcl5_total(answers_summing_to(PCL5, score)) == score
    assert scoring.pcl5_positive(score) is (score >= 33)


@pytest.mark.parametrize(
    ("boundary", "below", "at"),
    [
        (5, "minimal", "mild"),
        (10, "mild", "moderate"),
        (15, "moderate", "moderately severe"),
        (20, "moderately severe", "severe"),
    ],
)
def test_phq9_boundaries(boundary, below, at):
    assert scoring.phq9_band(boundary - 1) == below
    assert scoring.phq9_band(boundary) == at


def test_instrument_lengths_and_scales():
    assert (len(PHQ9.items), PHQ9.max_item_score) == (9, 3)
    assert (len(GAD7.items), GAD7.max_item_score) == (7, 3)
    assert (len(PCL5.items), PCL5.max_item_score) == (20, 4)
    assert PHQ9.items[8] == "Thoughts that you would be better off dead or of hurting yourself in some way"


@pytest.mark.parametrize("item9", range(4))
def test_item9_is_read_from_the_ninth_answer(item9):
    assert scoring.phq9_self_harm([0] * 8 + [item9]) == item9
    assert scoring.phq9_self_harm([3] * 8 + [item9]) == item9


@pytest.mark.parametrize(
    ("instrument", "answers"),
    [
        (PHQ9, [0] * 8),
        (PHQ9, [0] * 10),
        (PHQ9, [0] * 8 + [4]),
        (PHQ9, [0] * 8 + [-1]),
        (GAD7, [0] * 6 + ["1"]),
        (GAD7, [0] * 6 + [1.0]),
        (GAD7, [0] * 6 + [True]),
        (PCL5, [0] * 19 + [5]),
        (PCL5, []),
    ],
)
def test_invalid_answers_are_refused(instrument, answers):
    with pytest.raises(scoring.InvalidAnswers):
        scoring.total(instrument, answers)


def test_every_single_item_answer_counts():
    for instrument in (PHQ9, GAD7, PCL5):
        for position, value in itertools.product(range(len(instrument.items)), range(instrument.max_item_score + 1)):
            answers = [0] * len(instrument.items)
            answers[position] = value
            assert scoring.total(instrument, answers) == value
