"""`manage.py recompute_metrics`: the full recompute, in this process, with time per phase."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser

from abm.jobs import execute_run
from abm.models import Job, RunKind
from metrics.engine.runner import recompute_all


def _instant(value: str) -> dt.datetime:
    try:
        stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--now {value!r} is not an ISO date or datetime") from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


class Command(BaseCommand):
    help = (
        "Recompute engagement, journey stages, attribution and the dashboards' rollups now, "
        "recorded as a full Job, and print how long each phase took."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--now",
            type=_instant,
            default=None,
            help="compute as of this instant, ISO 8601 (default: now)",
        )
        parser.add_argument(
            "--slots",
            type=int,
            default=None,
            help="lay the accounts out in this many slots (default: one per "
            "ABM_ENGINE_ACCOUNTS_PER_SLOT accounts)",
        )

    def handle(self, *args, **options) -> None:
        run = Job.objects.create(kind=RunKind.FULL, params={"source": "command"})
        result = execute_run(
            run.pk,
            lambda r: recompute_all(run=r, now=options["now"], slots=options["slots"]),
        )
        seconds = result["seconds"]
        width = max(len(name) for name in seconds)
        for name, value in seconds.items():
            self.stdout.write(f"  {name:<{width}}  {value:7.2f} s")
        self.stdout.write(f"  {'total':<{width}}  {sum(seconds.values()):7.2f} s")
        self.stdout.write(
            self.style.SUCCESS(
                f"run #{run.pk}: {result['accounts']:,} accounts, {result['activities']:,} "
                f"activities, {result['opportunities']:,} deals -> {result['credit_rows']:,} "
                f"credit rows, {result['rollup_rows']:,} rollups, "
                f"{result['slots']:,} slots, "
                f"{result['stage_changes']:,} stage changes"
            )
        )
