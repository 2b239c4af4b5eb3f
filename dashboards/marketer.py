"""The marketer's playbook dashboard: where each playbook's accounts are, whether they are warming
up against the holdout, whether the work gets done, and what it costs and returns.

A fixed number of grouped queries whatever the data size (enrolments are counted in the database;
the engagement trend, tasks, money and holdout lift come from the rollups), then pure pandas turns
the small frames into tables and charts.

Where DOMAIN.md is silent (README "Metrics"):
- Enrolments by stage are the state now: the period does not apply, tier / owner / playbook do.
  Enrolled = active, completed or exited (as in holdout lift); active ones are counted by their
  current stage.
- Engagement trend: the accounts enrolled and in the holdout as of the last recompute, their
  average score on one day a week for the 12 weeks up to the recompute's day (the ``engagement``
  rollup; the period does not apply). The average divides by the group's distinct accounts: an
  account in two playbooks counts once, or once in each playbook's own trend. The "Enrolled
  accounts" tile shows the same group sizes.
- Task completion: tasks due in the period; completion rate = done / (done + skipped + open and
  overdue). Open tasks not due yet stay out of the rate. Overdue means due before the day of the
  last recompute (UTC; the task list's rule, as of the figures' run).
- Influenced pipeline, spend and ROI in the tiles are those of playbook work only; credit and spend
  outside any playbook show as "No playbook" in the table.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd
from django.db.models import Count, F
from django.urls import reverse

from abm.lib import colours
from accounts.list_filters import tier_q
from dashboards import charts
from dashboards import figures as fig
from dashboards.drilldown import ANY_PLAYBOOK, opportunities_url, spend_url
from dashboards.figures import Column, Table
from dashboards.filters import DashboardFilters
from dashboards.panels import (
    holdout_chart,
    holdout_table,
    playbook_table,
    spend_sub,
    unallocated_spend,
)
from dashboards.rollup_reading import engagement_sums, rollup_sums, snapshot_rows
from metrics.models import AttributionModel
from playbooks.models import EnrolmentStatus, PlaybookStatus
from playbooks.visibility import (
    enrolments_visible_to,
    playbooks_visible_to,
    stages_visible_to,
)

ENROLLED = "enrolled"  # the enrolment list's status for active, completed and exited
NO_STAGE = "No stage yet"
# The enrolment states that are not "active at a stage", in the order the bars stack.
STATUS_SERIES = (
    (EnrolmentStatus.COMPLETED, "Completed", colours.GREEN_500),
    (EnrolmentStatus.EXITED, "Exited", colours.GRAY_600),
    (EnrolmentStatus.HOLDOUT, "Holdout", colours.GRAY_350),
)
TASK_SERIES = (
    ("done", "Done", colours.GREEN_500),
    ("skipped", "Skipped", colours.GRAY_400),
    ("overdue", "Overdue", colours.RED_500),
    ("upcoming", "Not due yet", colours.BLUE_300),
)


def marketer_context(user, filters: DashboardFilters) -> dict:
    playbooks = list(
        playbooks_visible_to(user).order_by("name", "pk").values_list("pk", "name", "status")
    )
    names = {pk: name for pk, name, _ in playbooks}
    stages = pd.DataFrame.from_records(
        list(
            stages_visible_to(user)
            .order_by("playbook_id", "order", "pk")
            .values_list("pk", "playbook_id", "name", "order")
        ),
        columns=["stage_id", "playbook_id", "name", "order"],
    )
    enrolments = enrolment_counts(user, filters)
    trend = engagement_trend(user, filters)
    tasks = task_counts(user, filters)
    credit = rollup_sums(
        user, filters, metrics=["credit"], by=["kind", "playbook_id"], model=filters.model
    )
    # Spend and mqa in one read; by channel to tell untouched mqa accounts apart, by tier for
    # the budget on no account.
    spend = rollup_sums(
        user, filters, metrics=["spend", "mqa"], by=["playbook_id", "channel", "tier"]
    )
    money = fig.by_playbook(credit, spend)

    tables = [
        stage_table(enrolments, stages, names, filters),
        trend_table(trend),
        task_table(tasks, names, filters),
        playbook_table(money, filters, names),
        holdout_table(snapshot_rows(user, metric="holdout", filters=filters), names),
    ]
    t = {table.name: table for table in tables}
    return {
        "tables": tables,
        "t": t,
        "tiles": tiles(
            playbooks,
            trend.attrs["sizes"],
            tasks,
            credit,
            spend,
            filters,
            unallocated=unallocated_spend(user, filters, spend, playbooks_only=True),
        ),
        "charts": _charts(t, enrolments, stages, names, filters),
        "model_label": AttributionModel(filters.model).label,
        "playbook_name": names.get(filters.playbook, ""),
        "has_playbooks": any(status != PlaybookStatus.DRAFT for _, _, status in playbooks),
    }


# --- Loading: one grouped query each ----------------------------------------------------------


def _narrowed(rows, filters: DashboardFilters, *, playbook_path: str):
    """Account-owned rows within the tier, owner and playbook filters."""
    if filters.tier:
        rows = rows.filter(tier_q(filters.tier))
    if filters.owner is not None:
        rows = rows.filter(account__owner_id=filters.owner)
    if playbook_path and filters.playbook is not None:
        rows = rows.filter(**{playbook_path: filters.playbook})
    return rows


def enrolment_counts(user, filters: DashboardFilters) -> pd.DataFrame:
    """Enrolments now per ``playbook_id, stage_id, status`` (``n``)."""
    rows = _narrowed(enrolments_visible_to(user), filters, playbook_path="playbook_id")
    counts = (
        rows.order_by()
        .values("playbook_id", "status", stage_id=F("current_stage_id"))
        .annotate(n=Count("pk"))
    )
    return pd.DataFrame.from_records(
        list(counts), columns=["playbook_id", "status", "stage_id", "n"]
    )


def engagement_trend(user, filters: DashboardFilters) -> pd.DataFrame:
    """Per sampled day, the summed scores of the enrolled and of the holdout accounts; the
    group sizes (distinct accounts) ride along in ``attrs``. One read of the ``engagement``
    rollup (metrics/rollups.py), whatever the number of accounts."""
    sums = engagement_sums(user, filters)
    # A dozen days by two groups: plain dicts, where a pandas pivot would cost milliseconds.
    by_day: dict = {}
    for day, segment, value, _count in sums.itertuples(index=False):
        by_day.setdefault(day, {"enrolled": 0.0, "holdout": 0.0})[segment] += value
    days = sorted(by_day)
    # Every sampled day counts the same accounts: the sizes are those of the last one.
    sizes = {"enrolled": 0, "holdout": 0}
    for day, segment, _value, count in sums.itertuples(index=False):
        if day == days[-1]:
            sizes[segment] += int(round(count))
    frame = pd.DataFrame(
        [{"date": day, **by_day[day]} for day in days], columns=["date", "enrolled", "holdout"]
    )
    frame.attrs.update(days=days, sizes=sizes)
    return frame


def task_counts(user, filters: DashboardFilters) -> pd.DataFrame:
    """Tasks due in the period per playbook: ``done, skipped, overdue, upcoming`` (the ``tasks``
    rollup: open tasks split at the last recompute's day, the task list's "overdue" rule)."""
    sums = rollup_sums(user, filters, metrics=["tasks"], by=["playbook_id", "segment"])
    keys = [key for key, _, _ in TASK_SERIES]
    counts: dict = {}
    for _metric, playbook_id, segment, value, _count in sums.itertuples(index=False):
        counts.setdefault(playbook_id, dict.fromkeys(keys, 0))[segment] += int(round(value))
    return pd.DataFrame(
        [{"playbook_id": pk, **row} for pk, row in counts.items()], columns=["playbook_id", *keys]
    )


# --- Figures: pure pandas ---------------------------------------------------------------------


def completion_rate(done: float, skipped: float, overdue: float) -> float | None:
    return fig.ratio(done, done + skipped + overdue)


def trend_rows(trend: pd.DataFrame) -> list[dict]:
    """Average score per sampled day of the enrolled and the holdout accounts (a day without a
    row is a score of 0, so the sums divide by the group sizes)."""
    sizes = trend.attrs.get("sizes", {})
    sums = {row["date"]: row for row in trend.to_dict("records")}
    rows = []
    for day in trend.attrs.get("days", []):
        averages = {
            group: fig.ratio(float(sums.get(day, {}).get(group) or 0.0), sizes.get(group, 0))
            for group in ("enrolled", "holdout")
        }
        enrolled, holdout = averages["enrolled"], averages["holdout"]
        rows.append(
            {
                "week": f"{day:%b %-d}",
                "date": day.isoformat(),
                "enrolled": enrolled,
                "holdout": holdout,
                "difference": None if enrolled is None or holdout is None else enrolled - holdout,
            }
        )
    return rows


def stage_rows(
    enrolments: pd.DataFrame,
    stages: pd.DataFrame,
    names: dict,
    filters: DashboardFilters | None = None,
) -> list[dict]:
    """Enrolments per playbook and stage (stage order), then completed, exited and holdout."""
    rows = []
    if not len(enrolments):
        return rows
    stage_names = dict(zip(stages["stage_id"], stages["name"], strict=True))
    stage_order = dict(zip(stages["stage_id"], stages["order"], strict=True))
    for playbook_id, part in sorted(
        enrolments.groupby("playbook_id"), key=lambda item: names.get(item[0], "")
    ):
        playbook_id = int(playbook_id)
        total = int(part["n"].sum())
        active = part.loc[part["status"] == EnrolmentStatus.ACTIVE]
        at_stage = active.groupby("stage_id", dropna=False)["n"].sum()
        ordered = sorted(
            at_stage.items(),
            key=lambda item: (pd.isna(item[0]), stage_order.get(item[0], 0), str(item[0])),
        )
        for stage_id, n in ordered:
            known = not pd.isna(stage_id)
            rows.append(
                _stage_row(
                    playbook_id,
                    names,
                    stage_names.get(int(stage_id), NO_STAGE) if known else NO_STAGE,
                    EnrolmentStatus.ACTIVE,
                    int(n),
                    total,
                    order=stage_order.get(int(stage_id), 0) if known else 10_000,
                    stage_id=int(stage_id) if known else "none",
                    filters=filters,
                )
            )
        for status, label, _colour in STATUS_SERIES:
            n = int(part.loc[part["status"] == status, "n"].sum())
            if n:
                rows.append(
                    _stage_row(playbook_id, names, label, status, n, total, filters=filters)
                )
    return rows


def _stage_row(
    playbook_id, names, stage, status, n, total, *, order: int = 0, stage_id=None, filters=None
) -> dict:
    return {
        "order": order,
        "playbook_id": playbook_id,
        "playbook": names.get(playbook_id, f"Playbook {playbook_id}"),
        "stage": stage,
        "status": str(status),
        "accounts": n,
        "share": fig.ratio(n, total),
        "url": _enrolments_url(playbook_id, status, stage=stage_id, filters=filters),
    }


def _enrolments_url(
    playbook_id: int, status: str = "", *, stage=None, filters: DashboardFilters | None = None
) -> str:
    """A playbook's enrolment list narrowed as the bar or tile counts them: status (or
    "enrolled", not the holdout), the active ones' current stage, and the tier and owner."""
    query = {"status": status, "stage": stage}
    if filters is not None:
        query.update(tier=filters.tier, owner=filters.owner)
    kept = {k: v for k, v in query.items() if v not in (None, "")}
    url = reverse("playbooks:enrolments", args=[playbook_id])
    return f"{url}?{urlencode(kept)}" if kept else url


def stage_table(enrolments, stages, names, filters) -> Table:
    table = Table(
        "enrolments_by_stage",
        "Enrolled accounts by playbook stage",
        [
            Column("playbook", "Playbook"),
            Column("stage", "Stage or status"),
            Column("accounts", "Accounts", "count"),
            Column("share", "Share of the playbook's enrolments", "percent"),
        ],
    )
    table.rows = stage_rows(enrolments, stages, names, filters)
    return table


def trend_table(trend: pd.DataFrame) -> Table:
    table = Table(
        "engagement_trend",
        "Engagement, enrolled vs holdout",
        [
            Column("week", "Week of"),
            Column("enrolled", "Enrolled, average score", "number"),
            Column("holdout", "Holdout, average score", "number"),
            Column("difference", "Difference", "number"),
        ],
    )
    if any(trend.attrs.get("sizes", {}).values()):
        table.rows = trend_rows(trend)
    return table


def task_rows(tasks: pd.DataFrame, names: dict, filters: DashboardFilters) -> list[dict]:
    rows = []
    for record in tasks.to_dict("records"):
        pk = record["playbook_id"]
        if pk is None or pd.isna(pk):
            continue
        pk = int(pk)
        done, skipped = int(record["done"]), int(record["skipped"])
        overdue, upcoming = int(record["overdue"]), int(record["upcoming"])
        rows.append(
            {
                "playbook_id": pk,
                "playbook": names.get(pk, f"Playbook {pk}"),
                "due": done + skipped + overdue + upcoming,
                "done": done,
                "skipped": skipped,
                "overdue": overdue,
                "upcoming": upcoming,
                "rate": completion_rate(done, skipped, overdue),
                "url": reverse("playbooks:detail", args=[pk]),
            }
        )
    return sorted(rows, key=lambda r: r["playbook"])


def task_table(tasks, names, filters) -> Table:
    table = Table(
        "task_completion",
        "Task completion by playbook",
        [
            Column("playbook", "Playbook"),
            Column("due", "Tasks due in the period", "count"),
            Column("done", "Done", "count"),
            Column("skipped", "Skipped", "count"),
            Column("overdue", "Open, overdue", "count"),
            Column("upcoming", "Open, not due yet", "count"),
            Column("rate", "Completion rate", "percent"),
        ],
    )
    table.rows = task_rows(tasks, names, filters)
    return table


def _playbook_part(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows tied to a playbook (credit or spend outside any playbook is not playbook work)."""
    return frame.loc[frame["playbook_id"].notna()] if len(frame) else frame


def tiles(playbooks, sizes: dict, tasks, credit, spend, filters, *, unallocated=0.0) -> list[dict]:
    chosen = [p for p in playbooks if filters.playbook is None or p[0] == filters.playbook]
    active = sum(1 for _, _, status in chosen if status == PlaybookStatus.ACTIVE)
    done = int(tasks["done"].sum()) if len(tasks) else 0
    skipped = int(tasks["skipped"].sum()) if len(tasks) else 0
    overdue = int(tasks["overdue"].sum()) if len(tasks) else 0
    credit, spend = _playbook_part(credit), _playbook_part(spend)
    money = fig.money_totals(credit, spend)
    one = filters.playbook
    model = AttributionModel(filters.model).label
    return [
        {
            "key": "active_playbooks",
            "label": "Active playbooks",
            "value": active,
            "format": "count",
            "sub": f"of {len(chosen)} playbook{'s' if len(chosen) != 1 else ''}",
            "url": reverse("playbooks:list"),
        },
        {
            "key": "enrolled",
            "label": "Enrolled accounts",
            "value": sizes["enrolled"],
            "format": "count",
            "sub": f"plus {sizes['holdout']:,} in the holdout",
            "url": _enrolments_url(one, ENROLLED, filters=filters) if one else "",
        },
        {
            "key": "completion",
            "label": "Task completion",
            "value": completion_rate(done, skipped, overdue),
            "format": "percent",
            "sub": f"{done:,} of {done + skipped + overdue:,} tasks due so far done",
            "url": "",
        },
        {
            "key": "spend",
            "label": "Spend",
            "value": money["spend"],
            "format": "money",
            "sub": spend_sub(filters, unallocated, what="playbook touches"),
            # Playbook work only, as the figure (and the one playbook when filtered).
            "url": spend_url(filters, playbook=one or ANY_PLAYBOOK),
        },
        {
            "key": "pipeline",
            "label": "Influenced pipeline",
            "value": money["pipeline"],
            "format": "money",
            "sub": f"credited to playbook touches, {model}",
            "url": opportunities_url(filters, playbook=one) if one else "",
        },
        {
            "key": "roi",
            "label": "ROI",
            "value": money["roi"],
            "format": "percent",
            "sub": "(attributed won revenue − spend) / spend",
            "url": "",
        },
    ]


def _charts(t: dict[str, Table], enrolments, stages, names, filters) -> dict:
    return {
        "stages": _stage_chart(t["enrolments_by_stage"].rows),
        "trend": _trend_chart(t["engagement_trend"].rows, filters),
        "tasks": _task_chart(t["task_completion"].rows),
        "money": _money_chart(t["by_playbook"].rows),
        "roi": _roi_chart(t["by_playbook"].rows),
        "holdout": holdout_chart(t["holdout_lift"]),
    }


def _stage_chart(rows: list[dict]) -> dict:
    """Stacked bars: one per playbook, a segment per stage (by name) and per final status."""
    playbooks = list(dict.fromkeys((r["playbook_id"], r["playbook"]) for r in rows))
    labels = [label for _, label, _ in STATUS_SERIES]
    # Stages by their place in the playbooks (Find before Nurture), whichever playbook has them.
    active = [r for r in rows if r["status"] == EnrolmentStatus.ACTIVE]
    stage_names = list(dict.fromkeys(r["stage"] for r in sorted(active, key=lambda r: r["order"])))
    status_colours = dict(zip(labels, (c for _, _, c in STATUS_SERIES), strict=True))
    series = []
    for index, name in enumerate([*stage_names, *labels]):
        status = EnrolmentStatus.ACTIVE if name in stage_names else None
        cells = {
            r["playbook_id"]: r
            for r in rows
            if r["stage"] == name and (status is None or r["status"] == status)
        }
        if not cells:
            continue
        series.append(
            {
                "name": name,
                "values": [cells[pk]["accounts"] if pk in cells else None for pk, _ in playbooks],
                "urls": [cells[pk]["url"] if pk in cells else "" for pk, _ in playbooks],
                "colour": status_colours.get(name) or colours.SERIES[index % len(colours.SERIES)],
            }
        )
    return _legend_in_order(
        charts.bars([label for _, label in playbooks], series, y="count", stacked=True)
    )


def _legend_in_order(figure: dict) -> dict:
    # Plotly lists a stack's legend top-down (reversed); a horizontal legend reads left to right.
    figure["layout"]["legend"] = {**figure["layout"]["legend"], "traceorder": "normal"}
    return figure


def _trend_chart(rows: list[dict], filters) -> dict:
    if filters.playbook is not None:
        enrolled_url = _enrolments_url(filters.playbook, ENROLLED, filters=filters)
        holdout_url = _enrolments_url(filters.playbook, EnrolmentStatus.HOLDOUT, filters=filters)
    else:
        enrolled_url = holdout_url = reverse("playbooks:list")
    figure = charts.lines(
        [r["week"] for r in rows],
        [
            {
                "name": "Enrolled",
                "values": [r["enrolled"] for r in rows],
                "colour": colours.SERIES[0],
                "urls": [enrolled_url] * len(rows),
            },
            {
                "name": "Holdout",
                "values": [r["holdout"] for r in rows],
                "colour": colours.GRAY_450,
                "dash": "dot",
                "urls": [holdout_url] * len(rows),
            },
        ],
        y="count",
    )
    figure["layout"]["yaxis"].update(tickformat=",.0f", hoverformat=",.1f", rangemode="tozero")
    for trace in figure["data"]:
        trace["hovertemplate"] = "%{x}<br>%{fullData.name}: %{y:,.1f}<extra></extra>"
    return figure


def _task_chart(rows: list[dict]) -> dict:
    series = []
    for key, label, colour in TASK_SERIES:
        series.append(
            {
                "name": label,
                "values": [r[key] for r in rows],
                # No list shows tasks by status and due date for every assignee yet.
                "urls": ["" for _ in rows],
                "colour": colour,
            }
        )
    return _legend_in_order(
        charts.bars([r["playbook"] for r in rows], series, y="count", stacked=True)
    )


def _money_rows(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["playbook_id"] is not None]


def _money_chart(rows: list[dict]) -> dict:
    rows = _money_rows(rows)
    return charts.bars(
        [r["playbook"] for r in rows],
        [
            {
                "name": "Spend",
                "values": [r["spend"] for r in rows],
                "colour": colours.AMBER_500,
                "urls": [r["spend_url"] for r in rows],
            },
            {
                "name": "Influenced pipeline",
                "values": [r["pipeline"] for r in rows],
                "colour": colours.SERIES[0],
                "urls": [r["url"] for r in rows],
            },
            {
                "name": "Attributed revenue",
                "values": [r["revenue"] for r in rows],
                "colour": colours.GRAY_900,
                "urls": [r["revenue_url"] for r in rows],
            },
        ],
    )


def _roi_chart(rows: list[dict]) -> dict:
    rows = _money_rows(rows)
    return charts.bars(
        [r["playbook"] for r in rows],
        [
            {
                "name": "ROI",
                "values": [r["roi"] for r in rows],
                "colour": [colours.GOOD if (r["roi"] or 0) >= 0 else colours.BAD for r in rows],
                "urls": [r["revenue_url"] for r in rows],
            }
        ],
        y="percent",
        height=280,
    )
