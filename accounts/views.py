from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, render

from abm.lib.permissions import role_required, user_role
from abm.models import Role
from accounts.models import CLOSED_STAGES, BuyingRole, OpportunityStage
from accounts.visibility import (
    accounts_visible_to,
    contacts_visible_to,
    opportunities_visible_to,
)
from playbooks.visibility import activities_visible_to

ACCOUNTS_PER_PAGE = 50
RECENT_ACTIVITIES = 50
# The roles DOMAIN.md counts for buying-committee coverage, in the order a rep reads them.
COMMITTEE_ROLES = (BuyingRole.DECISION_MAKER, BuyingRole.CHAMPION, BuyingRole.INFLUENCER)
_ROLE_ORDER = {role: index for index, role in enumerate(BuyingRole.values)}
IMPORT_ROLES = (Role.MARKETER, Role.ADMIN)


@login_required
def account_list(request):
    q = request.GET.get("q", "").strip()
    accounts = accounts_visible_to(request.user).select_related("owner").order_by("name", "id")
    if q:
        accounts = accounts.filter(Q(name__icontains=q) | Q(domain__icontains=q))
    page = Paginator(accounts, ACCOUNTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/list.html",
        {
            "page": page,
            "q": q,
            "title": "Accounts" if request.user.sees_everything else "My accounts",
            "can_import": user_role(request.user) in IMPORT_ROLES,
        },
    )


@login_required
def account_detail(request, pk: int):
    user = request.user
    account = get_object_or_404(accounts_visible_to(user).select_related("owner"), pk=pk)
    contacts = sorted(
        contacts_visible_to(user).filter(account=account),
        key=lambda c: (_ROLE_ORDER.get(c.buying_role, len(_ROLE_ORDER)), c.last_name, c.first_name),
    )
    opportunities = list(opportunities_visible_to(user).filter(account=account))
    activities = (
        activities_visible_to(user)
        .filter(account=account)
        .select_related("contact", "step")[:RECENT_ACTIVITIES]
    )
    covered = {c.buying_role for c in contacts}
    return render(
        request,
        "accounts/detail.html",
        {
            "account": account,
            "contacts": contacts,
            "missing_roles": [role.label for role in COMMITTEE_ROLES if role not in covered],
            "opportunities": opportunities,
            "open_pipeline": sum(o.amount for o in opportunities if o.stage not in CLOSED_STAGES),
            "won_revenue": sum(
                o.amount for o in opportunities if o.stage == OpportunityStage.CLOSED_WON
            ),
            "activities": activities,
            "activity_limit": RECENT_ACTIVITIES,
        },
    )


@role_required(*IMPORT_ROLES)
def account_import(request):
    return render(request, "accounts/import.html")
