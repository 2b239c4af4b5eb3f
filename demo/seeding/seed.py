"""`seed_demo`: one transaction that builds a year of demo data, phase by phase."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime

import numpy as np
from django.apps import apps
from django.db import connection, transaction

from abm.lib.db_stats import analyze, vacuum
from abm.models import Change, Job, Role
from accounts.models import (
    Account,
)
from accounts.scoring import IcpCriteria
from demo.seeding.activities import _activities, _write_activities
from demo.seeding.bulk_writing import _bulk_load_settings, _indexes_rebuilt, _reset_sequences
from demo.seeding.catalogue import DEMO_PASSWORD, DEMO_USERS, DOMAIN_APPS
from demo.seeding.columns import SeedRefused, SeedResult, _Clock, _Touches
from demo.seeding.deals import _leads, _opportunities
from demo.seeding.people import _accounts, _active_icp, _contacts, _demo_users
from demo.seeding.playbooks_simulation import _enrolment_plan, _playbooks
from demo.seeding.spend import _budget_lines
from demo.seeding.weekly_run import run_year
from playbooks.models import (
    Activity,
)
from playbooks.starters import ensure_starter_playbooks


def seed_demo(
    *,
    accounts: int = 300,
    seed: int = 42,
    today: date | None = None,
    flush: bool = False,
    if_empty: bool = False,
    progress: Callable[[str], None] = lambda message: None,
) -> SeedResult:
    """Create the demo users and a year of ABM data for `accounts` accounts, all in one transaction.

    Refuses (SeedRefused) when accounts exist, unless `flush` (delete all domain data, keep users)
    or `if_empty` (then do nothing).
    """
    if accounts < 1:
        raise ValueError("--accounts must be at least 1")
    started = time.perf_counter()
    clock = _Clock.for_today(today or datetime.now(UTC).date())
    rng = np.random.default_rng(seed)

    def phase(name: str, count: int | None = None) -> None:
        amount = "" if count is None else f"{count:>12,}"
        progress(f"  {name:<28}{amount:>12}  {time.perf_counter() - started:7.1f} s")

    with _bulk_load_settings(), transaction.atomic():
        exists = Account.objects.exists()
        if exists and if_empty:
            return SeedResult(skipped=True)
        if exists and not flush:
            raise SeedRefused(
                "Accounts already exist; use --flush to replace the domain data "
                "(users are kept) or --if-empty to skip quietly."
            )
        progress(f"seeding {accounts:,} accounts, seed {seed}, up to {clock.now:%Y-%m-%d} ...")
        if exists:
            flush_domain_data()
            phase("flushed domain data")

        users, created = _demo_users()
        reps = np.array([users[name].pk for name, role, *_ in DEMO_USERS if role == Role.SALES])
        marketer = users["marketer"]
        phase("users", len(users))

        criteria = IcpCriteria.from_icp(_active_icp(by=users["director"]))
        acc = _accounts(rng=rng, size=accounts, criteria=criteria, reps=reps, clock=clock)
        phase("accounts", len(acc.ids))
        contacts = _contacts(rng=rng, acc=acc, clock=clock)
        phase("contacts", contacts)

        programmes = _playbooks(marketer=marketer, accounts=accounts)
        enrol, waves = _enrolment_plan(rng=rng, acc=acc, programmes=programmes, clock=clock)
        phase("playbooks and enrolment plan", len(enrol.account))

        touches = _activities(rng=rng, acc=acc, enrol=enrol, programmes=programmes, clock=clock)
        phase("activities generated", len(touches))
        opps = _opportunities(rng=rng, acc=acc, touches=touches, clock=clock)
        phase("opportunities", len(opps.account))
        follow_ups, leads = _leads(rng=rng, acc=acc, touches=touches, opps=opps, clock=clock)
        phase("leads", leads)
        everything = _Touches.concat([touches, follow_ups])
        activities = _write_activities(touches=everything, acc=acc, clock=clock)
        phase("activities written", activities)
        # The weekly run writes through the ORM: sequences must be past the ids written so far.
        _reset_sequences()
        answers, tasks = run_year(
            rng=rng,
            acc=acc,
            touches=everything,
            opps=opps,
            waves=waves,
            marketer=marketer,
            clock=clock,
            progress=progress,
        )
        phase("tasks", tasks)
        activities += _write_activities(touches=answers, acc=acc, clock=clock, prefix="demo-answer")
        activities += Activity.objects.filter(source="task").count()
        phase("answers to tasks written", len(answers))
        lines = _budget_lines(rng=rng, programmes=programmes, clock=clock)
        phase("budget lines", lines)
        _reset_sequences()
    # After the commit: a million fresh rows the planner has not counted yet, and not yet marked
    # visible to the index-only scans the engine reads activities with.
    analyze()
    vacuum(Activity, statistics=False)

    return SeedResult(
        accounts=len(acc.ids),
        contacts=contacts,
        enrolments=len(enrol.account),
        activities=activities,
        opportunities=len(opps.account),
        leads=leads,
        seconds=time.perf_counter() - started,
        logins=tuple(
            (
                name,
                DEMO_PASSWORD if name in created else f"{DEMO_PASSWORD} unless changed",
                users[name].role,
            )
            for name, *_ in DEMO_USERS
        ),
    )


def flush_domain_data() -> None:
    """Delete every row of the domain apps (every app above abm) and every job; users stay.

    That is everything those apps hold, not only what seed_demo wrote: ICPs, goals, import jobs
    and metric runs go too.
    """
    domain = [Job, Change]  # abm's records of work; users, tokens and the audit log stay
    for config in apps.get_app_configs():
        if config.label in DOMAIN_APPS:
            domain += [m for m in config.get_models() if m._meta.managed]  # not views
    # Django declares foreign keys DEFERRABLE INITIALLY DEFERRED (SQLite and PostgreSQL), so the
    # order does not matter inside the transaction (Playbook.goal and Goal.scope_playbook form a
    # cycle anyway); models later in an app mostly point at earlier ones, hence reversed.
    tables = [connection.ops.quote_name(m._meta.db_table) for m in reversed(domain)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Pending deferred checks (earlier writes in an enclosing transaction) block TRUNCATE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {', '.join(tables)}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            # Row by row (foreign keys rule out SQLite's truncate), so the big table goes first
            # and without its indexes.
            with _indexes_rebuilt(Activity):
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(Activity._meta.db_table)}")
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")
    # The starter playbooks are product content, not demo data: put them back.
    ensure_starter_playbooks()
