"""Everything one run reads, from the database into DataFrames (``load_inputs``).

Each query goes through ``abm.lib.frames.frame_from_queryset`` (COPY ... TO STDOUT on
PostgreSQL); accounts come as fit scoring loads them (accounts/frames.py).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import Min
from django.db.models.expressions import RawSQL

from abm.lib.frames import frame_from_queryset
from accounts.frames import load_accounts
from accounts.models import Contact, Lead, Opportunity
from metrics.engine.compute.inputs import Inputs, activities_since, history_floor, rollup_horizon
from metrics.engine.params import EngineParams
from metrics.models import BudgetLine, EngagementHistory, JourneyStageChange
from metrics.touch_rule_store import load_touch_rules
from playbooks.models import Activity, Enrolment, Step, Task


def load_inputs(now: pd.Timestamp, params: EngineParams) -> Inputs:
    accounts = load_accounts()
    opportunities = load_opportunities()
    since = activities_since(now, opportunities, params)
    horizon = rollup_horizon(now, params)
    return Inputs(
        accounts=accounts,
        opportunities=opportunities,
        activities=load_activities(since=since.to_pydatetime(), until=now.to_pydatetime()),
        enrolments=load_enrolments(),
        tasks=load_tasks(since=horizon.tz_localize("UTC").to_pydatetime()),
        leads=load_leads(),
        budget_lines=load_budget_lines(),
        first_mqa=load_first_mqa(),
        horizon=horizon,
        touch_rules=load_touch_rules(),
    )


def load_history_start(now: pd.Timestamp, params: EngineParams) -> dt.date:
    """Continue the daily history where it stopped, at most one engagement window back."""
    floor = history_floor(now, params)
    last = EngagementHistory.objects.order_by("-date").values_list("date", flat=True).first()
    if last is None:
        return floor
    return max(floor, min(last, now.date()))


def load_opportunities() -> pd.DataFrame:
    return frame_from_queryset(
        Opportunity.objects.order_by(),
        {
            "opportunity_id": "id",
            "account_id": "account_id",
            "amount": "amount",
            "stage": "stage",
            "source": "source",
            "created_at": "created_at",
            "closed_at": "closed_at",
        },
        datetimes=("created_at", "closed_at"),
        numbers=("amount",),
    )


def load_activities(*, since=None, until=None) -> pd.DataFrame:
    """Activities in ``(since, until]`` with their contact's ``seniority`` (None without one) and
    their step's ``playbook_id`` (NaN outside playbooks) and ``owner_role`` ("" outside).

    Seniority, playbook and owner are mapped from those small tables here rather than joined per
    activity, and PostgreSQL sends times as integer microseconds: parsing a million timestamp
    strings was most of the load.
    """
    activities = Activity.objects.order_by()
    if since is not None:
        activities = activities.filter(occurred_at__gt=since)
    if until is not None:
        activities = activities.filter(occurred_at__lte=until)
    occurred = "occurred_at"
    if connection.vendor == "postgresql":
        column = f"{connection.ops.quote_name(Activity._meta.db_table)}.occurred_at"
        activities = activities.annotate(
            occurred_us=RawSQL(f"(extract(epoch FROM {column}) * 1000000)::bigint", ())
        )
        occurred = "occurred_us"
    frame = frame_from_queryset(
        activities,
        {
            "activity_id": "id",
            "account_id": "account_id",
            "contact_id": "contact_id",
            "channel": "channel",
            "kind": "kind",
            "direction": "direction",
            "occurred_at": occurred,
            "cost": "cost",
            "step_id": "step_id",
        },
        datetimes=() if occurred == "occurred_us" else ("occurred_at",),
        numbers=("cost",),
    )
    if occurred == "occurred_us":
        micros = frame["occurred_at"].to_numpy(dtype=np.int64)
        frame["occurred_at"] = pd.DatetimeIndex(micros.astype("datetime64[us]"), tz="UTC").as_unit(
            "ns"
        )
    contacts = pd.Series(dict(Contact.objects.values_list("id", "seniority")), dtype=object)
    seniority = _lookup(contacts, frame["contact_id"])
    steps = pd.DataFrame.from_records(
        list(Step.objects.values_list("id", "stage__playbook_id", "owner_role")),
        columns=["step_id", "playbook_id", "owner_role"],
    ).set_index("step_id")
    playbook = _lookup(steps["playbook_id"].astype(float), frame["step_id"], missing=np.nan)
    owner_role = _lookup(steps["owner_role"].astype(object), frame["step_id"], missing="")
    frame = frame.drop(columns="step_id")
    frame.insert(3, "seniority", pd.Series(seniority, index=frame.index, dtype=object))
    frame["playbook_id"] = playbook.astype(float)
    frame["owner_role"] = owner_role
    return frame


def _lookup(table: pd.Series, keys: pd.Series, *, missing=None) -> np.ndarray:
    """``table[key]`` for each key; ``missing`` for null or unknown keys."""
    at = table.index.get_indexer(keys.to_numpy(dtype=float, na_value=np.nan))
    values = np.append(table.to_numpy(dtype=object), [missing])
    return values[np.where(at < 0, len(table), at)]


def load_enrolments() -> pd.DataFrame:
    return frame_from_queryset(
        Enrolment.objects.order_by(),
        {
            "enrolment_id": "id",
            "account_id": "account_id",
            "playbook_id": "playbook_id",
            "status": "status",
            "enrolled_at": "enrolled_at",
        },
        datetimes=("enrolled_at",),
    )


def load_tasks(*, since: dt.datetime) -> pd.DataFrame:
    return frame_from_queryset(
        Task.objects.filter(due_at__gte=since).order_by(),
        {
            "task_id": "id",
            "account_id": "account_id",
            "playbook_id": "enrolment__playbook_id",
            "status": "status",
            "due_at": "due_at",
        },
        datetimes=("due_at",),
    )


def load_leads() -> pd.DataFrame:
    return frame_from_queryset(
        Lead.objects.order_by(),
        {
            "lead_id": "id",
            "account_id": "account_id",
            "source_channel": "source_channel",
            "handed_off_at": "handed_off_at",
            "first_follow_up_at": "first_follow_up_at",
        },
        datetimes=("handed_off_at", "first_follow_up_at"),
    )


def load_budget_lines() -> pd.DataFrame:
    frame = frame_from_queryset(
        BudgetLine.objects.order_by(),
        {"playbook_id": "playbook_id", "channel": "channel", "date": "date", "amount": "amount"},
        numbers=("amount",),
        texts=("channel",),
    )
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def load_first_mqa() -> pd.DataFrame:
    rows = (
        JourneyStageChange.objects.filter(to_stage="mqa")
        .values("account_id")
        .annotate(mqa_at=Min("changed_at"))
        .order_by()
        .values_list("account_id", "mqa_at")
    )
    frame = pd.DataFrame.from_records(list(rows), columns=["account_id", "mqa_at"])
    frame["mqa_at"] = pd.to_datetime(frame["mqa_at"], utc=True)
    return frame
