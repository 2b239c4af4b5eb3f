"""Account-side API resources. Rows come from accounts/visibility.py, as on the pages."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view

from abm.api_resources import ScopedViewSet
from abm.models import Role
from accounts.api_serializers import (
    AccountSerializer,
    ContactSerializer,
    LeadSerializer,
    OpportunitySerializer,
)
from accounts.filtersets import AccountFilterSet, ContactFilter, LeadFilterSet, OpportunityFilterSet
from accounts.models import OpportunityStageChange
from accounts.records import account_delete, record_delete
from accounts.visibility import (
    accounts_visible_to,
    contacts_visible_to,
    leads_visible_to,
    opportunities_visible_to,
)

# Reps keep their own accounts' records up to date; directors read (and reassign accounts).
RECORD_WRITERS = (Role.MARKETER, Role.ADMIN, Role.SALES)


def _described(noun: str, plural: str, extra: str = ""):
    return extend_schema_view(
        list=extend_schema(description=f"The {plural} you may see, filtered and paginated.{extra}"),
        retrieve=extend_schema(description=f"One {noun}; 404 when you may not see it."),
        create=extend_schema(description=f"Create a {noun}."),
        update=extend_schema(description=f"Replace a {noun}'s writable fields."),
        partial_update=extend_schema(description=f"Change some of a {noun}'s fields."),
        destroy=extend_schema(description=f"Delete a {noun} and what hangs off it."),
    )


@_described(
    "account",
    "accounts",
    " A sales rep sees the accounts they own; marketers, directors and admins see all.",
)
class AccountViewSet(ScopedViewSet):
    scope = staticmethod(accounts_visible_to)
    serializer_class = AccountSerializer
    filterset_class = AccountFilterSet
    ordering_fields = ["name", "fit_score", "engagement_score", "created_at", "updated_at", "id"]
    ordering = ["name", "id"]
    write_roles = (*RECORD_WRITERS, Role.DIRECTOR)

    def get_permissions(self):
        if self.action in ("create", "destroy"):
            self.write_roles = (Role.MARKETER, Role.ADMIN)
        return super().get_permissions()

    def perform_destroy(self, instance):
        account_delete(account=instance, by=self.request.user)


class _RecordViewSet(ScopedViewSet):
    """Deletes through the service, which asks metrics to recompute without the record."""

    def perform_destroy(self, instance):
        record_delete(instance, by=self.request.user)


@_described("contact", "contacts", " Reps see the contacts of their own accounts.")
class ContactViewSet(_RecordViewSet):
    scope = staticmethod(contacts_visible_to)
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    ordering_fields = ["last_name", "created_at", "id"]
    ordering = ["id"]
    write_roles = RECORD_WRITERS


@_described(
    "opportunity",
    "opportunities",
    " Each carries its stage history; a stage change through the API adds to it.",
)
class OpportunityViewSet(_RecordViewSet):
    serializer_class = OpportunitySerializer
    filterset_class = OpportunityFilterSet
    ordering_fields = ["created_at", "amount", "closed_at", "updated_at", "id"]
    ordering = ["-created_at", "-id"]
    write_roles = RECORD_WRITERS

    @staticmethod
    def scope(user):
        history = OpportunityStageChange.objects.order_by("changed_at", "id")
        return opportunities_visible_to(user).prefetch_related(
            Prefetch("stage_changes", queryset=history)
        )


@_described("lead", "leads")
class LeadViewSet(_RecordViewSet):
    scope = staticmethod(leads_visible_to)
    serializer_class = LeadSerializer
    filterset_class = LeadFilterSet
    ordering_fields = ["handed_off_at", "id"]
    ordering = ["-handed_off_at", "-id"]
    write_roles = RECORD_WRITERS
