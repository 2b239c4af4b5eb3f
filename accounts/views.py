from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse

from abm.lib.permissions import role_required
from abm.models import Role, RunKind
from abm.visibility import jobs_visible_to
from accounts.filtering import (
    filter_choices,
)
from accounts.fit_explain import fit_rows
from accounts.forms import IcpForm, TieringFilterForm
from accounts.icp import HIGH_FIT, active_icp, icp_preview, icp_save, weight_shares
from accounts.models import Account, Tier
from accounts.scoring import IcpCriteria
from accounts.tiering import (
    TIERING_CANDIDATES,
    tier_stage_matrix,
)
from accounts.visibility import (
    accounts_visible_to,
)

ACCOUNTS_PER_PAGE = 50
IMPORT_ROLES = (Role.MARKETER, Role.ADMIN)
BULK_ROLES = (Role.MARKETER, Role.DIRECTOR, Role.ADMIN)
PLANNING_ROLES = (Role.MARKETER, Role.ADMIN)


# --- Planning: ICP and tiers ------------------------------------------------------------------


@role_required(*PLANNING_ROLES)
def icp_edit(request):
    icp = active_icp()
    options = filter_choices(Account.objects.all(), with_owners=False)
    preview = None
    if request.method == "POST":
        form = IcpForm(request.POST, options=options, icp=icp)
        if form.is_valid() and "preview" in request.POST:
            preview = icp_preview(criteria=form.criteria())
        elif form.is_valid():
            _, run = icp_save(criteria=form.criteria(), by=request.user)
            messages.success(request, "ICP saved. Every account is being re-scored against it.")
            return redirect(f"{reverse('accounts:icp')}?run={run.pk}")
    else:
        form = IcpForm(options=options, icp=icp)
    if form.is_bound:
        form.is_valid()
        shown = form.criteria()
    else:
        shown = IcpCriteria.from_icp(icp) if icp else IcpCriteria()
    return render(
        request,
        "accounts/icp.html",
        {
            "form": form,
            "icp": icp,
            "shares": weight_shares(shown),
            "preview": preview,
            "high_fit": HIGH_FIT,
            "run": _icp_run(request),
        },
    )


def _icp_run(request):
    """The run named in ?run=, else the latest ICP re-score."""
    runs = jobs_visible_to(request.user).filter(kind=RunKind.ICP_RESCORE)
    raw = request.GET.get("run", "")
    if raw.isdigit():
        run = runs.filter(pk=int(raw)).first()
        if run:
            return run
    return runs.select_related("requested_by").first()


# Each kind of job as its page shows it; a kind without a page of its own gets the plain bar.
@role_required(*PLANNING_ROLES)
def tiering(request):
    visible = accounts_visible_to(request.user)
    choices = filter_choices(visible, with_owners=False)
    form = TieringFilterForm(request.GET, choices=choices)
    form.is_valid()
    problems = [
        f"“{form.fields[name].label}” was ignored: {' '.join(errors)}"
        for name, errors in form.errors.items()
    ]
    candidates = visible.filter(tier__isnull=True)
    for name in ("industry", "country"):
        if value := form.cleaned_data.get(name):
            candidates = candidates.filter(**{name: value})
    candidates = list(
        candidates.select_related("owner").order_by("-fit_score", "name", "id")[:TIERING_CANDIDATES]
    )
    for account in candidates:
        account.fit_rows = fit_rows(account.fit_breakdown, account.fit_score)
    shown = TieringFilterForm({k: v for k, v in form.cleaned_data.items() if v}, choices=choices)
    return render(
        request,
        "accounts/tiering.html",
        {
            "form": shown,
            "filtered": any(form.cleaned_data.values()),
            "problems": problems,
            "candidates": candidates,
            "limit": TIERING_CANDIDATES,
            "matrix": tier_stage_matrix(visible),
            "tiers": [(str(value), f"Tier {value}") for value in Tier.values],
            "next": request.get_full_path(),
        },
    )
