from crispy_forms.helper import FormHelper
from django import forms
from django.utils.translation import gettext_lazy as _

from screening.forms import AboutForm


class PatientDetailsForm(forms.Form):
    full_name = AboutForm.base_fields["full_name"]
    email = AboutForm.base_fields["email"]
    phone = AboutForm.base_fields["phone"]
    clean_full_name = AboutForm.clean_full_name
    clean_phone = AboutForm.clean_phone

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["full_name"].widget.attrs["autocomplete"] = "name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.helper = FormHelper(self)
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("It helps us improve; you do not have to tell us."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper(self)
        self.helper.form_tag = False
        self.helper.disable_csrf = True
