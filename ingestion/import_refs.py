"""Who and what an import row refers to: its owner, its account, its contact.

Each resolver prefetches a batch's keys in a few chunked queries, caches them for the import, and
raises RowRejected with the reason in the file's own header words (`label`, field -> header).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import connection
from django.db.models import QuerySet
from django.db.models.functions import Lower

from abm.models import Role, User
from accounts.models import Account, Contact
from ingestion.importing import ACCOUNT_REFS, Row

_IN_CHUNK = 5_000


def _same(name: str) -> str:
    return name


class RowRejected(Exception):
    pass


def in_chunks(queryset: QuerySet, lookup: str, values: Iterable) -> list:
    """Rows whose `lookup` is one of `values`, in as few queries as the database allows."""
    values = list(values)
    # SQLite counts bound parameters (Django assumes 999); PostgreSQL takes a batch at once.
    limit = connection.features.max_query_params
    chunk = _IN_CHUNK if limit is None else min(_IN_CHUNK, limit - 10)
    found = []
    for start in range(0, len(values), chunk):
        found.extend(queryset.filter(**{f"{lookup}__in": values[start : start + chunk]}))
    return found


def _shown(value) -> str:
    return f"'{value}'"


class Owners:
    """Owners by username, email or full name, case-insensitively; only sales reps own accounts."""

    def __init__(self, label: Callable[[str], str] = _same) -> None:
        self._by_key: dict[str, list[dict]] | None = None
        self.label = label

    def _load(self) -> dict[str, list[dict]]:
        by_key: dict[str, list[dict]] = {}
        users = User.objects.values("id", "username", "email", "first_name", "last_name", "role")
        for user in users.filter(is_active=True):
            keys = {user["username"].lower(), (user["email"] or "").lower()}
            full_name = f"{user['first_name']} {user['last_name']}".strip().lower()
            keys.add(full_name)
            for key in keys - {""}:
                by_key.setdefault(key, []).append(user)
        return by_key

    def resolve(self, raw: str) -> int:
        if self._by_key is None:
            self._by_key = self._load()
        matches = self._by_key.get(raw.strip().lower(), [])
        exact = [user for user in matches if user["username"].lower() == raw.strip().lower()]
        matches = exact or matches
        if not matches:
            raise RowRejected(f"unknown {self.label('owner')} {_shown(raw)}")
        if len(matches) > 1:
            raise RowRejected(
                f"{self.label('owner')} {_shown(raw)} matches {len(matches)} users; use a username"
            )
        user = matches[0]
        if user["role"] != Role.SALES:
            role = Role(user["role"]).label.lower()
            article = "an" if role[0] in "aeiou" else "a"
            raise RowRejected(
                f"{self.label('owner')} {_shown(raw)} is {article} {role}, not a sales rep"
            )
        return user["id"]


class AccountRefs:
    """The account a contact, opportunity, lead or activity row belongs to, cached per import."""

    def __init__(self, label: Callable[[str], str] = _same) -> None:
        self.by_external_id: dict[str, int | None] = {}
        self.by_domain: dict[str, int | None] = {}
        self.by_name: dict[str, list[int]] = {}
        self.label = label

    def prefetch(self, rows: list[Row]) -> None:
        wanted = {name: set() for name in ACCOUNT_REFS}
        for row in rows:
            for name in ACCOUNT_REFS:
                if name in row.values:
                    wanted[name].add(row.values[name])
        external_ids = wanted["account_external_id"] - self.by_external_id.keys()
        for pk, key in in_chunks(
            Account.objects.values_list("pk", "external_id"), "external_id", external_ids
        ):
            self.by_external_id[key] = pk
        self.by_external_id.update(dict.fromkeys(external_ids - self.by_external_id.keys()))
        domains = wanted["account_domain"] - self.by_domain.keys()
        for pk, key in in_chunks(Account.objects.values_list("pk", "domain"), "domain", domains):
            self.by_domain[key] = pk
        self.by_domain.update(dict.fromkeys(domains - self.by_domain.keys()))
        names = {name.lower() for name in wanted["account_name"]} - self.by_name.keys()
        for pk, key in in_chunks(
            Account.objects.annotate(lowered=Lower("name")).values_list("pk", "lowered"),
            "lowered",
            names,
        ):
            self.by_name.setdefault(key, []).append(pk)
        for name in names - self.by_name.keys():
            self.by_name[name] = []

    def resolve(self, values: dict) -> int | None:
        """None when the row names no account; RowRejected when it names an unknown one."""
        given = [(name, values[name]) for name in ACCOUNT_REFS if name in values]
        if not given:
            return None
        found: dict[str, int] = {}
        for name, value in given:
            if name == "account_external_id" and self.by_external_id.get(value):
                found[name] = self.by_external_id[value]
            elif name == "account_domain" and self.by_domain.get(value):
                found[name] = self.by_domain[value]
            elif name == "account_name" and not found:
                matches = self.by_name.get(value.lower(), [])
                if len(matches) > 1:
                    raise RowRejected(
                        f"{self.label(name)} {_shown(value)} matches {len(matches)} accounts; "
                        "add an account domain or account id column"
                    )
                if matches:
                    found[name] = matches[0]
        if len(set(found.values())) > 1:
            names = " and ".join(f"{self.label(name)} {_shown(values[name])}" for name in found)
            raise RowRejected(f"{names} point to different accounts")
        if not found:
            names = ", ".join(f"{self.label(name)} {_shown(value)}" for name, value in given)
            raise RowRejected(f"unknown account ({names})")
        return next(iter(found.values()))


class ContactRefs:
    """The optional contact of a lead or activity row: by external id, or email at its account."""

    def __init__(self, label: Callable[[str], str] = _same) -> None:
        self.by_external_id: dict[str, tuple[int, int] | None] = {}
        self.by_email: dict[tuple[int, str], int | None] = {}
        self.label = label

    def prefetch(self, rows: list[Row], account_ids: dict[int, int | None]) -> None:
        external_ids = {
            row.values["contact_external_id"] for row in rows if "contact_external_id" in row.values
        } - self.by_external_id.keys()
        for pk, account_id, key in in_chunks(
            Contact.objects.values_list("pk", "account_id", "external_id"),
            "external_id",
            external_ids,
        ):
            self.by_external_id[key] = (pk, account_id)
        self.by_external_id.update(dict.fromkeys(external_ids - self.by_external_id.keys()))
        pairs = {
            (account_ids[row.line], row.values["contact_email"])
            for row in rows
            if "contact_email" in row.values and account_ids.get(row.line)
        } - self.by_email.keys()
        if pairs:
            emails = {email for _, email in pairs}
            for pk, account_id, email in in_chunks(
                Contact.objects.filter(account_id__in={a for a, _ in pairs}).values_list(
                    "pk", "account_id", "email"
                ),
                "email",
                emails,
            ):
                self.by_email[(account_id, email)] = pk
            self.by_email.update(dict.fromkeys(pairs - self.by_email.keys()))

    def resolve(self, values: dict, account_id: int | None) -> int | None:
        contact_id = None
        if "contact_external_id" in values:
            found = self.by_external_id.get(values["contact_external_id"])
            if found is None:
                raise RowRejected(
                    f"unknown contact ({self.label('contact_external_id')} "
                    f"{_shown(values['contact_external_id'])})"
                )
            contact_id, contact_account = found
            if account_id is not None and contact_account != account_id:
                raise RowRejected(
                    f"contact {_shown(values['contact_external_id'])} belongs to another account"
                )
        if "contact_email" in values:
            email = values["contact_email"]
            by_email = self.by_email.get((account_id, email)) if account_id else None
            if by_email is None:
                raise RowRejected(f"unknown contact {_shown(email)} at this account")
            if contact_id is not None and by_email != contact_id:
                raise RowRejected(
                    f"{self.label('contact_external_id')} and {self.label('contact_email')} "
                    f"{_shown(email)} are different contacts"
                )
            contact_id = by_email
        return contact_id


def resolve_accounts(refs: AccountRefs, batch: list[Row]) -> dict[int, int | None | RowRejected]:
    refs.prefetch(batch)
    resolved: dict[int, int | None | RowRejected] = {}
    for row in batch:
        try:
            resolved[row.line] = refs.resolve(row.values)
        except RowRejected as exc:
            resolved[row.line] = exc
    return resolved


def account_ids(resolved: dict) -> dict[int, int]:
    return {line: account for line, account in resolved.items() if isinstance(account, int)}


def account_of(resolved: dict, row: Row) -> int | None:
    account = resolved.get(row.line)
    if isinstance(account, RowRejected):
        raise account
    return account
