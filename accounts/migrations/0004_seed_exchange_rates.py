"""A few currencies' rates (USD per unit, near each date's market rate) so imports in EUR, GBP,
SEK... convert out of the box; admins edit them or add rates under Exchange rates."""

import datetime as dt
from decimal import Decimal

from django.db import migrations

DATES = (
    dt.date(2020, 1, 2),
    dt.date(2021, 1, 4),
    dt.date(2022, 1, 3),
    dt.date(2023, 1, 3),
    dt.date(2024, 1, 2),
    dt.date(2025, 1, 2),
    dt.date(2025, 7, 1),
)
RATES = {
    "EUR": ("1.1210", "1.2250", "1.1370", "1.0550", "1.0940", "1.0350", "1.1790"),
    "GBP": ("1.3150", "1.3670", "1.3530", "1.2060", "1.2620", "1.2380", "1.3730"),
    "SEK": ("0.1070", "0.1220", "0.1100", "0.0955", "0.0990", "0.0905", "0.1050"),
    "CAD": ("0.7710", "0.7830", "0.7870", "0.7350", "0.7520", "0.6950", "0.7340"),
    "AUD": ("0.7000", "0.7690", "0.7230", "0.6800", "0.6810", "0.6200", "0.6570"),
    "JPY": ("0.009220", "0.009690", "0.008630", "0.007640", "0.007080", "0.006370", "0.006940"),
    "CHF": ("1.0320", "1.1300", "1.0950", "1.0720", "1.1880", "1.1020", "1.2560"),
}


def seed(apps, schema_editor):
    ExchangeRate = apps.get_model("accounts", "ExchangeRate")
    ExchangeRate.objects.bulk_create(
        [
            ExchangeRate(currency=currency, date=day, usd_per_unit=Decimal(rate))
            for currency, rates in RATES.items()
            for day, rate in zip(DATES, rates, strict=True)
        ],
        ignore_conflicts=True,
    )


def unseed(apps, schema_editor):
    ExchangeRate = apps.get_model("accounts", "ExchangeRate")
    ExchangeRate.objects.filter(currency__in=RATES, date__in=DATES).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_money_in_other_currencies")]

    operations = [migrations.RunPython(seed, unseed)]
