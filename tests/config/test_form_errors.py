"""config.form_errors.form_add_product_error: a product error's sentences land on the form, none lost."""
from __future__ import annotations

from django import forms

from config.errors import Conflict, InvalidInput
from config.form_errors import form_add_product_error


class AddressForm(forms.Form):
    address = forms.CharField()


class FieldConflict(Conflict):
    field = "address"


def bound() -> AddressForm:
    form = AddressForm({"address": "a@example.com"})
    assert form.is_valid()
    return form


def test_field_errors_go_on_their_fields_and_unknown_fields_above_the_form():
    form = bound()
    form_add_product_error(form, InvalidInput(fields={"address": ["Bad address."], "port": ["Bad port."]}))
    assert form.errors["address"] == ["Bad address."]
    assert form.non_field_errors() == ["Bad port."]


def test_an_error_without_fields_goes_above_the_form_or_on_the_field_it_names():
    form = bound()
    form_add_product_error(form, Conflict("Reload."))
    assert form.non_field_errors() == ["Reload."]
    form = bound()
    form_add_product_error(form, FieldConflict("Taken."), message="Taken, by someone.")
    assert form.errors["address"] == ["Taken, by someone."] and not form.non_field_errors()
