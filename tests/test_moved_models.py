"""Models moved between apps keep their rows: the migrations move only Django's state, the tables
stay (metrics.MetricRun -> abm.Job, accounts.ImportJob -> ingestion.ImportJob)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [
    ("abm", "0002_auditevent"),
    ("accounts", "0004_seed_exchange_rates"),
    ("metrics", "0005_touch_rules"),
]
AFTER = [
    ("abm", "0004_change_feed"),
    ("ingestion", "0001_initial"),
    ("accounts", "0006_import_job_moved_to_ingestion"),
    ("metrics", "0006_metric_run_moved_to_abm_job"),
]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_latest():
    yield
    # Whatever happened, the other tests need today's schema back.
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_latest")
def test_jobs_and_imports_keep_their_rows_across_the_move():
    old = migrate(BEFORE)
    run = old.get_model("metrics", "MetricRun").objects.create(
        kind="import", status="done", percent=100, result={"rows": 3}
    )
    old.get_model("accounts", "ImportJob").objects.create(
        kind="contacts",
        original_name="contacts.csv",
        path="imports/contacts.csv",
        size=120,
        encoding="utf-8",
        delimiter=",",
        run=run,
        created=3,
        uploaded_at=timezone.now(),
    )

    new = migrate(AFTER)

    job = new.get_model("abm", "Job").objects.get(pk=run.pk)
    assert (job.kind, job.status, job.result) == ("import", "done", {"rows": 3})
    upload = new.get_model("ingestion", "ImportJob").objects.get()
    assert (upload.original_name, upload.created, upload.run_id) == ("contacts.csv", 3, job.pk)
