"""Demo users, the ICP, accounts and their contacts."""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.contrib.auth.hashers import make_password

from abm.models import User
from accounts.models import (
    COMMITTEE_ROLES,
    ICP,
    Account,
    Contact,
)
from accounts.scoring import IcpCriteria, fit_scores
from demo.seeding.bulk_writing import _insert, _next_id
from demo.seeding.catalogue import (
    BUYING_ROLE_BY_SENIORITY,
    BUYING_ROLES,
    COUNTRIES,
    COUNTRY_SHARES,
    COUNTRY_TLDS,
    DAY,
    DEMO_EMAIL_DOMAIN,
    DEMO_PASSWORD,
    DEMO_USERS,
    FIRST_NAMES,
    INDUSTRIES,
    INDUSTRY_SHARES,
    INDUSTRY_WORDS,
    LAST_NAMES,
    NAME_PREFIXES,
    NAME_ROOTS,
    REVENUE_PER_EMPLOYEE,
    SENIORITIES,
    SENIORITY_BY_POSITION,
    TITLES,
)
from demo.seeding.columns import _Accounts, _Clock

# --- users, ICP, playbooks (a handful of rows: the ORM) ---------------------------------------


def _demo_users() -> tuple[dict[str, User], set[str]]:
    """The demo users by username, and which of them were created now (others are kept as is)."""
    password_hash = None
    users, created = {}, set()
    for username, role, first, last, flags in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            password_hash = password_hash or make_password(DEMO_PASSWORD)
            user = User.objects.create(
                username=username,
                password=password_hash,
                role=role,
                first_name=first,
                last_name=last,
                email=f"{username}@{DEMO_EMAIL_DOMAIN}",
                **flags,
            )
            created.add(username)
        users[username] = user
    return users, created


def _active_icp(*, by: User) -> ICP:
    """The active ICP if someone set one, else the demo profile."""
    icp = ICP.objects.filter(is_active=True).first()
    if icp is not None:
        return icp
    return ICP.objects.create(
        name="Mid-market and enterprise in our core industries",
        is_active=True,
        industries=["Software", "Financial Services", "Healthcare"],
        industries_weight=3,
        employees_min=200,
        employees_max=5000,
        employees_weight=2,
        revenue_min=20_000_000,
        revenue_max=1_000_000_000,
        revenue_weight=2,
        countries=["United States", "United Kingdom", "Germany"],
        countries_weight=1,
        updated_by=by,
    )


# --- accounts and contacts ---------------------------------------------------------------------


def _accounts(
    *, rng: np.random.Generator, size: int, criteria: IcpCriteria, reps: np.ndarray, clock: _Clock
) -> _Accounts:
    industry = rng.choice(len(INDUSTRIES), size=size, p=INDUSTRY_SHARES)
    country = rng.choice(len(COUNTRIES), size=size, p=COUNTRY_SHARES)
    employees = np.clip(np.round(rng.lognormal(np.log(700), 1.3, size)), 5, 250_000)
    employees = employees.astype(np.int64)
    per_employee = np.asarray(REVENUE_PER_EMPLOYEE)[industry] * rng.lognormal(0, 0.45, size)
    revenue = np.maximum(np.round(employees * per_employee, -3), 100_000.0)

    names, stems = _company_names(rng=rng, industry=industry)
    local_tld = rng.random(size) < 0.7
    domains = [
        f"{stem}{COUNTRY_TLDS[c] if local else '.com'}"
        for stem, c, local in zip(stems, country.tolist(), local_tld.tolist(), strict=True)
    ]
    domains = _deduplicate(domains)

    frame = pd.DataFrame(
        {
            "industry": np.asarray(INDUSTRIES, dtype=object)[industry],
            "employees": employees,
            "annual_revenue": revenue,
            "country": np.asarray(COUNTRIES, dtype=object)[country],
        }
    )
    fit = fit_scores(frame, criteria)
    # Two decimals, as the ICP re-score job (accounts/rescoring.py) writes them.
    fit_score = np.round(fit["fit_score"].to_numpy(), 2)

    # Targets are mostly the best-fitting accounts, with judgement (noise) on top.
    order = np.argsort(-(fit_score + rng.normal(0, 12, size)), kind="stable")
    group = np.zeros(size, dtype=np.int64)
    bounds = np.round(np.cumsum([0.05, 0.15, 0.30]) * size).astype(int)
    group[order[: bounds[0]]] = 1
    group[order[bounds[0] : bounds[1]]] = 2
    group[order[bounds[1] : bounds[2]]] = 3

    owned = (group > 0) | (rng.random(size) < 0.6)
    owner = np.where(owned, rng.choice(reps, size=size), -1)
    # Interest drives how much an account answers; better-fitting accounts care a little more.
    interest = rng.lognormal(-0.28, 0.75, size) * (0.6 + 0.8 * fit_score / 100)
    burst_day = rng.integers(clock.first_day, clock.last_day + 1, size)

    ids = _next_id(Account) + np.arange(size, dtype=np.int64)
    _insert(
        model=Account,
        columns={
            "id": ids,
            "name": names,
            "domain": domains,
            "industry": frame["industry"].to_numpy(),
            "employees": employees,
            "annual_revenue": revenue,
            "country": frame["country"].to_numpy(),
            "tier": np.where(group > 0, group, -1),
            "owner": owner,
            "stage": "",
            "fit_score": fit_score,
            "fit_breakdown": fit["fit_breakdown"].tolist(),
            "engagement_score": 0.0,
            "spike": False,
            "external_id": [f"ACC-{i + 1:06d}" for i in range(size)],
            # In the book since the year began: the history below is theirs, so "created today"
            # would put a target's creation after its own journey.
            "created_at": clock.first_day * DAY,
            "updated_at": clock.now_s,
        },
    )
    return _Accounts(
        ids=ids,
        names=names,
        domains=domains,
        group=group,
        interest=interest,
        burst_day=burst_day,
        employees=employees,
    )


def _company_names(*, rng: np.random.Generator, industry: np.ndarray) -> tuple[list[str], list]:
    """Unique names such as "Northwind Labs"; the industry picks the last word."""
    size = len(industry)
    word = rng.integers(0, len(INDUSTRY_WORDS[0]), size)
    prefix = rng.integers(0, len(NAME_PREFIXES), size)
    root = rng.integers(0, len(NAME_ROOTS), size)
    for _ in range(50):
        code = pd.Series(((industry * 10 + word) * 100 + prefix) * 100 + root)
        clash = code.duplicated().to_numpy()
        if not clash.any():
            break
        prefix[clash] = rng.integers(0, len(NAME_PREFIXES), clash.sum())
        root[clash] = rng.integers(0, len(NAME_ROOTS), clash.sum())
    names, stems = [], []
    for i, w, p, r in zip(
        industry.tolist(), word.tolist(), prefix.tolist(), root.tolist(), strict=True
    ):
        head = NAME_PREFIXES[p] + NAME_ROOTS[r]
        names.append(f"{head} {INDUSTRY_WORDS[i][w]}")
        stems.append(f"{head}{INDUSTRY_WORDS[i][w]}".lower())
    return _deduplicate(names, sep=" "), stems


def _deduplicate(values: list[str], *, sep: str = "") -> list[str]:
    """Number repeats ("x", "x2", ...) so a list that is mostly unique becomes unique."""
    seen: dict[str, int] = {}
    result = []
    for value in values:
        count = seen.get(value, 0) + 1
        seen[value] = count
        if count == 1:
            result.append(value)
        elif "." in value and not sep:
            stem, dot, tld = value.partition(".")
            result.append(f"{stem}{count}{dot}{tld}")
        else:
            result.append(f"{value}{sep}{count}")
    return result


def _contacts(*, rng: np.random.Generator, acc: _Accounts, clock: _Clock) -> int:
    low = np.array([3, 6, 5, 4])[acc.group]
    count = rng.integers(low, 9)
    size = int(count.sum())
    first_id = _next_id(Contact)
    starts = np.concatenate([[0], np.cumsum(count)[:-1]])
    acc.contact_first = first_id + starts
    acc.contact_count = count
    account = np.repeat(np.arange(len(acc.ids)), count)
    position = np.arange(size) - np.repeat(starts, count)

    seniority = np.empty(size, dtype=np.int64)
    role = np.empty(size, dtype=np.int64)
    for pos, shares in enumerate(SENIORITY_BY_POSITION):
        mask = position == pos if pos < 3 else position >= pos
        seniority[mask] = rng.choice(len(SENIORITIES), size=mask.sum(), p=shares)
        if pos < 3:
            role[mask] = BUYING_ROLES.index(COMMITTEE_ROLES[pos])
    for level, shares in enumerate(BUYING_ROLE_BY_SENIORITY):
        mask = (position >= 3) & (seniority == level)
        role[mask] = rng.choice(len(BUYING_ROLES), size=mask.sum(), p=shares)
    title_pick = rng.integers(0, 7, size)
    first = rng.integers(0, len(FIRST_NAMES), size)
    last = rng.integers(0, len(LAST_NAMES), size)

    domain = [acc.domains[a] for a in account.tolist()]
    firsts = [FIRST_NAMES[i] for i in first.tolist()]
    lasts = [LAST_NAMES[i] for i in last.tolist()]
    local = pd.Series([f"{f}.{s}".lower() for f, s in zip(firsts, lasts, strict=True)])
    repeat = local.groupby([account, local]).cumcount().to_numpy()  # a namesake in the account
    emails = [
        f"{name}{n + 1 if n else ''}@{d}"
        for name, n, d in zip(local.tolist(), repeat.tolist(), domain, strict=True)
    ]
    titles = [
        TITLES[SENIORITIES[s]][t]
        for s, t in zip(seniority.tolist(), title_pick.tolist(), strict=True)
    ]
    acc.contact_seniority = seniority
    _insert(
        model=Contact,
        columns={
            "id": first_id + np.arange(size, dtype=np.int64),
            "account": acc.ids[account],
            "first_name": firsts,
            "last_name": lasts,
            "email": emails,
            "title": titles,
            "seniority": np.asarray(SENIORITIES, dtype=object)[seniority],
            "buying_role": np.asarray(BUYING_ROLES, dtype=object)[role],
            "created_at": clock.first_day * DAY,
        },
    )
    return size
