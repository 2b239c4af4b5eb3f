"""On a real worker and Redis: a finished run (sharded, whose finish forgets the change feed
after the run is marked done) leaves the director's default figures built for the first look."""

import time

import pytest
from django.db import connection, transaction
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from abm.models import Change, RunStatus
from dashboards.figure_cache import kept_figures
from dashboards.filters import parse_filters
from demo.seeding import seed_demo
from metrics.engine.runner import recompute_enqueue
from tests.dashboards.test_figure_cache import kpis, rollup_reads


def _wait_for(predicate, seconds: float = 90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not so after {seconds}s")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_builds_the_default_figures_after_a_sharded_run(celery_worker, diana, client):
    seed_demo(accounts=24, seed=5)
    Change.objects.create(reason="an edit the run reads and then forgets")
    filters = parse_filters(QueryDict(), user=diana)
    assert kept_figures(diana, filters) is None

    with transaction.atomic():
        run = recompute_enqueue(shards=2, slots=4)

    def done():
        run.refresh_from_db()
        return run.status in (RunStatus.DONE, RunStatus.FAILED)

    _wait_for(done)
    assert run.status == RunStatus.DONE, run.error
    kept = _wait_for(lambda: kept_figures(diana, filters))

    client.force_login(diana)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("dashboards:director")).content.decode()
    assert rollup_reads(queries) == []
    assert set(kpis(page)) == {tile["key"] for tile in kept["tiles"]}
    assert not Change.objects.exists()  # the finish forgot the feed after the run was done
