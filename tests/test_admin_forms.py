"""The admin's action pages show a service's refusal on their form: by field where the form has it, else on top."""

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError

from assurance.admin_forms import show_refusal


class DayForm(forms.Form):
    on = forms.DateField()


def shown(refused) -> dict:
    form = DayForm({"on": "2022-07-01"})
    assert form.is_valid()
    show_refusal(form, refused)
    return {field: list(errors) for field, errors in form.errors.items()}


def test_a_refusal_by_field_goes_beside_the_field_and_one_of_a_field_the_form_lacks_on_top():
    refused = ValidationError({"on": "The day is before the CCG existed.", "icb": "Choose an ICB."})
    assert shown(refused) == {"on": ["The day is before the CCG existed."], "__all__": ["Choose an ICB."]}


def test_a_refusal_of_the_whole_change_and_one_of_who_may_act_go_on_top():
    assert shown(ValidationError(["Already a place.", "Name it."])) == {"__all__": ["Already a place.", "Name it."]}
    assert shown(PermissionDenied("Only an administrator can do this.")) == {
        "__all__": ["Only an administrator can do this."]
    }
