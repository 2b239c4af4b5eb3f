"""Store the engine's frames in their tables: recompute and overwrite, so a re-run changes nothing.

``write_slot`` replaces one slot's rows, ``write_finish`` Markov's removal effects and the rollups; the
runner wraps each in one transaction, so a slot is stored whole or not at all. On PostgreSQL rows
go in with binary COPY (abm/lib/table_copy.py: no text formatting or parsing of 1.5M credit
rows); elsewhere (SQLite, the test suite) with a plain executemany.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from django.db import IntegrityError, connection

from abm.lib.retrying import retried
from abm.lib.table_copy import copy_binary, insert_rows, merge_rows, replace_rows
from accounts.models import Account, Opportunity
from metrics.engine.compute.packs import pack_slots
from metrics.models import (
    AttributionCredit,
    EngagementHistory,
    EngagementScore,
    EngineSlot,
    JourneyStageChange,
    MetricRollup,
    RemovalEffect,
    SlotMarkovCount,
    SlotRollupPack,
)

_ATTEMPTS = 3

# --- One slot ---------------------------------------------------------------------------------


def write_slot(result, *, chosen: list[int], slots: int, account_ids, history_start, now) -> None:
    """Replace everything stored for the ``chosen`` slots' accounts with ``result``
    (compute.slot, its rollup rows and Markov counts per slot), leaving out accounts and deals
    deleted since the slots were loaded."""
    ids = [int(pk) for pk in account_ids]
    accounts, deals = lock_present(ids, result.credits["opportunity_id"])
    if len(accounts) < len(ids):
        result = _without_deleted(result, accounts, deals)
    elif len(deals) < result.credits["opportunity_id"].nunique():
        result = replace(result, credits=_present(result.credits, accounts, deals))
    write_engagement(
        result.scores,
        result.history,
        result.engaged_in_period,
        ids=ids,
        history_start=history_start,
        now=now,
    )
    write_stages(result.changes, now)
    # A run recomputes most rows as they were: those stay, only the others are written.
    credits = AttributionCredit.objects.filter(account_id__any_of=ids)
    merge_rows(credits, result.credits, digest="digest")
    replace_rows(SlotRollupPack.objects.filter(slot__in=chosen), pack_slots(result.rollup))
    replace_rows(SlotMarkovCount.objects.filter(slot__in=chosen), result.markov_counts)
    EngineSlot.objects.filter(slot__in=chosen).delete()
    EngineSlot.objects.bulk_create(
        EngineSlot(slot=slot, slots=slots, computed_at=now) for slot in chosen
    )


def write_finish(effects: pd.DataFrame, rollup: pd.DataFrame, *, slots: int) -> None:
    """The removal effects Markov's credits are read with (``kind, channel, effect``), every
    rollup row, and no slot left from a layout with more slots."""
    replace_rows(RemovalEffect.objects.all(), effects)
    # Most rollup rows come out of a run as they were (a few accounts changed): kept, unwritten.
    merge_rows(MetricRollup, rollup, digest="digest")
    for model in (SlotRollupPack, SlotMarkovCount, EngineSlot):
        model.objects.filter(slot__gte=slots).delete()


# --- Rows deleted while a run computed ---------------------------------------------------------


def lock_present(account_ids, opportunity_ids) -> tuple[set, set]:
    """The accounts and deals that still exist, key-share locked until the transaction ends.

    A run loads outside its write transaction, so a user may delete an account or a deal in
    between. The lock orders the two: a delete that comes first is committed and its rows are
    left out here; one that comes after waits for this transaction and then removes what it
    wrote (accounts/records.py locks the row before collecting what hangs off it).
    """
    accounts = sorted({int(pk) for pk in account_ids})
    deals = sorted({int(pk) for pk in pd.unique(pd.Series(opportunity_ids).dropna())})
    return _locked(Account, accounts), _locked(Opportunity, deals)


def retried_if_deleted(work, *, what: str):
    """``work()`` (load, compute, write in one transaction), again if its write hit a row
    deleted in the meantime that the lock above does not cover (a playbook, a user): the next
    attempt loads without it."""
    return retried(
        work, when=lambda exc: isinstance(exc, IntegrityError), what=what, attempts=_ATTEMPTS
    )


def _locked(model, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    if connection.vendor != "postgresql":
        # SQLite writes one transaction at a time: a row read here stays until the commit.
        return set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id FOR KEY SHARE", [ids]
        )
        return {row[0] for row in cursor.fetchall()}


def _present(frame: pd.DataFrame, accounts: set, deals: set) -> pd.DataFrame:
    keep = frame["account_id"].isin(accounts)
    if "opportunity_id" in frame:
        keep &= frame["opportunity_id"].isin(deals)
    return frame if keep.all() else frame.loc[keep]


def _without_deleted(result, accounts: set, deals: set):
    scores = _present(result.scores, accounts, deals)
    return replace(
        result,
        scores=scores,
        history=_present(result.history, accounts, deals),
        changes=_present(result.changes, accounts, deals),
        engaged_in_period={pk for pk in result.engaged_in_period if pk in accounts},
        credits=_present(result.credits, accounts, deals),
    )


def write_engagement(
    scores: pd.DataFrame, history: pd.DataFrame, engaged: set, *, ids, history_start, now
) -> None:
    """Today's scores (on the accounts too) and the daily history from ``history_start``."""
    replace_rows(
        EngagementScore.objects.filter(account_id__any_of=ids),
        pd.DataFrame(
            {
                "account_id": scores["account_id"].to_numpy(),
                "score": scores["score"].round(4).to_numpy(),
                "by_channel": [
                    {k: round(v, 4) for k, v in d.items()} for d in scores["by_channel"]
                ],
                "engaged_contacts": scores["engaged_contacts"].to_numpy(),
                "spike": scores["spike"].to_numpy(),
                "top_activities": scores["top_activities"].to_list(),
                "engaged_in_period": scores["account_id"].isin(engaged).to_numpy(),
                "computed_at": now,
            }
        ),
    )
    _update_accounts(
        scores["account_id"].to_numpy(),
        scores["score"].round(4).to_numpy(),
        scores["spike"].to_numpy(),
    )
    replace_rows(
        EngagementHistory.objects.filter(account_id__any_of=ids, date__gte=history_start),
        pd.DataFrame(
            {
                "account_id": history["account_id"].to_numpy(),
                "date": pd.to_datetime(history["date"]).dt.date.to_numpy(),
                "score": history["score"].round(4).to_numpy(),
            }
        ),
    )


def _update_accounts(ids: np.ndarray, scores: np.ndarray, spikes: np.ndarray) -> None:
    """Copy each account's score and spike flag onto it, touching only rows that changed."""
    if connection.vendor != "postgresql":
        rows = [
            Account(pk=int(pk), engagement_score=float(score), spike=bool(spike))
            for pk, score, spike in zip(ids, scores, spikes, strict=True)
        ]
        Account.objects.bulk_update(rows, ["engagement_score", "spike"], batch_size=2_000)
        return
    table = connection.ops.quote_name(Account._meta.db_table)
    with connection.cursor() as cursor:
        # Three array parameters: psycopg2 adapts a list in C, a VALUES row per account in Python.
        cursor.execute(
            f"UPDATE {table} AS a SET engagement_score = v.score, spike = v.spike "
            "FROM unnest(%s::bigint[], %s::double precision[], %s::boolean[]) "
            "AS v (id, score, spike) WHERE a.id = v.id "
            "AND (a.engagement_score <> v.score OR a.spike <> v.spike)",
            [ids.tolist(), scores.tolist(), spikes.tolist()],
        )


def write_stages(changes: pd.DataFrame, now: pd.Timestamp) -> None:
    """Move the accounts to their new stage and keep each change with the run's time."""
    if changes.empty:
        return
    # A re-run as of the same instant replaces its own changes: A -> B then B -> C is A -> C.
    at_now = JourneyStageChange.objects.filter(changed_at=now)
    changing = set(changes["account_id"].tolist())
    replaced = {a: f for a, f in at_now.values_list("account_id", "from_stage") if a in changing}
    if replaced:
        at_now.filter(account_id__any_of=replaced).delete()
        from_stage = changes["account_id"].map(replaced).fillna(changes["from_stage"])
        changes = changes.assign(from_stage=from_stage)
        moved = changes["from_stage"] != changes["to_stage"]
        changes.loc[~moved].pipe(_set_stages)
        changes = changes.loc[moved]
    _set_stages(changes)
    insert_rows(
        JourneyStageChange,
        pd.DataFrame(
            {
                "account_id": changes["account_id"].to_numpy(),
                "from_stage": changes["from_stage"].to_numpy(),
                "to_stage": changes["to_stage"].to_numpy(),
                "changed_at": now,
            }
        ),
    )


def _set_stages(changes: pd.DataFrame) -> None:
    by_stage = changes.groupby("to_stage")["account_id"].apply(list)
    for stage, ids in by_stage.items():
        Account.objects.filter(pk__in=[int(i) for i in ids]).update(stage=stage)


__all__ = ["copy_binary", "insert_rows", "replace_rows", "write_finish", "write_slot"]
