"""Step-by-step form data for the people whose screenings the tests walk through."""

from django.utils import timezone


def phq9(total_without_item9: int = 6, item9: int = 0) -> dict:
    answers = {f"item_{n}": "0" for n in range(1, 10)}
    left = total_without_item9
    for n in range(1, 9):
        answers[f"item_{n}"] = str(min(3, left))
        left -= min(3, left)
    answers["item_9"] = str(item9)
    answers["difficulty"] = "1"
    return answers


def gad7(total: int = 5) -> dict:
    answers = {}
    for n in range(1, 8):
        answers[f"item_{n}"] = str(min(3, total))
        total -= min(3, total)
    return answers


def pcl5(total: int = 40) -> dict:
    answers = {}
    for n in range(1, 21):
        answers[f"item_{n}"] = str(min(4, total))
        total -= min(4, total)
    return answers


def about(*, age: int = 40) -> dict:
    today = timezone.localdate()
    return {
        "full_name": "Alex Rivera",
        "email": "alex@example.org",
        "phone": "(555) 010-0123",
        "date_of_birth": today.replace(year=today.year - age, day=1).isoformat(),
        "region": "NY",
    }


def persona(
    *, age=40, concerns=("depression",), item9=0, conditions=(), medications=(), pcl5_total=40
) -> list[tuple[str, dict]]:
    steps = [
        ("about", about(age=age)),
        (
            "concerns",
            {"concerns": list(concerns), "antidepressants_tried": "2", "has_therapist": "yes", "has_prescriber": "yes"},
        ),
        ("phq9", phq9(item9=item9)),
        ("gad7", gad7()),
    ]
    if "ptsd" in concerns:
        steps.append(("pcl5", pcl5(pcl5_total)))
    steps.append(("health", {"conditions": list(conditions)} if conditions else {"none_apply": "on"}))
    steps.append(("medications", {"medications": list(medications)} if medications else {"none_apply": "on"}))
    steps.append(("consent", {"privacy": "on", "accuracy": "on", "not_emergency": "on"}))
    return steps


ELIGIBLE = persona()
REVIEW = persona(conditions=("seizures",), concerns=("depression", "ptsd"))
NOT_SUITABLE = persona(conditions=("intracerebral_hemorrhage",))
URGENT = persona(item9=2, concerns=("depression", "anxiety"))
