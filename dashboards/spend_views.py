"""The spend list a dashboard's spend figure drills down to, and its CSV (README "Metrics")."""

from __future__ import annotations

import pandas as pd
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from abm.lib.channels import ActivityKind
from abm.lib.csv_safety import write_csv
from abm.models import User
from accounts.filtering import display_name
from accounts.list_filters import PER_PAGE, CountedPaginator, page_of
from accounts.models import Account
from dashboards.drilldown import ANY_PLAYBOOK, NO_PLAYBOOK
from dashboards.filters import TIER_CHOICES, parse_filters
from dashboards.panels import NO_PLAYBOOK as NO_PLAYBOOK_LABEL
from dashboards.panels import channel_label
from dashboards.spend_records import ACTIVITY, NO_ACCOUNT, SpendScope, spend_records
from metrics.models import BudgetLine
from playbooks.models import Playbook

SOURCE_LABELS = {
    ACTIVITY: "Activity cost",
    "share": "Share of budget line",
    NO_ACCOUNT: "Budget line on no account",
}
CSV_HEADER = ["date", "cost", "account", "account_id", "channel", "playbook", "detail", "amount"]


class Totals:
    def __init__(self, count: int, amount: float):
        self.count, self.amount, self.credited = count, amount, None


@login_required
def spend_list(request):
    scope, problems = _scope(request)
    rows = spend_records(request.user, scope, now=timezone.now())
    totals = Totals(len(rows), round(float(rows["amount"].sum()), 2) if len(rows) else 0.0)
    query = request.GET.copy()
    if request.GET.get("export") == "csv":
        return _csv(request.user, rows)
    query.pop("page", None)
    paginator = CountedPaginator(_Records(rows), PER_PAGE, count=totals.count)
    page, page_problem = page_of(paginator, request.GET.get("page"))
    query.pop("export", None)
    return render(
        request,
        "dashboards/spend.html",
        {
            "title": "Spend",
            "page": page,
            "rows": _shown(request.user, list(page.object_list)),
            "totals": totals,
            "scope": scope,
            "what": _what(scope),
            "problems": problems + ([page_problem] if page_problem else []),
            "query": query,
            "query_string": query.urlencode(),
        },
    )


def _scope(request) -> tuple[SpendScope, list[str]]:
    data = request.GET.copy()
    playbook = data.get("playbook", "")
    special = playbook if playbook in (NO_PLAYBOOK, ANY_PLAYBOOK) else ""
    if special:
        data.pop("playbook")
    filters = parse_filters(data, user=request.user)
    problems = list(filters.problems)
    channel = data.get("channel", "")
    if channel and channel_label(channel) == channel:  # not a channel key nor "unallocated"
        problems.append(f"“Channel” ({channel[:40]}) was ignored: not a channel.")
        channel = ""
    return SpendScope(filters, channel=channel, playbook=special), problems


def _what(scope: SpendScope) -> list[str]:
    """The filters as words, for the line under the title."""
    filters = scope.filters
    words = [filters.label]
    if scope.channel:
        words.append(channel_label(scope.channel))
    if scope.playbook == NO_PLAYBOOK:
        words.append(NO_PLAYBOOK_LABEL)
    elif scope.playbook == ANY_PLAYBOOK:
        words.append("Playbook work")
    if filters.playbook is not None:
        words.append(Playbook.objects.filter(pk=filters.playbook).values_list("name", flat=True)[0])
    if filters.tier:
        words.append(dict(TIER_CHOICES)[filters.tier])
    if filters.owner is not None:
        words.append(display_name(User.objects.get(pk=filters.owner)))
    return words


class _Records:
    """The frame's rows as dicts, sliced by the paginator without converting them all."""

    def __init__(self, frame):
        self.frame = frame

    def __len__(self) -> int:
        return len(self.frame)

    def __getitem__(self, index):
        return self.frame.iloc[index].to_dict("records")


def _shown(user, rows: list[dict]) -> list[dict]:
    """Names for the page's rows: one query each for accounts, playbooks and budget lines."""
    accounts = dict(
        Account.objects.filter(
            pk__in={r["account_id"] for r in rows if _id(r["account_id"])}
        ).values_list("pk", "name")
    )
    playbooks = dict(
        Playbook.objects.filter(
            pk__in={r["playbook_id"] for r in rows if _id(r["playbook_id"])}
        ).values_list("pk", "name")
    )
    # A rep sees their accounts' shares, never a line itself (its notes and whole amount).
    line_ids = {r["line_id"] for r in rows if _id(r["line_id"])} if user.sees_everything else ()
    lines = {
        pk: (description, float(amount))
        for pk, description, amount in BudgetLine.objects.filter(pk__in=line_ids).values_list(
            "pk", "description", "amount"
        )
    }
    shown = []
    for row in rows:
        account = _id(row["account_id"])
        playbook = _id(row["playbook_id"])
        description, whole = lines.get(_id(row["line_id"]), ("", None))
        if row["source"] == ACTIVITY:
            detail = ActivityKind(row["activity_kind"]).label
        else:
            detail = description or "Budget line"
        shown.append(
            {
                **row,
                "date": row["date"].date(),
                "source_label": SOURCE_LABELS[row["source"]],
                "account_id": account,
                "account": accounts.get(account, ""),
                "playbook": playbooks.get(playbook, NO_PLAYBOOK_LABEL) if playbook else "",
                "channel_label": channel_label(row["channel"]),
                "detail": detail,
                "line_amount": whole,
            }
        )
    return shown


def _id(value) -> int | None:
    return None if pd.isna(value) else int(value)


def _csv(user, rows) -> HttpResponse:
    shown = _shown(user, rows.to_dict("records"))
    body = write_csv(
        (
            [
                row["date"].isoformat(),
                row["source_label"],
                row["account"] or "on no account",
                row["account_id"] or "",
                row["channel_label"],
                row["playbook"],
                row["detail"],
                f"{row['amount']:.2f}",
            ]
            for row in shown
        ),
        CSV_HEADER,
    )
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="spend.csv"'
    return response
