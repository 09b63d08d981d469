from django import forms
from django.utils.translation import gettext_lazy as _

from minutes.models import Minutes

SUMMARY_HELP = _(
    "Plain text. **bold**, *italic*, a blank line between paragraphs, "
    "lines starting with “- ” for a list. HTML is shown as typed, never run."
)


class SummariesForm(forms.Form):
    introduction = forms.CharField(
        label=_("Introduction"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=SUMMARY_HELP,
    )

    def __init__(self, *args, items: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[f"summary_{item['id']}"] = forms.CharField(
                label=_("Summary of the debate on item %(position)s")
                % {"position": item["position"]},
                required=False,
                max_length=20_000,
                widget=forms.Textarea(attrs={"rows": 5}),
                help_text=SUMMARY_HELP,
            )

    def summaries(self) -> dict[int, str]:
        return {
            item["id"]: self.cleaned_data[f"summary_{item['id']}"]
            for item in self.items
        }

    def rows(self):
        """(item, bound field) pairs for the template."""
        return [(item, self[f"summary_{item['id']}"]) for item in self.items]


class ObjectionForm(forms.Form):
    text = forms.CharField(
        label=_("Your objection"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AdoptForm(forms.Form):
    method = forms.ChoiceField(
        label=_("How the sitting adopted the minutes"),
        choices=Minutes.AdoptionMethod.choices,
        widget=forms.RadioSelect,
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(label=_("Why the draft is reopened"), max_length=300)


class SignatureForm(forms.Form):
    signed_on = forms.DateField(
        label=_("Signed on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    signatories = forms.CharField(
        label=_("Signed by"),
        max_length=500,
        help_text=_("The mayor or chair, and the director-general."),
    )
    scan = forms.FileField(
        label=_("Scan of the signed paper (PDF, PNG or JPEG)"), required=False
    )


class CorrectionForm(forms.Form):
    reason = forms.CharField(
        label=_("What the correction changes"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    decision_text = forms.CharField(
        label=_("Corrected decision text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Leave empty to keep the decision text of the minutes."),
    )


class AuditFilterForm(forms.Form):
    action = forms.CharField(label=_("Action starts with"), required=False)
    actor = forms.CharField(label=_("Actor"), required=False)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
