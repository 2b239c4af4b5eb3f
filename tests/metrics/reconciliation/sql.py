"""The reconciliation suite's own figures: raw PostgreSQL written from DOMAIN.md.

Nothing here imports the application's metric code. ``Scope`` is a dashboard's filters as plain
values: a range of whole UTC months, a tier ("", "targets", "1".."3", "0" = non-target) and an
owner id.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection

WINDOW_DAYS = 180
HALF_LIFE_DAYS = 7.0
SLA_HOURS = 48
STAGES = ["targeted", "aware", "engaged", "mqa", "opportunity", "customer"]
# DOMAIN "Engagement score": default points; outbound-only kinds 0.
POINTS = {
    "email_open": 1,
    "email_click": 3,
    "email_reply": 8,
    "web_visit": 2,
    "content_download": 5,
    "form_fill": 10,
    "ad_click": 2,
    "ad_impression": 0.1,
    "event_attended": 15,
    "webinar_attended": 10,
    "meeting": 20,
    "call_connected": 5,
    "intent_signal": 3,
    "email_sent": 0,
    "direct_mail_sent": 0,
    "call_attempt": 0,
    "linkedin_message": 0,
}
SENIORITY = {"c_level": 2.0, "vp": 1.5, "director": 1.25, "manager": 1.0, "other": 0.5}
SALES_CHANNELS = ("phone", "sdr_outreach")
MODELS = ("first_touch", "last_touch", "linear", "u_shaped", "time_decay", "shapley")


@dataclass(frozen=True)
class Scope:
    start: dt.date  # first day of the first month
    end: dt.date  # first day of the last month
    tier: str = ""
    owner: int | None = None

    @property
    def lo(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(), tzinfo=dt.UTC)

    @property
    def hi(self) -> dt.datetime:
        """The first instant after the range."""
        return dt.datetime.combine(add_months(self.end, 1), dt.time(), tzinfo=dt.UTC)

    def query(self) -> dict:
        """The dashboard's query parameters for this scope."""
        params = {"preset": "custom", "start": f"{self.start:%Y-%m}", "end": f"{self.end:%Y-%m}"}
        if self.tier:
            params["tier"] = self.tier
        if self.owner is not None:
            params["owner"] = self.owner
        return params

    def accounts(self, alias: str = "a") -> str:
        """A SQL condition on the account table ``alias`` for the tier and owner."""
        parts = ["TRUE"]
        if self.tier == "targets":
            parts.append(f"{alias}.tier IS NOT NULL")
        elif self.tier == "0":
            parts.append(f"{alias}.tier IS NULL")
        elif self.tier:
            parts.append(f"{alias}.tier = {int(self.tier)}")
        if self.owner is not None:
            parts.append(f"{alias}.owner_id = {int(self.owner)}")
        return " AND ".join(parts)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def rows(sql: str, params=None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        return cursor.fetchall()


def _values(mapping: dict) -> str:
    return ", ".join(f"('{k}', {float(v)})" for k, v in mapping.items())


# DOMAIN "Touch rules" (default): a kind counts when its engagement points are >= 1, plus the
# outbound steps a person did for the account with a cost (direct mail sent, a 1:1 email or
# message from a playbook step). Ad impressions never count, even when a step paid for them.
TOUCH_KINDS = tuple(kind for kind, points in POINTS.items() if points >= 1)
PERSONAL_STEP_KINDS = ("direct_mail_sent", "email_sent", "linkedin_message")
TOUCH_RULE = f"""act.kind IN ({", ".join(f"'{k}'" for k in TOUCH_KINDS)})
       OR (act.step_id IS NOT NULL AND act.direction = 'outbound' AND act.cost > 0
           AND act.kind IN ({", ".join(f"'{k}'" for k in PERSONAL_STEP_KINDS)}))"""
if os.environ.get("ABM_RECONCILE_OLD_TOUCH_RULE"):
    # The rule before issue #14 (any points or any cost), to tell its disagreements from others.
    TOUCH_RULE = (
        f"act.kind IN ({', '.join(repr(k) for k, p in POINTS.items() if p)}) OR act.cost > 0"
    )
TOUCHES = f"""
    SELECT act.id, act.account_id, act.occurred_at, act.channel, act.cost,
           st.playbook_id, s.owner_role
    FROM playbooks_activity act
    LEFT JOIN playbooks_step s ON s.id = act.step_id
    LEFT JOIN playbooks_stage st ON st.id = s.stage_id
    WHERE {TOUCH_RULE}
"""


def _conversions(kind: str, scope: Scope) -> str:
    """Conversions in the range: (id, account_id, value, ts, start)."""
    if kind == "pipeline":
        return f"""
            SELECT o.id, o.account_id, o.amount::float8 AS value, o.created_at AS ts,
                   o.created_at - interval '{WINDOW_DAYS} days' AS start
            FROM accounts_opportunity o JOIN accounts_account a ON a.id = o.account_id
            WHERE o.created_at >= %(lo)s AND o.created_at < %(hi)s AND {scope.accounts()}
        """
    return f"""
        SELECT o.id, o.account_id, o.amount::float8 AS value, o.closed_at AS ts,
               o.created_at - interval '{WINDOW_DAYS} days' AS start
        FROM accounts_opportunity o JOIN accounts_account a ON a.id = o.account_id
        WHERE o.stage = 'closed_won' AND o.closed_at >= %(lo)s AND o.closed_at < %(hi)s
          AND {scope.accounts()}
    """


def credits(kind: str, scope: Scope) -> list[dict]:
    """Per touch of every journey converted in the scope: the weight of each heuristic model.

    A journey: the account's touches from 180 days before the opportunity's creation to the
    conversion (both ends included), ordered by occurred_at then id.
    """
    sql = f"""
        WITH conv AS ({_conversions(kind, scope)}),
        touch AS ({TOUCHES}),
        j AS (
            SELECT c.id AS opp, c.value, t.id AS tid, t.channel, t.playbook_id,
                   EXTRACT(EPOCH FROM (c.ts - t.occurred_at)) / 86400.0 AS days,
                   ROW_NUMBER() OVER (PARTITION BY c.id ORDER BY t.occurred_at, t.id) AS rn,
                   COUNT(*) OVER (PARTITION BY c.id) AS n,
                   COUNT(*) OVER (PARTITION BY c.id, t.channel) AS n_channel
            FROM conv c JOIN touch t ON t.account_id = c.account_id
             AND t.occurred_at >= c.start AND t.occurred_at <= c.ts
        ),
        channels AS (SELECT opp, COUNT(DISTINCT channel) AS k FROM j GROUP BY opp)
        SELECT j.opp, j.value, j.channel, j.playbook_id,
               CASE WHEN rn = 1 THEN 1.0 ELSE 0.0 END AS first_touch,
               CASE WHEN rn = n THEN 1.0 ELSE 0.0 END AS last_touch,
               1.0 / n AS linear,
               CASE WHEN n = 1 THEN 1.0 WHEN n = 2 THEN 0.5
                    WHEN rn = 1 OR rn = n THEN 0.4 ELSE 0.2 / (n - 2) END AS u_shaped,
               power(2.0, -days / {HALF_LIFE_DAYS})
                 / SUM(power(2.0, -days / {HALF_LIFE_DAYS})) OVER (PARTITION BY j.opp)
                 AS time_decay,
               1.0 / channels.k / n_channel AS shapley
        FROM j JOIN channels ON channels.opp = j.opp
    """
    names = ["opp", "value", "channel", "playbook_id", *MODELS]
    out = [dict(zip(names, r, strict=True)) for r in rows(sql, {"lo": scope.lo, "hi": scope.hi})]
    for row in out:
        for model in MODELS:
            row[model] = float(row[model])
    return out


def attributed(kind: str, model: str, scope: Scope) -> dict:
    """``{"total", "by_channel": {channel: credit}, "by_playbook": {id or None: credit}}``."""
    by_channel, by_playbook = defaultdict(float), defaultdict(float)
    for row in credits(kind, scope):
        credit = row[model] * row["value"]
        by_channel[row["channel"]] += credit
        by_playbook[row["playbook_id"]] += credit
    return {
        "total": sum(by_channel.values()),
        "by_channel": dict(by_channel),
        "by_playbook": dict(by_playbook),
    }


def converted_value(kind: str, scope: Scope) -> float:
    """The value of the conversions whose journey has at least one touch (every model's total)."""
    seen = {}
    for row in credits(kind, scope):
        seen[row["opp"]] = row["value"]
    return sum(seen.values())


def conversions(kind: str, scope: Scope) -> tuple[int, float]:
    """Count and amount of every conversion in the scope, with or without touches."""
    n, total = rows(
        f"SELECT COUNT(*), COALESCE(SUM(value), 0) FROM ({_conversions(kind, scope)}) c",
        {"lo": scope.lo, "hi": scope.hi},
    )[0]
    return n, float(total)


# --- Money ------------------------------------------------------------------------------------


# Activities by UTC month with their playbook: every one (the count key) and the costed ones.
_ACTIVITY_MONTHS = """
            SELECT act.account_id, act.channel, st.playbook_id, act.cost,
                   date_trunc('month', act.occurred_at AT TIME ZONE 'UTC')::date AS month
            FROM playbooks_activity act
            LEFT JOIN playbooks_step s ON s.id = act.step_id
            LEFT JOIN playbooks_stage st ON st.id = s.stage_id
"""
ACTIVITY_MONTHS_ALL = f"acted AS ({_ACTIVITY_MONTHS})"
ACTIVITY_MONTHS_COSTED = f"costed AS ({_ACTIVITY_MONTHS} WHERE act.cost > 0)"


def spend(scope: Scope) -> dict:
    """DOMAIN "Money": activity costs + budget lines in the range. Under a tier or owner filter a
    budget line counts pro rata to the filtered accounts' share of its playbook's (or channel's)
    activity cost in the line's month, or of its activities when that work had no cost.

    ``{"total", "by_channel": {channel or "unallocated"}, "by_playbook": {id or None}}``.
    """
    params = {"lo": scope.lo, "hi": scope.hi}
    activity = rows(
        f"""
        SELECT act.channel, st.playbook_id, SUM(act.cost)::float8
        FROM playbooks_activity act JOIN accounts_account a ON a.id = act.account_id
        LEFT JOIN playbooks_step s ON s.id = act.step_id
        LEFT JOIN playbooks_stage st ON st.id = s.stage_id
        WHERE act.occurred_at >= %(lo)s AND act.occurred_at < %(hi)s AND {scope.accounts()}
        GROUP BY 1, 2
        """,
        params,
    )
    lines = rows(
        f"""
        WITH {ACTIVITY_MONTHS_COSTED}, {ACTIVITY_MONTHS_ALL}
        SELECT b.channel, b.playbook_id, b.amount::float8,
               (SELECT COALESCE(SUM(c.cost), 0)::float8 FROM costed c
                  JOIN accounts_account a ON a.id = c.account_id
                 WHERE c.month = date_trunc('month', b.date)::date AND {scope.accounts()}
                   AND CASE WHEN b.playbook_id IS NOT NULL THEN c.playbook_id = b.playbook_id
                            ELSE c.channel = b.channel END) AS share_cost,
               (SELECT COALESCE(SUM(c.cost), 0)::float8 FROM costed c
                 WHERE c.month = date_trunc('month', b.date)::date
                   AND CASE WHEN b.playbook_id IS NOT NULL THEN c.playbook_id = b.playbook_id
                            ELSE c.channel = b.channel END) AS all_cost,
               (SELECT COUNT(*)::float8 FROM acted c
                  JOIN accounts_account a ON a.id = c.account_id
                 WHERE c.month = date_trunc('month', b.date)::date AND {scope.accounts()}
                   AND CASE WHEN b.playbook_id IS NOT NULL THEN c.playbook_id = b.playbook_id
                            ELSE c.channel = b.channel END) AS share_count,
               (SELECT COUNT(*)::float8 FROM acted c
                 WHERE c.month = date_trunc('month', b.date)::date
                   AND CASE WHEN b.playbook_id IS NOT NULL THEN c.playbook_id = b.playbook_id
                            ELSE c.channel = b.channel END) AS all_count
        FROM metrics_budgetline b
        WHERE b.date >= %(lo)s::date AND b.date < %(hi)s::date
        """,
        params,
    )
    by_channel, by_playbook = defaultdict(float), defaultdict(float)
    for channel, playbook, cost in activity:
        by_channel[channel] += cost
        by_playbook[playbook] += cost
    filtered = bool(scope.tier) or scope.owner is not None
    for channel, playbook, amount, share_cost, all_cost, share_count, all_count in lines:
        # Shared by cost on the line's key that month, else by activity count, else on no
        # account: then only the unfiltered total holds it.
        if not filtered:
            part = amount
        elif all_cost:
            part = amount * share_cost / all_cost
        else:
            part = amount * share_count / all_count if all_count else 0.0
        by_channel[channel or "unallocated"] += part
        by_playbook[playbook] += part
    return {
        "total": sum(by_channel.values()),
        "by_channel": dict(by_channel),
        "by_playbook": dict(by_playbook),
    }


def spend_costs(scope: Scope) -> list[tuple[str, int | None, float]]:
    """Each cost behind the spend figure: ``(channel or "unallocated", playbook, amount)`` per
    costed activity, and per budget line and account with activity cost on the line's playbook
    (or channel) in its month, that account's pro-rata part (by activity count when the key had
    no cost that month); a line with neither is one row, in the unfiltered scope only."""
    params = {"lo": scope.lo, "hi": scope.hi}
    activities = rows(
        f"""
        SELECT act.channel, st.playbook_id, act.cost::float8
        FROM playbooks_activity act JOIN accounts_account a ON a.id = act.account_id
        LEFT JOIN playbooks_step s ON s.id = act.step_id
        LEFT JOIN playbooks_stage st ON st.id = s.stage_id
        WHERE act.cost > 0 AND act.occurred_at >= %(lo)s AND act.occurred_at < %(hi)s
          AND {scope.accounts()}
        """,
        params,
    )
    shares = rows(
        f"""
        WITH {ACTIVITY_MONTHS_COSTED}, lines AS (
            SELECT b.id, b.channel, b.playbook_id, b.amount::float8 AS amount,
                   date_trunc('month', b.date)::date AS month
            FROM metrics_budgetline b
            WHERE b.date >= %(lo)s::date AND b.date < %(hi)s::date
        ), {ACTIVITY_MONTHS_ALL}, by_cost AS (
            SELECT l.id, c.account_id,
                   SUM(c.cost)::float8 / SUM(SUM(c.cost)) OVER (PARTITION BY l.id) AS part
            FROM lines l JOIN costed c ON c.month = l.month
             AND CASE WHEN l.playbook_id IS NOT NULL THEN c.playbook_id = l.playbook_id
                      ELSE c.channel = l.channel END
            GROUP BY l.id, c.account_id
        ), by_count AS (
            SELECT l.id, c.account_id,
                   COUNT(*)::float8 / SUM(COUNT(*)) OVER (PARTITION BY l.id) AS part
            FROM lines l JOIN acted c ON c.month = l.month
             AND CASE WHEN l.playbook_id IS NOT NULL THEN c.playbook_id = l.playbook_id
                      ELSE c.channel = l.channel END
            WHERE l.id NOT IN (SELECT id FROM by_cost)
            GROUP BY l.id, c.account_id
        ), parts AS (
            SELECT * FROM by_cost UNION ALL SELECT * FROM by_count
        )
        SELECT l.channel, l.playbook_id, l.amount * COALESCE(p.part, 1), p.account_id
        FROM lines l LEFT JOIN parts p ON p.id = l.id
        LEFT JOIN accounts_account a ON a.id = p.account_id
        WHERE p.account_id IS NULL OR ({scope.accounts()})
        """,
        params,
    )
    filtered = bool(scope.tier) or scope.owner is not None
    costs = [(channel, playbook, cost) for channel, playbook, cost in activities]
    for channel, playbook, amount, account in shares:
        if account is None and filtered:
            continue
        costs.append((channel or "unallocated", playbook, amount))
    return costs


def roi(revenue: float, spent: float) -> float | None:
    return None if not spent else (revenue - spent) / spent


# --- Deals, lift, origin ----------------------------------------------------------------------


SEGMENTS = {
    "target": "a.tier IS NOT NULL",
    "non_target": "a.tier IS NULL",
    "tier_1": "a.tier = 1",
    "tier_2": "a.tier = 2",
    "tier_3": "a.tier = 3",
}


def segment(name: str, scope: Scope) -> dict:
    """DOMAIN "Target vs non-target" over opportunities created in the range."""
    where = f"{SEGMENTS[name]} AND {scope.accounts()}"
    won, lost, opened, revenue, cycle, created = rows(
        f"""
        SELECT COUNT(*) FILTER (WHERE o.stage = 'closed_won'),
               COUNT(*) FILTER (WHERE o.stage = 'closed_lost'),
               COUNT(*) FILTER (WHERE o.stage NOT IN ('closed_won', 'closed_lost')),
               COALESCE(SUM(o.amount) FILTER (WHERE o.stage = 'closed_won'), 0)::float8,
               AVG(EXTRACT(EPOCH FROM (o.closed_at - o.created_at)) / 86400.0)
                   FILTER (WHERE o.stage = 'closed_won')::float8,
               COUNT(*)
        FROM accounts_opportunity o JOIN accounts_account a ON a.id = o.account_id
        WHERE o.created_at >= %(lo)s AND o.created_at < %(hi)s AND {where}
        """,
        {"lo": scope.lo, "hi": scope.hi},
    )[0]
    (accounts,) = rows(f"SELECT COUNT(*) FROM accounts_account a WHERE {where}")[0]
    win_rate = won / (won + lost) if won + lost else None
    average = revenue / won if won else None
    velocity = (
        opened * win_rate * average / cycle if win_rate is not None and average and cycle else None
    )
    return {
        "opportunities": created,
        "accounts": accounts,
        "win_rate": win_rate,
        "average_deal_size": average,
        "cycle_days": cycle,
        "velocity": velocity,
        "revenue_per_account": revenue / accounts if accounts else None,
    }


def lift(target, control):
    if target is None or control in (None, 0):
        return None
    return target / control - 1


def origin(scope: Scope) -> dict:
    """DOMAIN "Sourced vs influenced": pipeline created in the range, the part whose source is
    marketing and the part with a qualifying marketing touch in the 180 days before creation
    (a touch of a marketing-owned step, or outside playbooks one on a marketing channel)."""
    pipeline, sourced, influenced = rows(
        f"""
        WITH touch AS ({TOUCHES})
        SELECT COALESCE(SUM(o.amount), 0)::float8,
               COALESCE(SUM(o.amount) FILTER (WHERE o.source = 'marketing'), 0)::float8,
               COALESCE(SUM(o.amount) FILTER (WHERE EXISTS (
                   SELECT 1 FROM touch t WHERE t.account_id = o.account_id
                      AND t.occurred_at >= o.created_at - interval '{WINDOW_DAYS} days'
                      AND t.occurred_at <= o.created_at
                      AND (t.owner_role = 'marketing'
                           OR (t.owner_role IS NULL
                               AND t.channel NOT IN {SALES_CHANNELS!r})))), 0)::float8
        FROM accounts_opportunity o JOIN accounts_account a ON a.id = o.account_id
        WHERE o.created_at >= %(lo)s AND o.created_at < %(hi)s AND {scope.accounts()}
        """,
        {"lo": scope.lo, "hi": scope.hi},
    )[0]
    return {"pipeline": pipeline, "sourced": sourced, "influenced": influenced}


# --- Leads ------------------------------------------------------------------------------------


def follow_up(scope: Scope) -> dict:
    """Per hand-off month: leads handed off, followed up within the SLA, and decided (followed up,
    or past the SLA without one)."""
    out = {}
    for month, handed, on_time, followed, decided in rows(
        f"""
        SELECT date_trunc('month', l.handed_off_at AT TIME ZONE 'UTC')::date, COUNT(*),
               COUNT(*) FILTER (WHERE l.first_follow_up_at
                                      <= l.handed_off_at + interval '{SLA_HOURS} hours'),
               COUNT(*) FILTER (WHERE l.first_follow_up_at IS NOT NULL),
               COUNT(*) FILTER (WHERE l.first_follow_up_at IS NOT NULL
                                   OR l.handed_off_at + interval '{SLA_HOURS} hours' < now())
        FROM accounts_lead l JOIN accounts_account a ON a.id = l.account_id
        WHERE l.handed_off_at >= %(lo)s AND l.handed_off_at < %(hi)s AND {scope.accounts()}
        GROUP BY 1
        """,
        {"lo": scope.lo, "hi": scope.hi},
    ):
        out[month] = {
            "handed_off": handed,
            "on_time": on_time,
            "followed": followed,
            "decided": decided,
            "rate": on_time / decided if decided else None,
        }
    return out


# --- Funnel -----------------------------------------------------------------------------------


def funnel(scope: Scope) -> dict[str, set[int]]:
    """DOMAIN "Funnel": the target accounts that reached each journey stage during the range,
    from the stage history; reaching a later stage passes every stage before it."""
    rank = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(STAGES))
    reached = rows(
        f"""
        SELECT c.account_id, MAX(CASE c.to_stage {rank} END)
        FROM metrics_journeystagechange c JOIN accounts_account a ON a.id = c.account_id
        WHERE c.changed_at >= %(lo)s AND c.changed_at < %(hi)s
          AND a.tier IS NOT NULL AND {scope.accounts()}
        GROUP BY 1
        """,
        {"lo": scope.lo, "hi": scope.hi},
    )
    return {
        stage: {pk for pk, top in reached if top is not None and top >= index}
        for index, stage in enumerate(STAGES)
    }


# --- Marketer ---------------------------------------------------------------------------------


def enrolments(scope: Scope) -> dict[tuple[int, str], int]:
    """Enrolments now per (playbook, stage name for active ones else the status)."""
    return {
        (playbook, label): n
        for playbook, label, n in rows(
            f"""
            SELECT e.playbook_id,
                   CASE WHEN e.status = 'active' THEN COALESCE(st.name, 'No stage yet')
                        ELSE e.status END,
                   COUNT(*)
            FROM playbooks_enrolment e JOIN accounts_account a ON a.id = e.account_id
            LEFT JOIN playbooks_stage st ON st.id = e.current_stage_id
            WHERE {scope.accounts()}
            GROUP BY 1, 2
            """
        )
    }


def tasks_due(scope: Scope, today: dt.datetime) -> dict[int, dict]:
    """Tasks due in the range per playbook: done, skipped, open and overdue (due before today),
    open and not due yet; completion = done / (done + skipped + overdue)."""
    out = {}
    for playbook, done, skipped, overdue, upcoming in rows(
        f"""
        SELECT e.playbook_id,
               COUNT(*) FILTER (WHERE t.status = 'done'),
               COUNT(*) FILTER (WHERE t.status = 'skipped'),
               COUNT(*) FILTER (WHERE t.status = 'open' AND t.due_at < %(today)s),
               COUNT(*) FILTER (WHERE t.status = 'open' AND t.due_at >= %(today)s)
        FROM playbooks_task t JOIN playbooks_enrolment e ON e.id = t.enrolment_id
        JOIN accounts_account a ON a.id = t.account_id
        WHERE t.due_at >= %(lo)s AND t.due_at < %(hi)s AND {scope.accounts()}
        GROUP BY 1
        """,
        {"lo": scope.lo, "hi": scope.hi, "today": today},
    ):
        decided = done + skipped + overdue
        out[playbook] = {
            "done": done,
            "skipped": skipped,
            "overdue": overdue,
            "upcoming": upcoming,
            "rate": done / decided if decided else None,
        }
    return out


# --- Sales ------------------------------------------------------------------------------------


def engagement(now: dt.datetime) -> dict[int, float]:
    """DOMAIN "Engagement score" of every account at ``now``: points x seniority multiplier x
    2^(-age / 30 days) over the last 90 days, at most 20 points per kind per account per day."""
    sql = f"""
        WITH w(kind, points) AS (VALUES {_values(POINTS)}),
        m(seniority, mult) AS (VALUES {_values(SENIORITY)}),
        p AS (
            SELECT act.account_id, act.kind,
                   (act.occurred_at AT TIME ZONE 'UTC')::date AS day,
                   w.points * COALESCE(m.mult, 1.0) AS points,
                   power(2.0, -EXTRACT(EPOCH FROM (%(now)s - act.occurred_at)) / (30 * 86400.0))
                     AS decay
            FROM playbooks_activity act JOIN w ON w.kind = act.kind
            LEFT JOIN accounts_contact c ON c.id = act.contact_id
            LEFT JOIN m ON m.seniority = c.seniority
            WHERE act.occurred_at > %(now)s - interval '90 days' AND act.occurred_at <= %(now)s
        ),
        daily AS (
            SELECT account_id, kind, day, SUM(points) AS raw, SUM(points * decay) AS decayed
            FROM p GROUP BY 1, 2, 3
        )
        SELECT account_id,
               SUM(CASE WHEN raw > 20 THEN decayed * 20 / raw ELSE decayed END)::float8
        FROM daily GROUP BY 1
    """
    return dict(rows(sql, {"now": now}))


def owned_accounts(owner: int) -> dict[int, float]:
    """The owner's accounts and their fit scores."""
    return dict(
        rows("SELECT id, fit_score FROM accounts_account WHERE owner_id = %(o)s", {"o": owner})
    )


def open_tasks(assignee: int, now: dt.datetime, today: dt.datetime, days: int) -> dict:
    """Open tasks assigned to ``assignee`` due before ``now + days``: overdue (before today) and
    the rest."""
    overdue, soon = rows(
        f"""
        SELECT COUNT(*) FILTER (WHERE due_at < %(today)s), COUNT(*) FILTER (WHERE due_at >= %(today)s)
        FROM playbooks_task
        WHERE status = 'open' AND assignee_id = %(who)s
          AND due_at < %(now)s + interval '{int(days)} days'
        """,
        {"who": assignee, "now": now, "today": today},
    )[0]
    return {"overdue": overdue, "soon": soon}
