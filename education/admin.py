from typing import TYPE_CHECKING

from django.contrib import admin
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from education.markdown import render_markdown
from education.models import FAQ, Article, Condition

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldOpts
    from django_stubs_ext import StrOrPromise

    Fieldset = tuple[StrOrPromise, _FieldOpts]


class ReviewedContentAdmin(admin.ModelAdmin):
    """Shared by the three kinds of content: publish state, review line and a rendered preview."""

    list_filter = ["published", "reviewed_on"]
    list_editable = ["order", "published"]
    readonly_fields = ["preview", "updated_at"]
    review_fieldset: "Fieldset" = (_("Medical review"), {"fields": ["reviewed_on", "reviewed_by", "references"]})
    publish_fieldset: "Fieldset" = (_("Publishing"), {"fields": ["published", "order", "updated_at"]})
    preview_fieldset: "Fieldset" = (
        _("Preview (as saved; use “Save and continue editing” to refresh)"),
        {"fields": ["preview"]},
    )
    body_field = "body"

    @admin.display(description=_("Rendered page text"))
    def preview(self, obj):
        if obj is None or obj.pk is None:
            return _("Save once to see the preview.")
        references = "".join(f"<li>{render_markdown(line)}</li>" for line in obj.reference_list())
        return format_html(
            '<div class="content-preview">{}<h2>References</h2><ol>{}</ol></div>',
            render_markdown(getattr(obj, self.body_field)),
            mark_safe(references),  # noqa: S308 - each item sanitised by render_markdown
        )


@admin.register(Article)
class ArticleAdmin(ReviewedContentAdmin):
    list_display = ["title", "category", "order", "published", "reviewed_on"]
    list_filter = ["published", "category", "reviewed_on"]
    search_fields = ["title", "summary", "body"]
    prepopulated_fields = {"slug": ["title"]}
    fieldsets = [
        (None, {"fields": ["title", "slug", "category", "summary", "body"]}),
        ReviewedContentAdmin.review_fieldset,
        ReviewedContentAdmin.publish_fieldset,
        ReviewedContentAdmin.preview_fieldset,
    ]


@admin.register(Condition)
class ConditionAdmin(ReviewedContentAdmin):
    list_display = ["name", "order", "published", "reviewed_on"]
    search_fields = ["name", "summary", "body"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["related_articles"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "summary", "evidence_note", "body", "related_articles"]}),
        ReviewedContentAdmin.review_fieldset,
        ReviewedContentAdmin.publish_fieldset,
        ReviewedContentAdmin.preview_fieldset,
    ]


@admin.register(FAQ)
class FAQAdmin(ReviewedContentAdmin):
    list_display = ["question", "order", "published", "reviewed_on"]
    search_fields = ["question", "answer"]
    body_field = "answer"
    fieldsets = [
        (None, {"fields": ["question", "answer"]}),
        ReviewedContentAdmin.review_fieldset,
        ReviewedContentAdmin.publish_fieldset,
        ReviewedContentAdmin.preview_fieldset,
    ]
