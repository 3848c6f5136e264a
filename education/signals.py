"""Any write to education content (admin, shell, fixtures) retires the cached pages.

A signal rather than a call in each write path, because a missed path would show patients
stale medical content.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from education.models import FAQ, Article, Condition
from education.services import content_changed


@receiver(post_save, sender=Article)
@receiver(post_save, sender=Condition)
@receiver(post_save, sender=FAQ)
@receiver(post_delete, sender=Article)
@receiver(post_delete, sender=Condition)
@receiver(post_delete, sender=FAQ)
@receiver(m2m_changed, sender=Condition.related_articles.through)
def _education_content_changed(**kwargs) -> None:
    content_changed()
