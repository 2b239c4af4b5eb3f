"""Marketers, reps and directors using pages and the API while an integration ingests activities.

Run by benchmarks/load/run.sh against gunicorn + PostgreSQL seeded with 10 000 accounts. Every
user signs in with the demo password; the ingestion user sends batches with an API token.
"""

import os
import random
import re
import uuid
from datetime import UTC, datetime

from locust import HttpUser, between, task

PASSWORD = os.environ.get("LOAD_PASSWORD", "demo1234")
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class _SignedIn(HttpUser):
    abstract = True
    # A person reads a page before the next click: 3-8 s (LOAD_WAIT_MIN / LOAD_WAIT_MAX).
    wait_time = between(
        float(os.environ.get("LOAD_WAIT_MIN", 3)), float(os.environ.get("LOAD_WAIT_MAX", 8))
    )
    username = ""

    def on_start(self):
        page = self.client.get("/login/", name="/login/")
        token = CSRF.search(page.text).group(1)
        self.client.post(
            "/login/",
            {"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
            name="/login/ (post)",
        )
        self.account_ids = [
            row["id"]
            for row in self.client.get("/api/accounts/?page_size=50", name="/api/accounts/")
            .json()
            .get("results", [])
        ]

    def _account(self):
        return random.choice(self.account_ids) if self.account_ids else None


class Marketer(_SignedIn):
    weight = 3
    username = "marketer"

    @task(3)
    def accounts(self):
        self.client.get("/accounts/?tier=1&sort=-fit", name="/accounts/?filters")

    @task(2)
    def marketer_dashboard(self):
        self.client.get("/metrics/marketer/", name="/metrics/marketer/")

    @task(1)
    def playbooks(self):
        self.client.get("/playbooks/", name="/playbooks/")

    @task(2)
    def api_opportunities(self):
        self.client.get("/api/opportunities/?open=true", name="/api/opportunities/")


class Rep(_SignedIn):
    weight = 5

    def on_start(self):
        self.username = random.choice(["rep1", "rep2", "rep3", "rep4"])
        super().on_start()

    @task(3)
    def sales_dashboard(self):
        self.client.get("/metrics/sales/", name="/metrics/sales/")

    @task(3)
    def account_page(self):
        if (pk := self._account()) is not None:
            self.client.get(f"/accounts/{pk}/", name="/accounts/<id>/")

    @task(2)
    def my_accounts(self):
        self.client.get("/accounts/", name="/accounts/")

    @task(1)
    def task_list(self):
        self.client.get("/playbooks/tasks/", name="/playbooks/tasks/")

    @task(1)
    def api_account(self):
        if (pk := self._account()) is not None:
            self.client.get(f"/api/accounts/{pk}/", name="/api/accounts/<id>/")


class Director(_SignedIn):
    weight = 2
    username = "director"

    @task(3)
    def roi(self):
        model = random.choice(["w_shaped", "linear", "markov", "first_touch"])
        self.client.get(f"/metrics/director/?model={model}", name="/metrics/director/")

    @task(1)
    def drill_down(self):
        self.client.get(
            "/accounts/opportunities/?tier=1&stage=won", name="/accounts/opportunities/?filters"
        )

    @task(1)
    def goals(self):
        self.client.get("/metrics/goals/", name="/metrics/goals/")


class Ingestion(HttpUser):
    """An integration posting batches of 100 web visits to the API with a token."""

    weight = 1
    wait_time = between(2.0, 4.0)

    def on_start(self):
        self.client.headers["Authorization"] = f"Bearer {os.environ['LOAD_API_TOKEN']}"
        self.domains = os.environ.get("LOAD_DOMAINS", "").split(",")

    @task
    def batch(self):
        now = datetime.now(UTC).isoformat()
        items = [
            {
                "external_id": f"load-{uuid.uuid4().hex}",
                "account": random.choice(self.domains),
                "channel": "content",
                "kind": "web_visit",
                "occurred_at": now,
            }
            for _ in range(100)
        ]
        self.client.post(
            "/api/activities/batch/", json={"activities": items}, name="/api/activities/batch/"
        )
