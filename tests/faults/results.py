"""What the fault and concurrency tests compare: every stored figure's totals, after a faulted
or hammered run and after the same run in this process, undisturbed."""

import datetime as dt
import time
from math import isclose

from django.db import connection, transaction
from django.db.models import Count, Sum

from abm.models import Job, RunStatus
from accounts.models import Account
from demo.seeding import seed_demo
from metrics.engine.runner import recompute_all
from metrics.models import (
    AttributionCredit,
    EngagementHistory,
    EngagementScore,
    EngineSlot,
    JourneyStageChange,
    MetricRollup,
    SlotRollupPack,
)
from tests.faults.harness import VISIBILITY_TIMEOUT, wait_until

FINISHED = (RunStatus.DONE, RunStatus.FAILED)


def refreshed(run: Job) -> Job:
    run.refresh_from_db()
    return run


def stored_by_slot(slots: int) -> dict[int, tuple[bool, bool, bool]]:
    """Per slot: (engine slot row, slot rollups, credits) as one snapshot sees them.

    The other worker keeps committing slots while the test looks; separate reads could each see a
    different moment and report a slot half stored that never was."""
    members = {k: [] for k in range(slots)}
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        for pk in Account.objects.values_list("pk", flat=True):
            members[pk % slots].append(pk)
        return {
            slot: (
                EngineSlot.objects.filter(slot=slot).exists(),
                SlotRollupPack.objects.filter(slot=slot).exists(),
                AttributionCredit.objects.filter(account_id__in=ids).exists(),
            )
            for slot, ids in members.items()
        }


def wait_finished(run: Job, timeout: float = 60) -> Job:
    wait_until(lambda: refreshed(run).status in FINISHED, timeout=timeout, what=f"run {run.pk}")
    assert run.status == RunStatus.DONE, run.error
    return run


def wait_for_redelivery(run: Job) -> None:
    """Until Redis will hand the killed worker's message to the next worker that connects."""
    delivered = run.started_at.timestamp()
    time.sleep(max(0.0, delivered + VISIBILITY_TIMEOUT + 0.5 - time.time()))


def duplicates(queryset, *key: str) -> int:
    return queryset.values(*key).annotate(n=Count("pk")).filter(n__gt=1).count()


def metric_totals() -> dict:
    """Row counts and sums of everything a recompute writes.

    Sums of float columns are left unrounded: PostgreSQL adds the rows in their physical order,
    which differs between two runs that store the same figures, so a total can sit either side of
    a rounding boundary (seen: 5983.6837 against 5983.6838). assert_same_totals compares floats
    to a relative 1e-9 instead."""

    def total(queryset, field):
        return queryset.aggregate(t=Sum(field))["t"] or 0

    return {
        "credits": list(
            AttributionCredit.objects.values("model", "kind")
            .annotate(rows=Count("pk"), credit=Sum("credit"), touches=Sum("touches"))
            .order_by("model", "kind")
        ),
        "slots": EngineSlot.objects.count(),
        # Not the task rollup: the faulted run's stage changes queue task generation on the
        # workers, so the clean run after it counts tasks the faulted run could not see.
        "rollups": {
            row["metric"]: (row["rows"], row["value"], row["count"])
            for row in MetricRollup.objects.exclude(metric="tasks")
            .values("metric")
            .annotate(rows=Count("pk"), value=Sum("value"), count=Sum("count"))
            .order_by("metric")
        },
        "scores": (EngagementScore.objects.count(), total(EngagementScore.objects, "score")),
        "history": (EngagementHistory.objects.count(), total(EngagementHistory.objects, "score")),
        "stages": list(Account.objects.values("stage").annotate(n=Count("pk")).order_by("stage")),
        "stage_changes": JourneyStageChange.objects.count(),
    }


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return (
            isinstance(a, int | float)
            and isinstance(b, int | float)
            and isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(map(_same, a, b))
    return a == b


def assert_same_totals(got: dict, clean: dict) -> None:
    """The same totals, floats to a relative 1e-9; the message names only what differs (pytest's
    diff of the whole dict is cut off before the rollups)."""
    differences = [
        f"rollup {metric}: {got['rollups'].get(metric)} != clean {clean['rollups'].get(metric)}"
        for metric in sorted(got["rollups"].keys() | clean["rollups"].keys())
        if not _same(got["rollups"].get(metric), clean["rollups"].get(metric))
    ]
    differences += [
        f"{key}: {got[key]} != clean {clean[key]}"
        for key in clean
        if key != "rollups" and not _same(got[key], clean[key])
    ]
    assert not differences, "\n".join(differences)


def assert_no_duplicate_results() -> None:
    credit_key = ("model", "kind", "opportunity", "channel", "playbook")
    assert duplicates(AttributionCredit.objects, *credit_key) == 0
    rollup_key = ("metric", "period", "model", "kind", "channel", "playbook", "tier", "owner")
    assert duplicates(MetricRollup.objects, *rollup_key, "segment") == 0


def clean_run_totals(as_of: str, slots: int | None = None) -> dict:
    """The same recompute, in this process and undisturbed, as of the faulted run's instant."""
    AttributionCredit.objects.all().delete()
    MetricRollup.objects.all().delete()
    recompute_all(now=dt.datetime.fromisoformat(as_of), slots=slots)
    return metric_totals()


def seeded_without_results(accounts: int) -> None:
    seed_demo(accounts=accounts, seed=11)
    # The seeder recomputed: drop its results so the run under test writes every row again.
    for model in (AttributionCredit, MetricRollup, EngineSlot, SlotRollupPack):
        model.objects.all().delete()
