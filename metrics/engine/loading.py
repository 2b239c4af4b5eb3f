"""Everything one run reads, from the database into DataFrames (``load_inputs``).

Each query goes through ``abm.lib.frames.frame_from_queryset`` (COPY ... TO STDOUT on
PostgreSQL); accounts come as fit scoring loads them (accounts/frames.py).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import Max, Min
from django.db.models.expressions import RawSQL

from abm.lib.db_stats import vacuum
from abm.lib.frames import frame_from_queryset
from accounts.frames import load_accounts
from accounts.models import Contact, Lead, Opportunity
from metrics.engine.compute.accounts import ENGAGED_OR_LATER
from metrics.engine.compute.inputs import Inputs, activities_since, history_floor, rollup_horizon
from metrics.engine.params import EngineParams
from metrics.models import (
    AttributionCredit,
    BudgetLine,
    EngagementHistory,
    EngagementScore,
    JourneyStageChange,
)
from metrics.touch_rule_store import load_touch_rules
from playbooks.models import Activity, Enrolment, Step, Task

# A full run in one process vacuums the activities first when more than this share of them
# changed since (a sharded run does not: README, Reliability).
ACTIVITIES_VACUUM_WHEN_CHANGED = 0.1


def ready_activities() -> None:
    """Before a full run: the activities readable from their covering index alone (Activity's
    ``activity_account_covering``). An index-only scan still reads the table's pages changed
    since its last vacuum; where autovacuum lags or is off and many rows changed, the planner
    goes back to scanning the whole table for each batch. A no-op on SQLite."""
    vacuum(Activity, changed=ACTIVITIES_VACUUM_WHEN_CHANGED)


def load_inputs(now: pd.Timestamp, params: EngineParams, account_ids=None) -> Inputs:
    """Every input of a run; with ``account_ids``, only those accounts' rows (one slot), and no
    leads or budget lines (the finish reads those for every account at once)."""
    accounts = load_accounts(account_ids)
    opportunities = load_opportunities(account_ids)
    since = activities_since(now, opportunities, params)
    scoped = account_ids is not None
    horizon = rollup_horizon(now, params)
    first_mqa, first_engaged = load_first_reached(account_ids)
    return Inputs(
        accounts=accounts,
        opportunities=opportunities,
        activities=load_activities(
            since=since.to_pydatetime(), until=now.to_pydatetime(), account_ids=account_ids
        ),
        enrolments=load_enrolments(account_ids),
        tasks=load_tasks(since=horizon.tz_localize("UTC").to_pydatetime(), account_ids=account_ids),
        leads=load_leads(none=scoped),
        budget_lines=load_budget_lines(none=scoped),
        first_mqa=first_mqa,
        first_engaged=first_engaged,
        horizon=horizon,
        touch_rules=load_touch_rules(),
    )


def load_finish_inputs(now: pd.Timestamp, params: EngineParams) -> Inputs:
    """What the finish reads: every account, deal, lead, enrolment and budget line; no
    activities (the slots have summed what it needs of them)."""
    first_mqa, first_engaged = load_first_reached([])  # none: empty frames of the right shape
    return Inputs(
        accounts=load_accounts(),
        opportunities=load_opportunities(),
        activities=load_activities(account_ids=[]),
        enrolments=load_enrolments(),
        tasks=load_tasks(since=now.to_pydatetime(), account_ids=[]),
        leads=load_leads(),
        budget_lines=load_budget_lines(),
        first_mqa=first_mqa,
        first_engaged=first_engaged,
        horizon=rollup_horizon(now, params),
        touch_rules=load_touch_rules(),
    )


def load_history_start(now: pd.Timestamp, params: EngineParams, account_ids=None) -> dt.date:
    """Continue the daily history where it stopped, at most one engagement window back."""
    floor = history_floor(now, params)
    history = EngagementHistory.objects.all()
    if account_ids is not None:
        history = history.filter(account_id__any_of=account_ids)
    last = history.aggregate(last=Max("date"))["last"]
    if last is None:
        return floor
    return max(floor, min(last, now.date()))


def load_opportunities(account_ids=None) -> pd.DataFrame:
    return frame_from_queryset(
        _of_accounts(Opportunity.objects.order_by(), account_ids),
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


def load_activities(*, since=None, until=None, account_ids=None) -> pd.DataFrame:
    """Activities in ``(since, until]`` with their contact's ``seniority`` (missing without one) and
    their step's ``playbook_id`` (NaN outside playbooks) and ``owner_role`` ("" outside).

    Seniority, playbook and owner are mapped from those small tables here rather than joined per
    activity, and PostgreSQL sends times as integer microseconds: parsing a million timestamp
    strings was most of the load. The text columns (channel, kind, direction, seniority,
    owner_role) are categoricals: a slot's engagement, touch rules and rollups group and match
    them by code (14 % less of a batch's compute than strings).
    """
    activities, columns = activity_rows(since=since, until=until, account_ids=account_ids)
    occurred = columns["occurred_at"]
    frame = frame_from_queryset(
        activities,
        columns,
        datetimes=() if occurred != "occurred_at" else ("occurred_at",),
        numbers=("cost",),
        categories=("channel", "kind", "direction"),
    )
    _from_micros(frame, "occurred_at", occurred)
    contacts = _of_accounts(Contact.objects.order_by(), account_ids)
    contacts = pd.Series(dict(contacts.values_list("id", "seniority")), dtype=object)
    seniority = _lookup_category(contacts, frame["contact_id"])
    steps = pd.DataFrame.from_records(
        list(Step.objects.values_list("id", "stage__playbook_id", "owner_role")),
        columns=["step_id", "playbook_id", "owner_role"],
    ).set_index("step_id")
    playbook = _lookup(steps["playbook_id"].astype(float), frame["step_id"], missing=np.nan)
    owner_role = _lookup_category(steps["owner_role"], frame["step_id"], missing="")
    frame = frame.drop(columns="step_id")
    frame.insert(3, "seniority", pd.Series(seniority, index=frame.index))
    frame["playbook_id"] = playbook.astype(float)
    frame["owner_role"] = owner_role
    return frame


def activity_rows(*, since=None, until=None, account_ids=None):
    """The query of ``load_activities``: (queryset, output column -> lookup). Every column it
    reads is in the activities' covering index."""
    activities = _of_accounts(Activity.objects.order_by(), account_ids)
    if since is not None:
        activities = activities.filter(occurred_at__gt=since)
    if until is not None:
        activities = activities.filter(occurred_at__lte=until)
    activities, occurred = _as_micros(activities, "occurred_at")
    columns = {
        "activity_id": "id",
        "account_id": "account_id",
        "contact_id": "contact_id",
        "channel": "channel",
        "kind": "kind",
        "direction": "direction",
        "occurred_at": occurred,
        "cost": "cost",
        "step_id": "step_id",
    }
    return activities, columns


def _lookup(table: pd.Series, keys: pd.Series, *, missing=None) -> np.ndarray:
    """``table[key]`` for each key; ``missing`` for null or unknown keys."""
    return np.append(table.to_numpy(dtype=object), [missing])[_positions(table, keys)]


def _lookup_category(table: pd.Series, keys: pd.Series, *, missing=None) -> pd.Categorical:
    """``_lookup`` of a text table as a categorical (sorted categories, None missing): the
    table's few values are hashed, not a value per row."""
    values = np.append(table.to_numpy(dtype=object), [missing])
    codes, categories = pd.factorize(values, sort=True)
    return pd.Categorical.from_codes(codes[_positions(table, keys)], categories=categories)


def _positions(table: pd.Series, keys: pd.Series) -> np.ndarray:
    """Each key's row in ``table``; one past its end for a null or unknown key."""
    at = table.index.get_indexer(keys.to_numpy(dtype=float, na_value=np.nan))
    return np.where(at < 0, len(table), at)


def load_enrolments(account_ids=None) -> pd.DataFrame:
    return frame_from_queryset(
        _of_accounts(Enrolment.objects.order_by(), account_ids),
        {
            "enrolment_id": "id",
            "account_id": "account_id",
            "playbook_id": "playbook_id",
            "status": "status",
            "enrolled_at": "enrolled_at",
        },
        datetimes=("enrolled_at",),
    )


def load_tasks(*, since: dt.datetime, account_ids=None) -> pd.DataFrame:
    return frame_from_queryset(
        _of_accounts(Task.objects.filter(due_at__gte=since).order_by(), account_ids),
        {
            "task_id": "id",
            "account_id": "account_id",
            "playbook_id": "enrolment__playbook_id",
            "status": "status",
            "due_at": "due_at",
        },
        datetimes=("due_at",),
    )


def load_leads(*, none: bool = False) -> pd.DataFrame:
    return frame_from_queryset(
        _none_if(Lead.objects.order_by(), none),
        {
            "lead_id": "id",
            "account_id": "account_id",
            "source_channel": "source_channel",
            "handed_off_at": "handed_off_at",
            "first_follow_up_at": "first_follow_up_at",
        },
        datetimes=("handed_off_at", "first_follow_up_at"),
    )


def load_budget_lines(*, none: bool = False) -> pd.DataFrame:
    frame = frame_from_queryset(
        _none_if(BudgetLine.objects.order_by(), none),
        {"playbook_id": "playbook_id", "channel": "channel", "date": "date", "amount": "amount"},
        numbers=("amount",),
        texts=("channel",),
    )
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def load_first_mqa(account_ids=None) -> pd.DataFrame:
    return load_first_reached(account_ids)[0]


def load_first_reached(account_ids=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``account_id, mqa_at``: each account's first change to mqa; ``account_id, engaged_at``:
    its first change to engaged or a later journey stage (a skipped stage counts as passed)."""
    rows = (
        _of_accounts(JourneyStageChange.objects.filter(to_stage__in=ENGAGED_OR_LATER), account_ids)
        .values("account_id", "to_stage")
        .annotate(first=Min("changed_at"))
        .order_by()
        .values_list("account_id", "to_stage", "first")
    )
    frame = pd.DataFrame.from_records(list(rows), columns=["account_id", "to_stage", "first"])
    frame["first"] = pd.to_datetime(frame["first"], utc=True)
    mqa = frame.loc[frame["to_stage"] == "mqa", ["account_id", "first"]]
    engaged = frame.groupby("account_id", as_index=False)["first"].min()
    return (
        mqa.rename(columns={"first": "mqa_at"}).reset_index(drop=True),
        engaged.rename(columns={"first": "engaged_at"}),
    )


def load_engaged_in_period() -> set:
    """Accounts engaged in the lift period, as their slots last computed it."""
    rows = EngagementScore.objects.filter(engaged_in_period=True)
    return set(rows.values_list("account_id", flat=True))


def load_linear_credits(account_ids=None) -> pd.DataFrame:
    """The linear model's stored credits (of these accounts): Markov's are derived from their
    touch counts."""
    rows, converted = _as_micros(
        _of_accounts(AttributionCredit.objects.filter(model="linear").order_by(), account_ids),
        "converted_at",
    )
    frame = frame_from_queryset(
        rows,
        {
            "kind": "kind",
            "opportunity_id": "opportunity_id",
            "account_id": "account_id",
            "converted_at": converted,
            "channel": "channel",
            "playbook_id": "playbook_id",
            "weight": "weight",
            "credit": "credit",
            "touches": "touches",
        },
        datetimes=() if converted != "converted_at" else ("converted_at",),
        numbers=("credit",),
        texts=("kind", "channel"),
    )
    _from_micros(frame, "converted_at", converted)
    # One dtype per column whatever the rows (none, or no playbook): a worker adds a few
    # slots' rows to the ones it kept (finishing.py).
    frame = frame.astype(
        {"opportunity_id": "int64", "account_id": "int64", "playbook_id": "float64"}
        | {"weight": "float64", "touches": "int64"}
    )
    frame.insert(0, "model", "linear")
    return frame


def _as_micros(queryset, field: str):
    """On PostgreSQL, ``field`` (a timestamp) annotated as integer microseconds since the epoch:
    parsing tens of thousands of timestamp strings costs more than reading the rows. The
    queryset and the lookup to read."""
    if connection.vendor != "postgresql":
        return queryset, field
    column = f"{connection.ops.quote_name(queryset.model._meta.db_table)}.{field}"
    name = f"{field}_us"
    expression = RawSQL(f"(extract(epoch FROM {column}) * 1000000)::bigint", ())
    return queryset.annotate(**{name: expression}), name


def _from_micros(frame: pd.DataFrame, column: str, read: str) -> None:
    """The column ``_as_micros`` read, as UTC timestamps (nanoseconds, as the rest are)."""
    if read == column:
        return
    micros = frame[column].to_numpy(dtype=np.int64)
    frame[column] = pd.DatetimeIndex(micros.astype("datetime64[us]"), tz="UTC").as_unit("ns")


def _of_accounts(queryset, account_ids):
    if account_ids is None:
        return queryset
    return queryset.filter(account_id__any_of=account_ids)


def _none_if(queryset, none: bool):
    return queryset.none() if none else queryset
