import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from abm.supervisor import Supervisor, stack_commands


class Command(BaseCommand):
    help = (
        "Run the web server, a Celery worker and beat until Ctrl-C (the last step of make run). "
        "Without REDIS_URL the broker is the filesystem one under var/broker/."
    )

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument(
            "--noreload", action="store_true", help="Do not restart the web server on code changes."
        )
        parser.add_argument(
            "--stop-timeout",
            type=float,
            default=20.0,
            help="Seconds the worker may take to finish its task on stop before it is killed.",
        )

    def handle(self, *args, addrport, noreload, stop_timeout, **options):
        children = stack_commands(addrport, base_dir=settings.BASE_DIR, reload=not noreload)
        supervisor = Supervisor(children, cwd=settings.BASE_DIR, stop_timeout=stop_timeout)
        sys.exit(supervisor.run())
