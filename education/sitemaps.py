from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from education.models import Article, Condition


class ArticleSitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.8

    def items(self):
        return Article.objects.published().only("slug", "updated_at")

    def lastmod(self, item):
        return item.updated_at


class ConditionSitemap(ArticleSitemap):
    def items(self):
        return Condition.objects.published().only("slug", "updated_at")


class PageSitemap(Sitemap):
    """The fixed pages a patient may search for."""

    changefreq = "weekly"
    priority = 0.6

    def items(self):
        return [
            "home",
            "crisis",
            "education:learn",
            "education:conditions",
            "education:faq",
            "screening:start",
            "booking:start",
        ]

    def location(self, item):
        return reverse(item)


SITEMAPS = {"pages": PageSitemap, "articles": ArticleSitemap, "conditions": ConditionSitemap}
