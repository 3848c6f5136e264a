"""Scoring of the standard questionnaires: pure functions on plain values, no database."""

from screening.instruments import GAD7, PCL5, PHQ9, Instrument

# (lowest total, band), highest first.
PHQ9_BANDS = ((20, "severe"), (15, "moderately severe"), (10, "moderate"), (5, "mild"), (0, "minimal"))
GAD7_BANDS = ((15, "severe"), (10, "moderate"), (5, "mild"), (0, "minimal"))
# Provisional PTSD at 33 or more (the literature gives 31–33; we use the upper value, per SPEC).
PCL5_POSITIVE_AT = 33
PHQ9_SELF_HARM_ITEM = 9  # "Thoughts that you would be better off dead or of hurting yourself in some way"


Answers = list[int] | tuple[int, ...]


class InvalidAnswers(ValueError):
    pass


def total(instrument: Instrument, answers: Answers) -> int:
    if len(answers) != len(instrument.items):
        raise InvalidAnswers(f"{instrument.name} needs {len(instrument.items)} answers, got {len(answers)}")
    for answer in answers:
        if type(answer) is not int or not 0 <= answer <= instrument.max_item_score:
            raise InvalidAnswers(f"{instrument.name} answers are whole numbers 0–{instrument.max_item_score}")
    return sum(answers)


def band(bands: tuple[tuple[int, str], ...], score: int) -> str:
    return next(label for floor, label in bands if score >= floor)


def phq9_total(answers: Answers) -> int:
    return total(PHQ9, answers)


def phq9_band(score: int) -> str:
    return band(PHQ9_BANDS, score)


def phq9_self_harm(answers: Answers) -> int:
    """The answer to item 9, validated with the rest."""
    total(PHQ9, answers)
    return answers[PHQ9_SELF_HARM_ITEM - 1]


def gad7_total(answers: Answers) -> int:
    return total(GAD7, answers)


def gad7_band(score: int) -> str:
    return band(GAD7_BANDS, score)


def pcl5_total(answers: Answers) -> int:
    return total(PCL5, answers)


def pcl5_positive(score: int) -> bool:
    return score >= PCL5_POSITIVE_AT
