from django import forms
from django.utils.translation import gettext_lazy as _

from telemed.forms import ContactDetailsForm, EmbeddedForm


class PatientDetailsForm(ContactDetailsForm):
    """The contact details of a booking, asked as the screening's "About you" asks them."""


class CancelForm(EmbeddedForm):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("It helps us improve; you do not have to tell us."),
    )
