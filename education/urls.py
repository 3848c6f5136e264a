from django.utils.translation import gettext_lazy as _

from telemed.views import pending_section

app_name = "education"

# Until this section opens online, its page tells patients how to reach the clinic by phone
# instead of leaving a dead link in the navigation.
urlpatterns = [
    pending_section("learn/", name="learn", section=_("Learn")),
    pending_section("conditions/", name="conditions", section=_("Conditions")),
    pending_section("faq/", name="faq", section=_("FAQ")),
]
