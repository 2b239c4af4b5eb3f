"""Store the engine's frames in their tables: recompute and overwrite, so a re-run changes nothing.

Callers wrap these in one transaction, so readers never see half a run. On PostgreSQL rows go in
with binary COPY (no text formatting or parsing of 1.5M credit rows); elsewhere (SQLite, the test
suite) with a plain executemany. Credits are rewritten only where a digest per (model, kind, deal)
changed (``write_credits``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.db import connection
from psycopg2.extras import execute_values

from abm.lib.frames import frame_from_queryset
from abm.lib.table_copy import copy_binary, insert_rows, replace_rows
from abm.lib.table_copy import encode_column as _encode
from accounts.models import Account
from metrics.models import (
    AttributionCredit,
    CreditDigest,
    EngagementHistory,
    EngagementScore,
    JourneyStageChange,
)

# --- Engagement and stages --------------------------------------------------------------------


def write_engagement(
    scores: pd.DataFrame, history: pd.DataFrame, *, history_start, now: pd.Timestamp
) -> None:
    """Today's scores (on the accounts too) and the daily history from ``history_start``."""
    replace_rows(
        EngagementScore.objects.all(),
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
        EngagementHistory.objects.filter(date__gte=history_start),
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
        execute_values(
            cursor.cursor,
            f"UPDATE {table} AS a SET engagement_score = v.score, spike = v.spike "
            "FROM (VALUES %s) AS v (id, score, spike) WHERE a.id = v.id "
            "AND (a.engagement_score <> v.score OR a.spike <> v.spike)",
            list(zip(ids.tolist(), scores.tolist(), spikes.tolist(), strict=True)),
            template="(%s::bigint, %s::double precision, %s::boolean)",
            page_size=20_000,
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
        at_now.filter(account_id__in=list(replaced)).delete()
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


# --- Attribution credits ----------------------------------------------------------------------

_DIGEST_KEY = ["model", "kind", "opportunity_id"]
# Rewriting everything beats deleting by key once this share of the credits changed.
_REWRITE_SHARE = 0.5


def write_credits(credits: pd.DataFrame, *, rewrite: bool = False) -> int:
    """Store the credits, rewriting only those of (model, kind, deal) whose digest changed.

    The digest covers every stored column, so an unchanged digest means unchanged rows. A
    (model, kind) slice that mostly changed (Markov's, every run) is rewritten whole with one
    sequential delete; a few changed deals are deleted by key through the (account,
    opportunity) index. Returns the number of credit rows written.
    """
    digests = credit_digests(credits)
    if connection.vendor != "postgresql" or rewrite:
        return _rewrite_credits(credits, digests)
    old = frame_from_queryset(
        CreditDigest.objects.order_by(),
        {c: c for c in ["model", "kind", "opportunity_id", "account_id", "digest", "rows"]},
    )
    if old.empty or int(old["rows"].sum()) != AttributionCredit.objects.count():
        return _rewrite_credits(credits, digests)
    # Nullable integers: an outer merge must not turn 64-bit digests into floats.
    both = digests.astype({"digest": "Int64"}).merge(
        old.astype({"digest": "Int64"}),
        on=_DIGEST_KEY,
        how="outer",
        suffixes=("", "_old"),
        indicator=True,
    )
    new, gone = both["_merge"] == "left_only", both["_merge"] == "right_only"
    differs = (both["_merge"] == "both") & (both["digest"] != both["digest_old"]).fillna(True)
    changed = new | gone | differs
    if changed.sum() > _REWRITE_SHARE * max(len(both), 1):
        return _rewrite_credits(credits, digests)
    share = changed.groupby([both["model"], both["kind"]]).mean()
    slices = [key for key, part in share.items() if part > _REWRITE_SHARE]
    in_slice = pd.MultiIndex.from_frame(both[["model", "kind"]]).isin(slices)
    stale = both.loc[(gone | differs) & ~in_slice]
    fresh = both.loc[(new | differs) & ~in_slice, _DIGEST_KEY]
    _delete_credit_slices(slices)
    _delete_credit_keys(
        pd.DataFrame(
            {
                "model": stale["model"].to_numpy(),
                "kind": stale["kind"].to_numpy(),
                "opportunity_id": stale["opportunity_id"].to_numpy(),
                "account_id": stale["account_id_old"].to_numpy(),
            }
        )
    )
    slice_rows = pd.MultiIndex.from_frame(credits[["model", "kind"]]).isin(slices)
    rows = pd.concat([credits.loc[slice_rows], credits.merge(fresh, on=_DIGEST_KEY)])
    digest_rows = pd.MultiIndex.from_frame(digests[["model", "kind"]]).isin(slices)
    insert_rows(AttributionCredit, rows[list(credits.columns)])
    insert_rows(
        CreditDigest,
        pd.concat([digests.loc[digest_rows], digests.merge(fresh, on=_DIGEST_KEY)])[
            list(digests.columns)
        ],
    )
    return len(rows)


def _rewrite_credits(credits: pd.DataFrame, digests: pd.DataFrame) -> int:
    replace_rows(CreditDigest.objects.all(), digests)
    return replace_rows(AttributionCredit.objects.all(), credits)


def _delete_credit_slices(slices: list[tuple[str, str]]) -> None:
    if not slices:
        return
    pairs = ", ".join(["(%s, %s)"] * len(slices))
    params = [value for pair in slices for value in pair]
    with connection.cursor() as cursor:
        for model in (AttributionCredit, CreditDigest):
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"DELETE FROM {table} WHERE (model, kind) IN ({pairs})", params)


def credit_digests(credits: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, kind, opportunity): a 64-bit digest of its rows, and their number."""
    hashed = pd.util.hash_pandas_object(
        credits[
            [
                "account_id",
                "converted_at",
                "channel",
                "playbook_id",
                "weight",
                "credit",
                "touches",
            ]
        ],
        index=False,
    ).to_numpy()
    model, models = pd.factorize(credits["model"])
    kind, kinds = pd.factorize(credits["kind"])
    key = (credits["opportunity_id"].to_numpy() * len(models) + model) * len(kinds) + kind
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else order
    at = order[starts]
    # A sum is order-independent and wraps at 2**64: the digest of the group's set of rows.
    digest = np.add.reduceat(hashed[order], starts) if len(key) else hashed
    return pd.DataFrame(
        {
            "model": credits["model"].to_numpy()[at],
            "kind": credits["kind"].to_numpy()[at],
            "opportunity_id": credits["opportunity_id"].to_numpy()[at],
            "account_id": credits["account_id"].to_numpy()[at],
            "digest": digest.view(np.int64),
            "rows": np.diff(np.r_[starts, len(key)]),
        }
    )


def _delete_credit_keys(keys: pd.DataFrame) -> None:
    """Delete the credits and digests of these (model, kind, opportunity, account) keys."""
    if keys.empty:
        return
    credit_table = connection.ops.quote_name(AttributionCredit._meta.db_table)
    digest_table = connection.ops.quote_name(CreditDigest._meta.db_table)
    fields = {f.column: f for f in AttributionCredit._meta.concrete_fields}
    payload = copy_binary([_encode(keys[name], fields[name]) for name in keys.columns])
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE stale_credit_keys (model varchar(16), kind varchar(16), "
            "opportunity_id bigint, account_id bigint) ON COMMIT DROP"
        )
        cursor.cursor.copy_expert(
            "COPY stale_credit_keys (model, kind, opportunity_id, account_id) "
            "FROM STDIN WITH (FORMAT binary)",
            payload,
        )
        cursor.execute("ANALYZE stale_credit_keys")
        cursor.execute(
            f"DELETE FROM {credit_table} c USING stale_credit_keys k "
            "WHERE c.account_id = k.account_id AND c.opportunity_id = k.opportunity_id "
            "AND c.model = k.model AND c.kind = k.kind"
        )
        cursor.execute(
            f"DELETE FROM {digest_table} d USING stale_credit_keys k "
            "WHERE d.opportunity_id = k.opportunity_id AND d.model = k.model AND d.kind = k.kind"
        )
        cursor.execute("DROP TABLE stale_credit_keys")
