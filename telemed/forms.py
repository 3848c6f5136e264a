"""Forms both apps use: the contact details the screening and the booking ask for, read by the
same rules (telemed/people.py), in the same words."""

from crispy_forms.helper import FormHelper
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from telemed.people import person_name, phone_number


class EmbeddedForm(forms.Form):
    """Rendered by crispy-forms inside its page's own <form>, which carries the CSRF token."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper(self)
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class ContactDetailsForm(EmbeddedForm):
    full_name = forms.CharField(
        label=_("Full name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        help_text=_("We send your next steps here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        help_text=_("A number where a clinician can reach you, with area code."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )

    def clean_full_name(self):
        if not (name := person_name(self.cleaned_data["full_name"])):
            raise ValidationError(_("Please enter your name."))
        return name

    def clean_phone(self):
        if (number := phone_number(self.cleaned_data["phone"])) is None:
            raise ValidationError(_("Please enter a phone number of 10 to 15 digits, for example (555) 010-0199."))
        return number
