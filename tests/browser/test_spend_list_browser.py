"""The spend list on a phone: totals, rows and the CSV link fit 390 px without page overflow."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from metrics.models import BudgetLine
from tests.factories import AccountFactory, ActivityFactory, StepFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_spend_list_fits_a_narrow_screen(page, live_server, login, diana, console_errors):
    month = timezone.now().date().replace(day=1)
    step = StepFactory(channel="email", owner_role="marketing")
    account = AccountFactory(name="Northwind Traders International Holdings", tier=1)
    ActivityFactory(
        account=account,
        channel="email",
        step=step,
        cost=Decimal("120.50"),
        occurred_at=dt.datetime.combine(month, dt.time(9), tzinfo=dt.UTC),
    )
    BudgetLine.objects.create(
        playbook=step.stage.playbook, date=month, amount=Decimal("900"), description="Agency fee"
    )
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_server, "diana")

    page.goto(f"{live_server.url}/metrics/spend/?preset=last_3_months")

    totals = page.get_by_test_id("totals")
    assert "2 costs" in " ".join(totals.inner_text().split())
    assert "$1,020.50" in totals.inner_text()
    assert page.get_by_test_id("spend-table").get_by_text("Agency fee").is_visible()
    assert page.get_by_test_id("export-csv").is_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    assert not console_errors
