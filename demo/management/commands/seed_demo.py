"""`manage.py seed_demo`: a believable, deterministic demo dataset (see demo/seeding/)."""

from argparse import ArgumentTypeError
from datetime import UTC, date, datetime, time
from time import perf_counter

from django.core.management.base import BaseCommand, CommandError, CommandParser

from abm.jobs import execute_run
from abm.models import Job, RunKind
from demo.seeding import SeedRefused, seed_demo
from metrics.engine.runner import recompute_all


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = (
        "Seed demo users and a year of ABM data: accounts, contacts, playbooks, activities, "
        "opportunities, leads and spend. The same --accounts, --seed and --today give the "
        "same data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", type=int, default=300, help="accounts (default 300)")
        parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
        parser.add_argument(
            "--today",
            type=_iso_date,
            default=None,
            help="the day the data ends, YYYY-MM-DD (default: today, UTC)",
        )
        parser.add_argument(
            "--flush",
            action="store_true",
            help="delete all accounts, playbooks and metrics first (users are kept)",
        )
        parser.add_argument(
            "--no-metrics",
            action="store_true",
            help="skip computing engagement, stages and attribution after seeding",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing, quietly, when any account exists",
        )

    def handle(self, *args, **options) -> None:
        today = options["today"] or datetime.now(UTC).date()
        if isinstance(today, str):  # call_command(today="...") skips the parser's type
            try:
                today = _iso_date(today)
            except ArgumentTypeError as exc:
                raise CommandError(f"--today: {exc}") from None
        if options["accounts"] < 1:
            raise CommandError("--accounts must be at least 1")
        verbose = options["verbosity"] > 0
        try:
            result = seed_demo(
                accounts=options["accounts"],
                seed=options["seed"],
                today=today,
                flush=options["flush"],
                if_empty=options["if_empty"],
                progress=self.stdout.write if verbose else (lambda message: None),
            )
        except SeedRefused as exc:
            raise CommandError(str(exc)) from exc
        if result.skipped:
            if options["verbosity"] > 1:
                self.stdout.write("accounts exist already: nothing seeded (--if-empty)")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"seeded {result.accounts:,} accounts, {result.activities:,} activities, "
                f"{result.opportunities:,} opportunities in {result.seconds:.1f} s"
            )
        )
        if not options["no_metrics"]:
            as_of = None if options["today"] is None else datetime.combine(today, time.max, UTC)
            self._recompute(verbose, as_of)
        self.stdout.write("demo logins (username / password / role):")
        for username, password, role in result.logins:
            self.stdout.write(f"  {username:<10} {password:<28} {role}")

    def _recompute(self, verbose: bool, as_of: datetime | None) -> None:
        """Compute the metrics in-process, so the demo opens with scores, stages and credits."""
        started = perf_counter()
        # Recorded as a run, so the dashboards say what time the figures are as of.
        run_id = Job.objects.create(kind=RunKind.FULL).pk
        result = execute_run(
            run_id, lambda run: recompute_all(run=run, now=as_of, queue_tasks=False)
        )
        if verbose:
            self.stdout.write(
                f"computed metrics: {result['stage_changes']:,} journey stages, "
                f"{result['credit_rows']:,} attribution rows in {perf_counter() - started:.1f} s"
            )
