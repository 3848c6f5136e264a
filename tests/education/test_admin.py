import pytest

from tests.factories import ArticleFactory, ConditionFactory, FAQFactory, StaffUserFactory, staff_sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    staff_sign_in(client, StaffUserFactory(is_superuser=True))
    return client


@pytest.mark.parametrize(
    ("factory", "url"),
    [(ArticleFactory, "article"), (ConditionFactory, "condition"), (FAQFactory, "faq")],
)
def test_staff_see_a_rendered_and_sanitised_preview(staff_client, factory, url):
    field = "answer" if factory is FAQFactory else "body"
    item = factory(**{field: "## Preview heading\n\n<script>alert(1)</script>"})
    html = staff_client.get(f"/admin/education/{url}/{item.pk}/change/").content.decode()
    preview = html.split('class="content-preview"')[1].split("</div>")[0]
    assert "<h2>Preview heading</h2>" in preview
    assert "<script>alert(1)" not in preview
    assert "Zarate CA Jr et al." in preview


@pytest.mark.parametrize("url", ["article", "condition", "faq"])
def test_staff_lists_and_add_forms_open(staff_client, url):
    assert staff_client.get(f"/admin/education/{url}/").status_code == 200
    add = staff_client.get(f"/admin/education/{url}/add/")
    assert add.status_code == 200
    assert "Save once to see the preview." in add.content.decode()
