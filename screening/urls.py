from django.utils.translation import gettext_lazy as _

from telemed.views import pending_section

app_name = "screening"

# Until this section opens online, its page tells patients how to reach the clinic by phone
# instead of leaving a dead link in the navigation.
urlpatterns = [
    pending_section("", name="start", section=_("Screening")),
]
