"""Attribution credits per (model, kind, opportunity, channel, playbook), for every model.

A journey is an opportunity's account's touches in the window before its conversion
(DOMAIN.md "Attribution"); ``journey_touches`` finds them all at once and ``attribution_credits``
runs every model of metrics/attribution.py over them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from abm.lib.timeconv import instant_ns, series_ns
from metrics import attribution
from metrics.attribution_markov import transition_counts_by
from metrics.engine.params import EngineParams

HEURISTIC = tuple(m for m in attribution.MODELS if m != "markov")


def attribution_credits(
    touches: pd.DataFrame, opportunities: pd.DataFrame, now: pd.Timestamp, params: EngineParams
) -> pd.DataFrame:
    """Credits per (model, kind, opportunity, channel, playbook) for every model and both kinds:
    what a run over one slot holding every account stores."""
    credits, counts = slot_credits(touches, opportunities, now, params)
    effects = removal_effects(counts)
    markov = markov_credits(credits, opportunities, effects)
    return _in_index_order(pd.concat([credits, markov], ignore_index=True))


def slot_credits(
    touches: pd.DataFrame,
    opportunities: pd.DataFrame,
    now: pd.Timestamp,
    params: EngineParams,
    layout: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every model's credits but Markov's, and the Markov transition counts per kind
    (``kind, from_state, to_state, count``): Markov needs every slot's counts first. With a
    slot ``layout``, the counts per slot of the journey's account (a ``slot`` column).

    Every model returns the same rows (one per counted touch) for a kind, so the grouping per
    (opportunity, channel, playbook) is computed once per kind and each model only sums into it.
    """
    window = pd.Timedelta(days=params.attribution_window_days)
    frames, counts = [], []
    for kind, conversions in _conversions(opportunities, now, window):
        journeys = journey_touches(touches, conversions, now, window)
        conv = conversions.rename(columns={"opportunity_id": "journey_id", "amount": "value"})
        conv = conv[["journey_id", "ts", "value"]]
        # One journey set-up for Markov's counts and the seven models.
        js = attribution.prepare_journeys(journeys, conv)
        if layout is None:
            part = attribution.markov_transition_counts(journeys, conv, journeys=js)
        else:
            slot = _journey_accounts(journeys["journey_id"], opportunities) % layout
            part = transition_counts_by(js, slot, layout).rename(columns={"group": "slot"})
        counts.append(part.assign(kind=kind))
        by_model = attribution.credit_models(
            journeys, conv, HEURISTIC, journeys=js, half_life_days=params.time_decay_half_life_days
        )
        groups = None
        for model, rows in by_model.items():
            if groups is None or not groups.matches(rows):
                groups = _CreditGroups.of(rows, conversions)
            frames.append(groups.credits(rows, model, kind))
    frames = [f for f in frames if len(f)]
    credits = pd.concat(frames, ignore_index=True) if frames else empty_credits()
    credits["channel"] = credits["channel"].astype(object)
    columns = ["kind", "from_state", "to_state", "count"] + ([] if layout is None else ["slot"])
    counts = pd.concat(counts, ignore_index=True)[columns]
    return _in_index_order(credits), counts


def _journey_accounts(journey_id: pd.Series, opportunities: pd.DataFrame) -> np.ndarray:
    """The account of each journey row: a deal's journey is its id, an idle path -account_id."""
    ids = journey_id.to_numpy(dtype=np.int64)
    deals = pd.Index(opportunities["opportunity_id"].to_numpy(dtype=np.int64))
    accounts = np.append(opportunities["account_id"].to_numpy(dtype=np.int64), -1)
    return np.where(ids < 0, -ids, accounts[deals.get_indexer(ids)])


def removal_effects(counts: pd.DataFrame) -> dict[str, pd.Series]:
    """Removal effects per conversion kind from (summed) transition counts."""
    return {
        kind: attribution.removal_effects_from_counts(part)
        for kind, part in counts.groupby("kind", sort=False)
    }


def effect_rows(effects: dict[str, pd.Series]) -> pd.DataFrame:
    """``kind, channel, effect`` rows of ``removal_effects``, as RemovalEffect stores them (a
    channel without a finite effect is left out: it weighs 0, as missing ones do)."""
    frames = [
        pd.DataFrame({"kind": kind, "channel": series.index.astype(str), "effect": series.values})
        for kind, series in effects.items()
    ]
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if rows.empty:
        return pd.DataFrame({"kind": [], "channel": [], "effect": []})
    rows["effect"] = rows["effect"].astype(float)
    return rows.loc[np.isfinite(rows["effect"].to_numpy())].reset_index(drop=True)


def markov_credits(
    credits: pd.DataFrame, opportunities: pd.DataFrame, effects: dict[str, pd.Series]
) -> pd.DataFrame:
    """Markov's credits from the linear model's rows, which keep each (deal, channel,
    playbook)'s number of touches: a touch's Markov weight is its channel's removal effect over
    the sum of its journey's, so a row's is ``touches * effect / sum``; a journey whose channels
    all have effect 0 falls back to linear weights (metrics/attribution.py). Removal effects
    move with every run; this re-derives Markov's credits without computing journeys again."""
    rows = credits.loc[credits["model"] == "linear"]
    if rows.empty:
        return empty_credits()
    values = opportunities.set_index("opportunity_id")["amount"].astype(float)
    parts = []
    for kind, part in rows.groupby("kind", sort=False):
        effect = effects.get(kind, pd.Series(dtype=float))
        per_touch = effect.reindex(part["channel"].to_numpy()).fillna(0.0).to_numpy()
        touches = part["touches"].to_numpy(dtype=float)
        score = touches * per_touch
        journey, _ = pd.factorize(part["opportunity_id"])
        total = np.bincount(journey, weights=score)
        dull = total[journey] <= 0  # no channel of the journey matters: linear weights
        score = np.where(dull, touches, score)
        total = np.bincount(journey, weights=score)
        weight = score / total[journey]
        value = values.reindex(part["opportunity_id"].to_numpy()).fillna(0.0).to_numpy()
        keep = weight > 0
        parts.append(
            part.loc[keep].assign(
                model="markov",
                weight=np.clip(weight[keep], 0, 1).round(6),
                credit=(value[keep] * weight[keep]).round(4),
            )
        )
    return pd.concat(parts, ignore_index=True)


def _conversions(opportunities: pd.DataFrame, now: pd.Timestamp, window: pd.Timedelta):
    pipeline = opportunities.loc[opportunities["created_at"] <= now].assign(
        ts=lambda f: f["created_at"], start=lambda f: f["created_at"] - window
    )
    won = opportunities.loc[
        (opportunities["stage"] == "closed_won") & (opportunities["closed_at"] <= now)
    ].assign(ts=lambda f: f["closed_at"], start=lambda f: f["created_at"] - window)
    return (("pipeline", pipeline), ("revenue", won))


def _in_index_order(credits: pd.DataFrame) -> pd.DataFrame:
    """In the order of the table's (account, opportunity) index: COPY then appends to it."""
    order = np.lexsort((credits["opportunity_id"].to_numpy(), credits["account_id"].to_numpy()))
    return credits.take(order).reset_index(drop=True)


@dataclass
class _CreditGroups:
    """Rows of a kind's credit output grouped by (journey, channel, playbook)."""

    journey: np.ndarray
    touch: np.ndarray
    code: np.ndarray  # group per row
    first: np.ndarray  # a row of each group
    size: np.ndarray  # touches per group
    meta: pd.DataFrame  # conversions indexed by opportunity_id

    @classmethod
    def of(cls, rows: pd.DataFrame, conversions: pd.DataFrame) -> _CreditGroups:
        journey = rows["journey_id"].to_numpy()
        channel = pd.Categorical(rows["channel"]).codes.astype(np.int64)
        playbook = rows["playbook_id"].to_numpy(dtype=float)
        playbook = np.where(np.isnan(playbook), -1, playbook).astype(np.int64)
        _, playbook = np.unique(playbook, return_inverse=True)
        n_channel, n_playbook = channel.max(initial=0) + 1, playbook.max(initial=0) + 1
        key = (journey.astype(np.int64) * n_channel + channel) * n_playbook + playbook
        code, uniques = pd.factorize(key)
        first = np.full(len(uniques), -1, dtype=np.int64)
        first[code[::-1]] = np.arange(len(code))[::-1]
        return cls(
            journey=journey,
            touch=rows["touch_id"].to_numpy(),
            code=code,
            first=first,
            size=np.bincount(code, minlength=len(uniques)),
            meta=conversions.set_index("opportunity_id")[["account_id", "ts"]],
        )

    def matches(self, rows: pd.DataFrame) -> bool:
        return np.array_equal(self.touch, rows["touch_id"].to_numpy()) and np.array_equal(
            self.journey, rows["journey_id"].to_numpy()
        )

    def credits(self, rows: pd.DataFrame, model: str, kind: str) -> pd.DataFrame:
        weight = np.bincount(self.code, weights=rows["weight"].to_numpy(), minlength=len(self.size))
        credit = np.bincount(self.code, weights=rows["credit"].to_numpy(), minlength=len(self.size))
        keep = weight > 0
        at = self.first[keep]
        journeys = self.journey[at]
        meta = self.meta.iloc[self.meta.index.get_indexer(journeys)]
        return pd.DataFrame(
            {
                "model": model,
                "kind": kind,
                "opportunity_id": journeys,
                "account_id": meta["account_id"].to_numpy(),
                "converted_at": meta["ts"].array,
                "channel": rows["channel"].array.take(at),
                "playbook_id": rows["playbook_id"].to_numpy(dtype=float)[at],
                "weight": np.clip(weight[keep], 0, 1).round(6),
                "credit": credit[keep].round(4),
                "touches": self.size[keep],
            }
        )


def empty_credits() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": pd.Series(dtype=object),
            "kind": pd.Series(dtype=object),
            "opportunity_id": pd.Series(dtype="int64"),
            "account_id": pd.Series(dtype="int64"),
            "converted_at": pd.Series(dtype="datetime64[ns, UTC]"),
            "channel": pd.Series(dtype=object),
            "playbook_id": pd.Series(dtype=float),
            "weight": pd.Series(dtype=float),
            "credit": pd.Series(dtype=float),
            "touches": pd.Series(dtype="int64"),
        }
    )


def journey_touches(touches, conversions, now, window) -> pd.DataFrame:
    """Touches of each converting journey, plus non-converting paths for the Markov model, in
    (journey_id, ts, touch_id) order.

    Touches sorted by (account, time, id) make every journey a contiguous run, found for all
    conversions at once by ``searchsorted`` on one packed (account, microsecond) key.
    """
    columns = ["journey_id", "touch_id", "ts", "channel", "is_mqa", "playbook_id"]
    account = touches["account_id"].to_numpy()
    micros = series_ns(touches["occurred_at"]) // 1000
    order = np.lexsort(
        (touches["activity_id"].to_numpy(), series_ns(touches["occurred_at"]), account)
    )
    accounts, code = np.unique(account[order], return_inverse=True)
    micros = micros[order]
    starts, ends = series_ns(conversions["start"]) // 1000, series_ns(conversions["ts"]) // 1000
    instants = np.concatenate([micros, starts, ends])
    origin = int(instants.min()) if len(instants) else 0
    shift = int(instants.max(initial=origin) - origin + 2).bit_length()
    if shift + int(len(accounts) + 1).bit_length() > 62:
        raise ValueError("too many accounts over too long a time to pack into one key")
    key = (code.astype(np.int64) << shift) | (micros - origin)

    conv_account = conversions["account_id"].to_numpy()
    conv_code = np.searchsorted(accounts, conv_account)
    # A conversion on an account without touches has an empty journey.
    known = np.append(accounts, -1)[conv_code] == conv_account
    conv_key = conv_code.astype(np.int64) << shift
    low = np.searchsorted(key, conv_key | (starts - origin), "left")
    high = np.searchsorted(key, conv_key | (ends - origin), "right")
    high = np.where(known, high, low)
    by_journey = np.argsort(conversions["opportunity_id"].to_numpy(), kind="stable")
    low, high = low[by_journey], high[by_journey]
    sizes = high - low
    journey_ids = np.repeat(conversions["opportunity_id"].to_numpy()[by_journey], sizes)
    # Row positions low..high-1 of every journey, concatenated.
    rows = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes - low, sizes)

    # Non-converting paths: accounts with touches and no conversion in the window before now.
    converted = conversions.loc[conversions["ts"] > now - window, "account_id"].to_numpy()
    idle = ~np.isin(account[order], converted) & (micros > (instant_ns(now - window) // 1000))
    idle_rows = np.flatnonzero(idle)
    # Journey ids -account_id ascending: accounts descending, each still in time order.
    idle_rows = idle_rows[np.argsort(-account[order][idle_rows], kind="stable")]
    picked = order[np.concatenate([idle_rows, rows])]
    frame = pd.DataFrame(
        {
            "journey_id": np.concatenate([-account[order][idle_rows], journey_ids]),
            "touch_id": touches["activity_id"].to_numpy()[picked],
            "ts": touches["occurred_at"].array.take(picked),
            "channel": touches["channel"].array.take(picked),
            "is_mqa": touches["is_mqa"].to_numpy()[picked],
            "playbook_id": touches["playbook_id"].to_numpy(dtype=float)[picked],
        }
    )
    return frame[columns]
