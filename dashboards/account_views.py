"""The account pages: the list (filters, bulk actions, exports), an account's page (profile,
committee, timeline, quick log, owner) and its timeline data."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from abm.exports import export_or_queue
from abm.lib.form_errors import form_errors
from abm.lib.permissions import role_required, user_role
from abm.models import Role
from accounts.account_filters import accounts_filtered
from accounts.assignment import AssignmentError, account_assign, can_assign
from accounts.filtering import display_name, playbook_name, sales_reps
from accounts.list_filters import page_of
from accounts.models import Account, Tier
from accounts.tiering import (
    accounts_set_tier,
    can_set_tier,
)
from accounts.visibility import (
    accounts_visible_to,
    contacts_visible_to,
)
from dashboards.account_forms import AssignForm, BulkActionForm, enrollable_playbooks
from dashboards.account_loading import account_profile, account_timeline, why_hot_by_account
from ingestion.forms import QuickLogForm
from ingestion.logging_activity import LOG_ROLES, LOGGABLE_KINDS, activity_log, can_log
from metrics.figures_status import figures_status
from playbooks.enrolment import enrol_accounts

ACCOUNTS_PER_PAGE = 50
IMPORT_ROLES = (Role.MARKETER, Role.ADMIN)
BULK_ROLES = (Role.MARKETER, Role.DIRECTOR, Role.ADMIN)
PLANNING_ROLES = (Role.MARKETER, Role.ADMIN)


# --- The list ---------------------------------------------------------------------------------


def _filtered(user, data: QueryDict):
    """The visible accounts narrowed and sorted by `data`, with the filter that did it."""
    return accounts_filtered(user, data)


@login_required
def account_list(request):
    user = request.user
    sees_all = user.sees_everything
    flt, accounts, choices = _filtered(user, request.GET)
    accounts = accounts.select_related("owner")
    if not sees_all:
        accounts = accounts.select_related("engagement")
    page, page_problem = page_of(Paginator(accounts, ACCOUNTS_PER_PAGE), request.GET.get("page"))
    rows = list(page.object_list)
    if not sees_all:
        why = why_hot_by_account(rows, now=timezone.now())
        for account in rows:
            account.why_hot = why.get(account.pk, "")
    may_tier, may_assign = can_set_tier(user), can_assign(user)
    query = flt.query()
    playbook = flt.values.get("playbook")
    return render(
        request,
        "accounts/list.html",
        {
            "page": page,
            "rows": rows,
            "filter": flt,
            "form": flt.shown_form,
            "problems": flt.problems + ([page_problem] if page_problem else []),
            "query": query,
            "query_string": query.urlencode(),
            "sort_links": {
                column: flt.sort_link(column)
                for column in ("name", "tier", "fit", "engagement", "priority")
            },
            "title": "Accounts" if sees_all else "My accounts",
            "lists": flt.description(playbook_name=playbook_name(playbook) if playbook else ""),
            "can_import": user_role(user) in IMPORT_ROLES,
            "can_plan": user_role(user) in PLANNING_ROLES,
            "bulk": {
                "enabled": may_tier or may_assign,
                "tier": may_tier,
                "assign": may_assign,
                "enrol": may_tier,
                "tiers": [(str(value), f"Tier {value}") for value in Tier.values],
                "owners": [("none", "Nobody (unassign)")]
                + [(str(pk), name) for pk, name in choices.owners],
                "playbooks": list(enrollable_playbooks()) if may_tier else [],
            },
        },
    )


@require_POST
@role_required(*BULK_ROLES)
def account_bulk(request):
    user = request.user
    action = request.POST.get("action")
    # Directors may assign and nothing else; marketers and admins may do everything.
    if action in ("set_tier", "enrol") and not can_set_tier(user):
        raise PermissionDenied
    form = BulkActionForm(request.POST)
    back = _back_url(request, form)
    if not form.is_valid():
        for error in form_errors(form):
            messages.error(request, error)
        return redirect(back)
    data = form.cleaned_data
    if data["scope"] == "matching":
        _, accounts, _ = _filtered(user, QueryDict(data["query"]))
    else:
        accounts = accounts_visible_to(user).filter(pk__in=data["ids"])
    try:
        done = _BULK_ACTIONS[action](form, accounts, user)
    except AssignmentError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect(back)


def _bulk_set_tier(form: BulkActionForm, accounts, user) -> str:
    tier = form.tier_value()
    changed = accounts_set_tier(accounts=accounts, tier=tier, by=user)
    return (
        f"{_accounts(changed)} updated: {f'now in Tier {tier}' if tier else 'no longer targets'}."
    )


def _bulk_assign(form: BulkActionForm, accounts, user) -> str:
    owner = form.cleaned_data["owner_user"]
    result = account_assign(accounts=accounts, owner=owner, by=user)
    who = f"now owned by {display_name(owner)}" if owner else "now unassigned"
    was = "was" if result.unchanged == 1 else "were"
    already = f" {_accounts(result.unchanged)} already {was}." if result.unchanged else ""
    return f"{_accounts(result.changed)} updated: {who}.{already}"


def _bulk_enrol(form: BulkActionForm, accounts, user) -> str:
    playbook = form.cleaned_data["playbook_obj"]
    ids = list(accounts.order_by().values_list("pk", flat=True))
    result = enrol_accounts(playbook=playbook, account_ids=ids, by=user)
    notes = [f"{result.holdout} held out as the control group"]
    if result.already:
        notes.append(f"{_accounts(result.already)} already enrolled")
    changed = _accounts(result.enrolled + result.holdout)
    return f"{changed} updated: enrolled in “{playbook.name}” ({', '.join(notes)})."


_BULK_ACTIONS = {"set_tier": _bulk_set_tier, "assign": _bulk_assign, "enrol": _bulk_enrol}


def _accounts(n: int) -> str:
    return f"{n:,} account{'' if n == 1 else 's'}"


def _back_url(request, form: BulkActionForm) -> str:
    target = form.data.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    query = form.data.get("query") or ""
    return reverse("accounts:list") + (f"?{query}" if query else "")


# --- Exports ----------------------------------------------------------------------------------


@login_required
def account_export(request):
    return export_or_queue(request, "accounts")


@login_required
def contacts_export(request):
    return export_or_queue(request, "contacts")


@login_required
def opportunities_export(request):
    return export_or_queue(request, "opportunities")


@login_required
def account_contacts_export(request, pk: int):
    account = _visible_account(request.user, pk)
    return export_or_queue(request, "contacts", account=account.pk)


@login_required
def account_opportunities_export(request, pk: int):
    account = _visible_account(request.user, pk)
    return export_or_queue(request, "opportunities", account=account.pk)


# --- One account ------------------------------------------------------------------------------


def _visible_account(user, pk: int) -> Account:
    """Another rep's account is a 404, exactly like one that does not exist."""
    return get_object_or_404(accounts_visible_to(user).select_related("owner", "engagement"), pk=pk)


@login_required
def account_detail(request, pk: int):
    return _render_detail(request, _visible_account(request.user, pk))


def _render_detail(request, account: Account, *, log_form=None, assign_form=None):
    user = request.user
    profile = account_profile(
        account=account, user=user, now=timezone.now(), activity_page=request.GET.get("activities")
    )
    may_log = user_role(user) in LOG_ROLES
    may_assign = can_assign(user)
    if may_log and log_form is None:
        log_form = QuickLogForm(account=account, contacts=profile["contacts"])
    if may_assign and assign_form is None:
        assign_form = AssignForm(reps=sales_reps())
    return render(
        request,
        "accounts/detail.html",
        {
            "account": account,
            **profile,
            "log_form": log_form if may_log else None,
            "assign_form": assign_form if may_assign else None,
            "activity_limit": profile["activity_page"].paginator.per_page,
            "figures": figures_status(user),
        },
    )


@require_POST
@login_required
def account_log(request, pk: int):
    user = request.user
    account = _visible_account(user, pk)
    if not can_log(user, account):
        raise PermissionDenied
    contacts = list(contacts_visible_to(user).filter(account=account))
    form = QuickLogForm(request.POST, account=account, contacts=contacts)
    if form.is_valid():
        try:
            activity = activity_log(account=account, by=user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            _, label = LOGGABLE_KINDS[activity.kind]
            messages.success(request, f"{label} logged on {account.name}.")
            return redirect(reverse("accounts:detail", args=[account.pk]) + "#activity")
    return _render_detail(request, account, log_form=form)


@require_POST
@role_required(*BULK_ROLES)
def account_assign_owner(request, pk: int):
    user = request.user
    account = _visible_account(user, pk)
    form = AssignForm(request.POST, reps=sales_reps())
    if form.is_valid():
        owner = form.cleaned_data["owner"]
        try:
            result = account_assign(
                accounts=Account.objects.filter(pk=account.pk), owner=owner, by=user
            )
        except AssignmentError as error:
            form.add_error("owner", error)
        else:
            who = display_name(owner) if owner else "nobody"
            if result.changed:
                messages.success(request, f"{account.name} is now owned by {who}.")
            else:
                messages.info(request, f"{account.name} was already owned by {who}.")
            return redirect(reverse("accounts:detail", args=[account.pk]) + "#owner")
    return _render_detail(request, account, assign_form=form)


@login_required
def account_timeline_json(request, pk: int):
    account = _visible_account(request.user, pk)
    return JsonResponse(account_timeline(account=account, user=request.user, now=timezone.now()))
