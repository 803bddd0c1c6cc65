"""Custom fields in forms: the inputs a company or contact form gets for each active field, and the
administrator's form of a definition (whose inputs follow the chosen type)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm.core.crypto import masking

from ..choices import CustomFieldEntity, CustomFieldKind
from ..models import CustomField
from . import selectors
from .filters import param
from .values import CHOICE_KINDS, NO, YES, clean_value, is_empty, to_form, to_text

K = CustomFieldKind


# --- a record's form ---------------------------------------------------------------------------------------


class CustomValueField(forms.Field):
    """One custom field's input; cleans to the canonical JSON value (``None`` when left empty)."""

    def __init__(self, *, definition: Any, **kwargs: Any) -> None:
        self.definition = definition
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Any:
        if is_empty(value):
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return None
        return clean_value(self.definition, value)

    def has_changed(self, initial: Any, data: Any) -> bool:
        return True  # the form compares canonical values itself


def _widget(definition: Any) -> forms.Widget:
    kind = definition.kind
    if kind == K.LONG_TEXT:
        return forms.Textarea(attrs={"rows": 3})
    if kind in (K.NUMBER, K.MONEY):
        attrs = {"inputmode": "decimal", "autocomplete": "off"}
        if kind == K.MONEY:
            attrs["placeholder"] = "0.00"
        return forms.TextInput(attrs=attrs)
    if kind == K.DATE:
        return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    if kind == K.BOOLEAN:
        return forms.Select(choices=[("", "—"), ("true", YES), ("false", NO)])
    if kind == K.CHOICE:
        return forms.Select(choices=[("", "—"), *((choice, choice) for choice in definition.choices or [])])
    if kind == K.MULTI_CHOICE:
        return forms.CheckboxSelectMultiple(
            choices=[(choice, choice) for choice in definition.choices or []], attrs={"class": "form-check-input"}
        )
    if kind == K.URL:
        return forms.URLInput(attrs={"placeholder": "https://", "autocomplete": "off"})
    if kind == K.EMAIL:
        return forms.EmailInput(attrs={"autocomplete": "off"})
    if kind == K.PHONE:
        return forms.TextInput(attrs={"type": "tel", "autocomplete": "off"})
    return forms.TextInput()


def value_field(definition: Any, *, initial: Any = None) -> CustomValueField:
    return CustomValueField(
        definition=definition,
        label=definition.label,
        required=definition.required,
        help_text=definition.help_text,
        initial=initial,
        widget=_widget(definition),
    )


class CustomFieldsFormMixin:
    """Adds the active custom fields of ``custom_entity`` to a company or contact ModelForm (as
    ``cf_<key>``); ``service_error`` puts a service's ``custom.<key>`` errors next to them.

    Someone who may not see sensitive fields (the form's ``user``) edits the other fields of an
    existing record: the sensitive ones are left out of the form and keep their values."""

    custom_entity: str = ""
    fields: dict[str, Any]
    instance: Any
    data: Any
    files: Any
    cleaned_data: dict[str, Any]

    def add_custom_fields(self) -> None:
        definitions = selectors.active_definitions(self.custom_entity)
        self.custom_sensitive_hidden = not self.instance._state.adding and not masking.may_view(
            getattr(self, "user", None)
        )
        # The labels of the fields left out, for a note that they are kept as they are.
        self.custom_hidden_labels = (
            [definition.label for definition in definitions if definition.sensitive]
            if self.custom_sensitive_hidden
            else []
        )
        if self.custom_sensitive_hidden:
            definitions = [definition for definition in definitions if not definition.sensitive]
        self.custom_definitions = definitions
        stored = self.instance.custom if self.instance.pk and isinstance(self.instance.custom, dict) else {}
        for definition in self.custom_definitions:
            value = stored.get(definition.key) if self.instance.pk else definition.default
            self.fields[param(definition)] = value_field(definition, initial=to_form(definition, value))

    @property
    def custom_bound_fields(self) -> list[Any]:
        return [self[param(definition)] for definition in self.custom_definitions]  # type: ignore[index]

    def custom_changes(self) -> dict[str, Any] | None:
        """The custom values for the service: on a new record every field (an emptied default stays
        empty), on an edit the fields whose value changed; ``None`` when there is nothing to send."""
        adding = self.instance._state.adding
        stored = self.instance.custom if isinstance(self.instance.custom, dict) else {}
        changes: dict[str, Any] = {}
        for definition in self.custom_definitions:
            name = param(definition)
            if name not in self.cleaned_data:
                continue
            widget = self.fields[name].widget
            sent = isinstance(widget, forms.CheckboxSelectMultiple) or not widget.value_omitted_from_data(
                self.data,
                self.files,
                self.add_prefix(name),  # type: ignore[attr-defined]
            )
            if not adding and not sent:
                continue  # a script posting a few fields leaves the others alone
            value = self.cleaned_data[name]
            if adding or value != stored.get(definition.key):
                changes[definition.key] = value
        return changes or None

    def service_error(self, exc: ValidationError) -> ValidationError:
        """A service's error with its ``custom.<key>`` entries renamed after this form's inputs, so
        that each lands next to its field."""
        if not hasattr(exc, "error_dict"):
            return exc
        renamed: dict[str, Any] = {}
        for key, errors in exc.error_dict.items():
            if key.startswith("custom."):
                name = f"cf_{key.removeprefix('custom.')}"
                key = name if name in self.fields else "__all__"
            elif key == "custom":
                key = "__all__"
            renamed.setdefault(key, []).extend(errors)
        return ValidationError(renamed)


# --- the administrator's form of a definition ----------------------------------------------------------------


def _choices_from_text(text: Any) -> list[str]:
    if isinstance(text, (list, tuple)):
        return [str(item).strip() for item in text if str(item).strip()]
    return [line.strip() for line in str(text or "").splitlines() if line.strip()]


class DefinitionForm(forms.Form):
    """A custom field's definition. The key is chosen once; the default's input follows the type."""

    label = forms.CharField(label=_("Label"), max_length=100)
    key = forms.CharField(
        label=_("Key"),
        max_length=50,
        required=False,
        help_text=_(
            "Names the field in the API, imports and exports: lower-case letters, digits and underscores. "
            "Made from the label when left empty. It cannot be changed later."
        ),
    )
    kind = forms.ChoiceField(label=_("Type"), choices=CustomFieldKind.choices)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One choice per line, in the order they are offered."),
    )
    required = forms.BooleanField(label=_("Required"), required=False, help_text=_("New records must have a value."))
    sensitive = forms.BooleanField(
        label=_("Sensitive"),
        required=False,
        help_text=_(
            "Stored encrypted and shown only to roles that may view sensitive fields (others see it masked); "
            "it cannot be filtered or sorted on. Changing this re-encrypts or decrypts the values records hold."
        ),
    )
    help_text = forms.CharField(
        label=_("Help text"), max_length=200, required=False, help_text=_("Shown under the field in forms.")
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, instance: CustomField | None = None, entity: str = "", **kwargs: Any) -> None:
        self.instance = instance
        self.entity = instance.entity if instance is not None else entity
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "label": instance.label,
                "key": instance.key,
                "kind": instance.kind,
                "choices": "\n".join(instance.choices or []),
                "required": instance.required,
                "sensitive": instance.sensitive,
                "help_text": instance.help_text,
                "version": instance.version,
                "default": to_form(instance, instance.default),
            }
        super().__init__(*args, **kwargs)
        source = self.data if self.is_bound else self.initial
        self.chosen_kind = source.get("kind") or (instance.kind if instance is not None else K.TEXT)
        if self.chosen_kind not in CustomFieldKind.values:
            self.chosen_kind = K.TEXT
        self.choice_list = _choices_from_text(source.get("choices", ""))
        if instance is not None:
            self.fields["key"].disabled = True
            self.fields["key"].help_text = _("Names the field in the API, imports and exports; it cannot be changed.")
            self.fields["version"].required = True
        self.fields["kind"].widget.attrs.update({"data-refresh": "kind"})
        if self.chosen_kind not in CHOICE_KINDS:
            del self.fields["choices"]
        self.fields["default"] = self._default_field()

    def _default_field(self) -> forms.Field:
        label = _("Default")
        hint = _("Filled in on new records; leave empty for none.")
        kind = self.chosen_kind
        if kind == K.BOOLEAN:
            return forms.ChoiceField(
                label=label,
                required=False,
                help_text=hint,
                choices=[("", _("No default")), ("true", YES), ("false", NO)],
            )
        if kind == K.CHOICE:
            return forms.ChoiceField(
                label=label,
                required=False,
                help_text=hint,
                choices=[("", _("No default")), *((c, c) for c in self.choice_list)],
            )
        if kind == K.MULTI_CHOICE:
            return forms.MultipleChoiceField(
                label=label,
                required=False,
                help_text=hint,
                choices=[(c, c) for c in self.choice_list],
                widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
            )
        if kind == K.DATE:
            return forms.CharField(
                label=label, required=False, help_text=hint, widget=forms.DateInput(attrs={"type": "date"})
            )
        if kind == K.LONG_TEXT:
            return forms.CharField(
                label=label, required=False, help_text=hint, widget=forms.Textarea(attrs={"rows": 3}), strip=False
            )
        return forms.CharField(label=label, required=False, help_text=hint, max_length=500)

    def clean_choices(self) -> list[str]:
        return _choices_from_text(self.cleaned_data.get("choices", ""))

    def service_data(self) -> dict[str, Any]:
        data = {
            "label": self.cleaned_data["label"],
            "kind": self.cleaned_data["kind"],
            "required": bool(self.cleaned_data.get("required")),
            "sensitive": bool(self.cleaned_data.get("sensitive")),
            "help_text": self.cleaned_data.get("help_text", ""),
            "choices": self.cleaned_data.get("choices", []) if self.chosen_kind in CHOICE_KINDS else [],
            "default": self.cleaned_data.get("default"),
        }
        if is_empty(data["default"]):
            data["default"] = None
        if self.instance is None:
            data["key"] = self.cleaned_data.get("key", "")
            data["entity"] = self.entity
        return data

    @property
    def entity_label(self) -> Any:
        return dict(CustomFieldEntity.choices).get(self.entity, self.entity)


def default_text(definition: Any) -> str:
    """The definition's default as the list of definitions shows it."""
    if definition.default is None:
        return ""
    return to_text(definition, definition.default)
