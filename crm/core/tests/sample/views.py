from typing import Any

from django import forms
from django.urls import reverse
from rest_framework import serializers

from crm.core.api.serializers import StrictFieldsMixin
from crm.core.api.viewsets import ScopedModelViewSet
from crm.core.views.generic import ObjectActionView, ObjectDetailView, ObjectFormView, ObjectListView

from . import services
from .models import Gadget


class GadgetForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Gadget
        fields = ["name", "notes"]


class GadgetListView(ObjectListView):
    module = "sample"
    model = Gadget
    template_name = "sample/gadget_list.html"


class GadgetDetailView(ObjectDetailView):
    module = "sample"
    model = Gadget
    template_name = "sample/gadget_detail.html"


class GadgetFormView(ObjectFormView):
    module = "sample"
    model = Gadget
    form_class = GadgetForm
    template_name = "sample/gadget_form.html"

    def get_form_kwargs(self, instance: Any) -> dict[str, Any]:
        return {"instance": instance, "initial": {"version": instance.version} if instance else {}}

    def save(self, form: Any, instance: Any) -> Any:
        data = {k: form.cleaned_data[k] for k in ("name", "notes")}
        if instance is None:
            return services.gadget_create(actor=self.request.user, **data)
        return services.gadget_update(
            actor=self.request.user, gadget=instance, data=data, version=form.cleaned_data["version"]
        )


class GadgetDeleteView(ObjectActionView):
    module = "sample"
    model = Gadget
    permission_action = "delete"

    def act(self, obj: Any) -> None:
        services.gadget_delete(actor=self.request.user, gadget=obj)

    def get_success_url(self, obj: Any) -> str:
        return reverse("sample:gadget_list")


class GadgetSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Gadget
        fields = ["id", "name", "notes", "owner", "team", "version", "created_at"]
        read_only_fields = ["id", "owner", "team", "version", "created_at"]


class GadgetViewSet(ScopedModelViewSet):
    module = "sample"
    queryset = Gadget.objects.all()
    serializer_class = GadgetSerializer

    def create_service(self, *, actor: Any, data: dict[str, Any]) -> Gadget:
        return services.gadget_create(actor=actor, **data)

    def update_service(self, *, actor: Any, instance: Gadget, data: dict[str, Any], version: int) -> Gadget:
        return services.gadget_update(actor=actor, gadget=instance, data=data, version=version)

    def delete_service(self, *, actor: Any, instance: Gadget) -> None:
        services.gadget_delete(actor=actor, gadget=instance)
