"""API of duplicates and merges.

- ``GET /api/v1/duplicates/?entity=contact&status=open``: likely pairs whose two records the caller sees;
  ``POST /api/v1/duplicates/{id}/dismiss/`` ("not a duplicate"), ``.../reopen/``;
  ``POST /api/v1/duplicates/scan/`` starts a scan (a job to follow under ``/api/v1/jobs/``).
- ``POST /api/v1/merges/``: merge records; ``GET /api/v1/merges/``: merges into records the caller sees;
  ``POST /api/v1/merges/{id}/undo/``.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.core.api.serializers import JobSerializer, StrictFieldsMixin
from crm.core.api.viewsets import CRMAPIMixin

from ..choices import CustomFieldEntity, DuplicateStatus
from ..models import DuplicateCandidate, Merge
from . import selectors, services
from .fields import ENTITIES


class DuplicateRecordSerializer(serializers.Serializer):
    """One record of a pair: enough to tell the two apart."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField(required=False, help_text="Contacts: the primary email address.")
    phone = serializers.CharField(help_text="E.164.")
    domain = serializers.CharField(required=False, help_text="Companies.")
    version = serializers.IntegerField(help_text="Send it back in the merge's versions.")


def _record(record: Any) -> dict[str, Any]:
    data = {"id": record.pk, "name": record.name, "phone": record.phone, "version": record.version}
    if hasattr(record, "email"):
        data["email"] = record.email
    if hasattr(record, "domain"):
        data["domain"] = record.domain
    return data


class DuplicateSerializer(serializers.ModelSerializer):
    """A likely pair: ``first`` has the lower id. ``reasons``: email, phone, name, domain."""

    first = serializers.SerializerMethodField()
    second = serializers.SerializerMethodField()
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)
    status = serializers.CharField(read_only=True, help_text="open, dismissed or merged")

    class Meta:
        model = DuplicateCandidate
        fields = ["id", "entity", "first", "second", "reasons", "score", "status", "found_at", "resolved_at"]
        read_only_fields = fields

    @extend_schema_field(DuplicateRecordSerializer)
    def get_first(self, candidate: DuplicateCandidate) -> dict[str, Any]:
        return _record(getattr(candidate, f"{candidate.entity}_a"))

    @extend_schema_field(DuplicateRecordSerializer)
    def get_second(self, candidate: DuplicateCandidate) -> dict[str, Any]:
        return _record(getattr(candidate, f"{candidate.entity}_b"))


class MergeSerializer(serializers.ModelSerializer):
    """A merge: ``merged_ids`` went into ``survivor_id``. ``can_undo`` says whether the caller can undo it now."""

    merged_names = serializers.SerializerMethodField()
    can_undo = serializers.SerializerMethodField()
    kept_on_undo = serializers.SerializerMethodField()

    class Meta:
        model = Merge
        fields = [
            "id",
            "entity",
            "survivor_id",
            "merged_ids",
            "merged_names",
            "actor",
            "created_at",
            "undone_at",
            "undone_by",
            "can_undo",
            "kept_on_undo",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_merged_names(self, merge: Merge) -> list[str]:
        names = merge.snapshot.get("names", {}) if isinstance(merge.snapshot, dict) else {}
        return [str(names.get(str(pk), "")) for pk in merge.merged_ids]

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_can_undo(self, merge: Merge) -> bool:
        undoable = self.context.get("undoable")
        if undoable is None:
            request = self.context.get("request")
            undoable = selectors.undoable(user=getattr(request, "user", None), merges=[merge])
        return merge.pk in undoable

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_kept_on_undo(self, merge: Merge) -> list[str]:
        """Survivor fields changed after the merge, so kept by its undo."""
        undo = merge.snapshot.get("undo", {}) if isinstance(merge.snapshot, dict) else {}
        return [str(name) for name in undo.get("kept", [])]


class MergeRequestSerializer(StrictFieldsMixin, serializers.Serializer):
    """Merge ``ids`` into ``survivor``. ``choices`` names, for a part of the record, the record whose value
    is kept: ``name``, ``title``, ``company``, ``lifecycle_stage``, ``source``, ``date_of_birth``,
    ``email`` and ``phone`` (the primary ones), ``address``, ``owner``, ``team`` for contacts; ``name``,
    ``industry``, ``size``, ``website``, ``domain``, ``phone``, ``description``, ``parent``, ``address``,
    ``owner``, ``team`` for companies; ``custom.<key>`` for a custom field. A part not named keeps the
    survivor's value, or another record's when the survivor has none. Email addresses, phone numbers and
    tags of all records are kept. ``versions`` (record id -> version) must give the version of each record
    as the caller saw it: a record changed since is a conflict (409)."""

    entity = serializers.ChoiceField(choices=CustomFieldEntity.choices)
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=2, max_length=services.MAX_RECORDS
    )
    survivor = serializers.IntegerField(min_value=1)
    choices = serializers.DictField(child=serializers.IntegerField(min_value=1), required=False, default=dict)
    versions = serializers.DictField(child=serializers.IntegerField(min_value=1))

    def validate_versions(self, value: dict[str, int]) -> dict[int, int]:
        try:
            return {int(key): version for key, version in value.items()}
        except ValueError:
            raise serializers.ValidationError(_("Use the records' ids as keys.")) from None


class DuplicateViewSet(CRMAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):  # type: ignore[misc]
    """Likely duplicate pairs, found by the scan, whose two records the caller can see."""

    module = "customers"
    queryset = DuplicateCandidate.objects.none()  # for the schema; requests get the scoped pairs
    serializer_class = DuplicateSerializer
    action_permissions = {"dismiss": "edit", "reopen": "edit", "scan": "edit"}
    ordering = ["-score", "-id"]
    ordering_fields = ["score", "id"]

    def _filters(self) -> tuple[str, str]:
        params = self.request.query_params
        entity, state = params.get("entity", "contact"), params.get("status", DuplicateStatus.OPEN)
        errors = {}
        if entity not in ENTITIES:
            errors["entity"] = [_("Choose contact or company.")]
        if state not in DuplicateStatus.values:
            errors["status"] = [_("Choose open, dismissed or merged.")]
        if errors:
            raise serializers.ValidationError(errors)
        return entity, state

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return DuplicateCandidate.objects.none()
        if self.action in ("list",):
            entity, state = self._filters()
            return selectors.duplicate_list(user=self.request.user, entity=entity, status=state).order_by(
                "-score", "-id"
            )
        return DuplicateCandidate.objects.none()

    def get_object(self) -> DuplicateCandidate:
        candidate = selectors.duplicate_get(user=self.request.user, pk=self.kwargs["pk"])
        if candidate is None:
            raise Http404
        return candidate

    @extend_schema(
        parameters=[
            OpenApiParameter("entity", str, enum=list(ENTITIES), description="contact (default) or company"),
            OpenApiParameter("status", str, enum=list(DuplicateStatus.values), description="open (default)"),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        rows = selectors.with_records(page or [])
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)

    @extend_schema(request=None, responses={200: DuplicateSerializer})
    @action(detail=True, methods=["post"])
    def dismiss(self, request: Request, pk: str | None = None) -> Response:
        """Mark the pair as not a duplicate: later scans leave it dismissed."""
        candidate = services.duplicate_dismiss(actor=request.user, candidate=self.get_object())
        return Response(DuplicateSerializer(candidate, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses={200: DuplicateSerializer})
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        """Put a dismissed pair back on the list."""
        candidate = services.duplicate_reopen(actor=request.user, candidate=self.get_object())
        return Response(DuplicateSerializer(candidate, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses={202: JobSerializer})
    @action(detail=False, methods=["post"])
    def scan(self, request: Request) -> Response:
        """Scan all contacts and companies for likely duplicates now (it also runs every six hours)."""
        job = services.duplicates_scan_start(actor=request.user)
        job.refresh_from_db()
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class MergeViewSet(CRMAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):  # type: ignore[misc]
    """Merges of contacts or companies: merge (POST), follow and undo them."""

    module = "customers"
    queryset = Merge.objects.none()  # for the schema; requests get the merges the caller may see
    serializer_class = MergeSerializer
    action_permissions = {"create": "delete", "undo": "edit"}
    ordering = ["-id"]
    ordering_fields = ["id"]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Merge.objects.none()
        entity = self.request.query_params.get("entity")
        if entity is not None and entity not in ENTITIES:
            raise serializers.ValidationError({"entity": [_("Choose contact or company.")]})
        return selectors.merge_list(user=self.request.user, entity=entity)

    @extend_schema(parameters=[OpenApiParameter("entity", str, enum=list(ENTITIES), description="contact or company")])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset())) or []
        context = {**self.get_serializer_context(), "undoable": selectors.undoable(user=request.user, merges=page)}
        return self.get_paginated_response(MergeSerializer(page, many=True, context=context).data)

    @extend_schema(request=MergeRequestSerializer, responses={201: MergeSerializer})
    def create(self, request: Request) -> Response:
        given = MergeRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        merge = services.records_merge(
            actor=request.user,
            entity=data["entity"],
            ids=data["ids"],
            survivor_id=data["survivor"],
            choices=data["choices"],
            versions=data["versions"],
        )
        return Response(
            MergeSerializer(merge, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=None, responses={200: MergeSerializer})
    @action(detail=True, methods=["post"])
    def undo(self, request: Request, pk: str | None = None) -> Response:
        """Undo the merge: the merged records come back with their ids, values and related rows."""
        merge = services.merge_undo(actor=request.user, merge=self.get_object())
        return Response(MergeSerializer(merge, context=self.get_serializer_context()).data)


router = SimpleRouter()
router.register("duplicates", DuplicateViewSet, basename="duplicate")
router.register("merges", MergeViewSet, basename="merge")
