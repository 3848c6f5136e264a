import pytest

from education.content_loader import load_content
from education.models import FAQ, Article, Condition


@pytest.fixture(autouse=True)
def _start_without_content(request):
    """Tests build exactly the content they need; the migration's content is loaded on demand."""
    if request.node.get_closest_marker("django_db") or "shipped_content" in request.fixturenames:
        request.getfixturevalue("db")
        for model in (Condition, Article, FAQ):
            model.objects.all().delete()


@pytest.fixture
def shipped_content(db):
    """The content the data migration ships."""
    load_content(article_model=Article, condition_model=Condition, faq_model=FAQ)
