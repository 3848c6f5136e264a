"""What research says about outcomes, as the home page states it: each statement in our own
words, with the sources it rests on (../shared/REFERENCES.md) and our page that cites them.
Never a promise: where evidence is small or mixed, the statement says so."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

reverse_lazy_str = lazy(reverse, str)


@dataclass(frozen=True)
class Source:
    citation: str
    # A stable address of the paper (DOI or PubMed) when REFERENCES.md gives one.
    url: str = ""

    @property
    def identifier(self) -> str:
        """The link's text, as a reference list writes it: doi:… or PMID …."""
        for prefix, label in (("https://doi.org/", "doi:"), ("https://pubmed.ncbi.nlm.nih.gov/", "PMID ")):
            if self.url.startswith(prefix):
                return label + self.url.removeprefix(prefix).rstrip("/")
        return self.url


@dataclass(frozen=True)
class Outcome:
    heading: "StrOrPromise"
    statement: "StrOrPromise"
    sources: tuple[Source, ...]
    read_more_url: str
    read_more_label: "StrOrPromise"


# Named as a reference list names them, short: authors, journal, year;volume:pages (the titles
# are in the references of the page each statement links to).
NEWPORT_2015 = Source(
    "Newport DJ et al. American Journal of Psychiatry 2015;172:950–966 (meta-analysis).",
    "https://doi.org/10.1176/appi.ajp.2015.15040465",
)
ZARATE_2006 = Source("Zarate CA Jr et al. Archives of General Psychiatry 2006;63:856–864.")
MURROUGH_2013 = Source(
    "Murrough JW et al. American Journal of Psychiatry 2013;170:1134–1142.",
    "https://pubmed.ncbi.nlm.nih.gov/23982301/",
)
SPRAVATO_LABEL = Source(
    "SPRAVATO (esketamine) nasal spray, US prescribing information (Janssen); FDA approvals 2019, 2020 and 2025."
)
ABDALLAH_2022 = Source("Abdallah CG et al. Neuropsychopharmacology 2022.")
FEDER_2021 = Source("Feder A et al. American Journal of Psychiatry 2021;178:193–202.")
GLUE_2017 = Source("Glue P et al. Journal of Psychopharmacology 2017;31:1302–1305.")
TAYLOR_2018 = Source("Taylor JH et al. Neuropsychopharmacology 2018;43:325–333.")
SANACORA_2017 = Source("Sanacora G et al. JAMA Psychiatry 2017;74:399–405 (consensus statement).")
MCINTYRE_2021 = Source(
    "McIntyre RS et al. American Journal of Psychiatry 2021;178:383–399 (expert opinion).",
    "https://doi.org/10.1176/appi.ajp.2020.20081251",
)

OUTCOMES = (
    Outcome(
        heading=_("It can work quickly, and often briefly"),
        statement=_(
            "In early controlled trials, many people with depression felt better within hours to a day of a "
            "single dose. For many of them the improvement did not last, which is why treatment is usually a "
            "series of sessions with follow-up."
        ),
        sources=(ZARATE_2006, NEWPORT_2015),
        read_more_url=reverse_lazy_str("education:article", kwargs={"slug": "how-ketamine-works"}),
        read_more_label=_("How ketamine works in the brain"),
    ),
    Outcome(
        heading=_("Depression that other treatments did not lift"),
        statement=_(
            "A randomized trial at two centers found an antidepressant effect of ketamine in people whose "
            "depression had not improved enough with other treatments. It does not help everyone, and no one "
            "can tell in advance who it will help."
        ),
        sources=(MURROUGH_2013, MCINTYRE_2021),
        read_more_url=reverse_lazy_str("education:condition", kwargs={"slug": "depression"}),
        read_more_label=_("Depression"),
    ),
    Outcome(
        heading=_("One form is FDA-approved"),
        statement=_(
            "Esketamine nasal spray is approved for adults with treatment-resistant depression, and, with an "
            "oral antidepressant, for depressive symptoms with acute suicidal thoughts. It has not been shown "
            "to prevent suicide. Ketamine infusions for mental health are off-label."
        ),
        sources=(SPRAVATO_LABEL,),
        read_more_url=reverse_lazy_str("education:article", kwargs={"slug": "how-treatment-is-given"}),
        read_more_label=_("How treatment is given"),
    ),
    Outcome(
        heading=_("Smaller or mixed evidence elsewhere"),
        statement=_(
            "For PTSD the results are mixed: the largest trial, in 158 veterans and service members, found no "
            "clear effect on PTSD, though depression improved. Studies in anxiety have been small, with 12 and "
            "18 people."
        ),
        sources=(FEDER_2021, ABDALLAH_2022, GLUE_2017, TAYLOR_2018),
        read_more_url=reverse_lazy_str("education:conditions"),
        read_more_label=_("Conditions we treat"),
    ),
    Outcome(
        heading=_("Long-term results are less known"),
        statement=_(
            "Experts agree that there is much less information on how long benefits last or on years of "
            "treatment, and that each person needs a careful assessment before starting."
        ),
        sources=(SANACORA_2017, MCINTYRE_2021),
        read_more_url=reverse_lazy_str("education:article", kwargs={"slug": "benefits"}),
        read_more_label=_("Possible benefits of ketamine treatment"),
    ),
)
