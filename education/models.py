from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class PublishedQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published=True)


class ReviewedContent(models.Model):
    """What every patient-facing page carries: a medical review line and its references."""

    published = models.BooleanField(
        _("published"), default=False, help_text=_("Only published content is shown to patients.")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    reviewed_on = models.DateField(_("reviewed on"))
    reviewed_by = models.CharField(
        _("reviewed by"),
        max_length=150,
        help_text=_("Shown as “Reviewed on <date> by <this>”, e.g. “Dr. Jane Roe, MD, medical director”."),
    )
    references = models.TextField(
        _("references"),
        help_text=_("One reference per line. Markdown links are allowed: [title](https://…)."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = PublishedQuerySet.as_manager()

    class Meta:
        abstract = True

    def reference_list(self) -> list[str]:
        return [line.strip() for line in self.references.splitlines() if line.strip()]


class Article(ReviewedContent):
    class Category(models.TextChoices):
        BASICS = "basics", _("How it works")
        TREATMENT = "treatment", _("Treatment")
        BENEFITS_AND_RISKS = "benefits-and-risks", _("Benefits and risks")
        GETTING_STARTED = "getting-started", _("Getting started")

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    title = models.CharField(_("title"), max_length=120)
    summary = models.CharField(_("summary"), max_length=300, help_text=_("Shown in lists and search results."))
    body = models.TextField(_("body"), help_text=_("Markdown."))
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)

    class Meta:
        ordering = ["order", "title"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("education:article", kwargs={"slug": self.slug})


class Condition(ReviewedContent):
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    name = models.CharField(_("name"), max_length=120)
    summary = models.CharField(_("summary"), max_length=300)
    body = models.TextField(_("body"), help_text=_("Markdown."))
    evidence_note = models.CharField(
        _("evidence note"), max_length=300, help_text=_("One honest sentence on how strong the evidence is.")
    )
    related_articles = models.ManyToManyField(Article, blank=True, related_name="conditions")

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("condition")
        verbose_name_plural = _("conditions")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("education:condition", kwargs={"slug": self.slug})


class FAQ(ReviewedContent):
    question = models.CharField(_("question"), max_length=200)
    answer = models.TextField(_("answer"), help_text=_("Markdown."))

    class Meta:
        ordering = ["order", "question"]
        verbose_name = _("frequently asked question")
        verbose_name_plural = _("frequently asked questions")

    def __str__(self) -> str:
        return self.question
