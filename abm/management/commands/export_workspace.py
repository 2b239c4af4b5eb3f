from pathlib import Path
from time import perf_counter

from django.core.management.base import BaseCommand

from abm.workspace_export import workspace_export


class Command(BaseCommand):
    help = "Export every table of the workspace to CSV files (one per model) in a directory."

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="Where to write the CSV files.")

    def handle(self, *args, directory: Path, **options):
        started = perf_counter()
        written = workspace_export(directory=directory, progress=self.stdout.write)
        self.stdout.write(
            f"exported {sum(written.values()):,} rows in {len(written)} files to {directory} "
            f"in {perf_counter() - started:.1f} s"
        )
