"""`manage.py import_csv KIND FILE [--mapping HEADER=FIELD ...]`: the import service, from a shell."""

import argparse

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from abm.models import User
from ingestion.import_jobs import import_file, import_job_rejects_file
from ingestion.importing import FIELDS, ImportRefused
from ingestion.models import ImportKind

_SHOWN_REJECTS = 10


def _mapping_item(value: str) -> tuple[str, str]:
    header, separator, field = value.rpartition("=")
    if not separator or not header:
        raise argparse.ArgumentTypeError(f"expected HEADER=FIELD, got {value!r}")
    return header, field.strip()


class Command(BaseCommand):
    help = (
        "Import a CSV of accounts, contacts, opportunities, leads or activities: rows are "
        "matched by natural key (a re-import changes nothing), bad rows are rejected with their "
        "line and reason into a rejects CSV, good rows are kept. Exits non-zero only when the "
        "file as a whole is refused."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=ImportKind.values)
        parser.add_argument("file")
        parser.add_argument(
            "--mapping",
            nargs="+",
            action="extend",
            default=[],
            type=_mapping_item,
            metavar="HEADER=FIELD",
            help=(
                "map a column to a field on top of the suggested mapping; HEADER=- ignores the "
                "column (put --mapping after FILE, or repeat --mapping for each pair)"
            ),
        )
        parser.add_argument(
            "--by",
            metavar="USERNAME",
            help="the marketer or admin importing (default: the first active superuser)",
        )

    def handle(self, *args, **options) -> None:
        kind = options["kind"]
        by = self._user(options["by"])
        mapping = dict(options["mapping"])
        unknown = [field for field in mapping.values() if field not in ("", "-", *FIELDS[kind])]
        if unknown:
            raise CommandError(
                f"unknown field {unknown[0]!r} for {kind} (fields: {', '.join(FIELDS[kind])})"
            )
        try:
            job = import_file(kind=kind, path=options["file"], by=by, mapping=mapping)
        except FileNotFoundError:
            raise CommandError(f"no such file: {options['file']}") from None
        except ImportRefused as exc:
            raise CommandError(f"refused: {exc}") from exc
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc

        self.stdout.write(
            f"{kind} import #{job.pk} of {job.original_name} "
            f"({job.encoding}, delimiter {job.delimiter!r}): "
            f"{job.created} created, {job.updated} updated, {job.unchanged} unchanged, "
            f"{job.rejected} rejected"
        )
        for reject in job.rejects[:_SHOWN_REJECTS]:
            self.stdout.write(f"  line {reject['line']}: {reject['reason']}")
        if job.rejected > _SHOWN_REJECTS:
            self.stdout.write(f"  ... and {job.rejected - _SHOWN_REJECTS} more")
        rejects_file = import_job_rejects_file(job)
        if rejects_file:
            self.stdout.write(f"rejected rows: {rejects_file}")

    def _user(self, username: str | None) -> User:
        if username:
            try:
                return User.objects.get(username=username)
            except User.DoesNotExist:
                raise CommandError(f"no user {username!r}") from None
        user = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if user is None:
            raise CommandError("no active superuser: pass --by USERNAME (a marketer or admin)")
        return user
