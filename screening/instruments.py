"""The standard questionnaires, with their validated wording kept word for word.

PHQ-9 and GAD-7: developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and
colleagues, with an educational grant from Pfizer Inc.; no permission is required to
reproduce, translate, display or distribute them. PCL-5: Weathers, Litz, Keane, Palmieri,
Marx and Schnurr, National Center for PTSD (US Department of Veterans Affairs), 2013; public
domain.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Instrument:
    key: str
    name: str
    stem: str
    items: tuple[str, ...]
    options: tuple[str, ...]  # option i scores i
    credit: str

    @property
    def max_item_score(self) -> int:
        return len(self.options) - 1


FREQUENCY_OPTIONS = ("Not at all", "Several days", "More than half the days", "Nearly every day")

PHQ9 = Instrument(
    key="phq9",
    name="PHQ-9",
    stem="Over the last 2 weeks, how often have you been bothered by any of the following problems?",
    items=(
        "Little interest or pleasure in doing things",
        "Feeling down, depressed, or hopeless",
        "Trouble falling or staying asleep, or sleeping too much",
        "Feeling tired or having little energy",
        "Poor appetite or overeating",
        "Feeling bad about yourself — or that you are a failure or have let yourself or your family down",
        "Trouble concentrating on things, such as reading the newspaper or watching television",
        "Moving or speaking so slowly that other people could have noticed? Or the opposite — being so fidgety "
        "or restless that you have been moving around a lot more than usual",
        "Thoughts that you would be better off dead or of hurting yourself in some way",
    ),
    options=FREQUENCY_OPTIONS,
    credit=(
        "Patient Health Questionnaire (PHQ-9). Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, "
        "Kurt Kroenke and colleagues, with an educational grant from Pfizer Inc. No permission required to "
        "reproduce. Kroenke K, Spitzer RL, Williams JB. J Gen Intern Med 2001;16:606–613."
    ),
)

PHQ9_DIFFICULTY_QUESTION = (
    "If you checked off any problems, how difficult have these problems made it for you to do your work, "
    "take care of things at home, or get along with other people?"
)
PHQ9_DIFFICULTY_OPTIONS = ("Not difficult at all", "Somewhat difficult", "Very difficult", "Extremely difficult")

GAD7 = Instrument(
    key="gad7",
    name="GAD-7",
    stem="Over the last 2 weeks, how often have you been bothered by the following problems?",
    items=(
        "Feeling nervous, anxious, or on edge",
        "Not being able to stop or control worrying",
        "Worrying too much about different things",
        "Trouble relaxing",
        "Being so restless that it is hard to sit still",
        "Becoming easily annoyed or irritable",
        "Feeling afraid, as if something awful might happen",
    ),
    options=FREQUENCY_OPTIONS,
    credit=(
        "Generalized Anxiety Disorder 7-item scale (GAD-7). Developed by Drs. Robert L. Spitzer, Janet B.W. "
        "Williams, Kurt Kroenke and colleagues, with an educational grant from Pfizer Inc. No permission required "
        "to reproduce. Spitzer RL, Kroenke K, Williams JB, Löwe B. Arch Intern Med 2006;166:1092–1097."
    ),
)

PCL5 = Instrument(
    key="pcl5",
    name="PCL-5",
    stem=(
        # The paper form says "circle one of the numbers to the right"; only that instruction is adapted.
        "Below is a list of problems that people sometimes have in response to a very stressful experience. "
        "Please read each problem carefully and then choose one of the answers to indicate how much you have "
        "been bothered by that problem in the past month. In the past month, how much were you bothered by:"
    ),
    items=(
        "Repeated, disturbing, and unwanted memories of the stressful experience?",
        "Repeated, disturbing dreams of the stressful experience?",
        "Suddenly feeling or acting as if the stressful experience were actually happening again (as if you "
        "were actually back there reliving it)?",
        "Feeling very upset when something reminded you of the stressful experience?",
        "Having strong physical reactions when something reminded you of the stressful experience (for example, "
        "heart pounding, trouble breathing, sweating)?",
        "Avoiding memories, thoughts, or feelings related to the stressful experience?",
        "Avoiding external reminders of the stressful experience (for example, people, places, conversations, "
        "activities, objects, or situations)?",
        "Trouble remembering important parts of the stressful experience?",
        "Having strong negative beliefs about yourself, other people, or the world (for example, having thoughts "
        "such as: I am bad, there is something seriously wrong with me, no one can be trusted, the world is "
        "completely dangerous)?",
        "Blaming yourself or someone else for the stressful experience or what happened after it?",
        "Having strong negative feelings such as fear, horror, anger, guilt, or shame?",
        "Loss of interest in activities that you used to enjoy?",
        "Feeling distant or cut off from other people?",
        "Trouble experiencing positive feelings (for example, being unable to feel happiness or have loving "
        "feelings for people close to you)?",
        "Irritable behavior, angry outbursts, or acting aggressively?",
        "Taking too many risks or doing things that could cause you harm?",
        'Being "superalert" or watchful or on guard?',
        "Feeling jumpy or easily startled?",
        "Having difficulty concentrating?",
        "Trouble falling or staying asleep?",
    ),
    options=("Not at all", "A little bit", "Moderately", "Quite a bit", "Extremely"),
    credit=(
        "PTSD Checklist for DSM-5 (PCL-5). Weathers FW, Litz BT, Keane TM, Palmieri PA, Marx BP, Schnurr PP. "
        "National Center for PTSD, US Department of Veterans Affairs, 2013. Public domain."
    ),
)
