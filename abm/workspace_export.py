"""Every table of the workspace as CSV files, so nothing is locked in.

One file per model (``<app>_<model>.csv``), every concrete column by its database name, streamed
in chunks so a million activities never sit in memory. Secrets stay behind: password hashes and
token digests are not data a customer takes away.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from django.apps import apps
from django.conf import settings

from abm.lib.csv_safety import safe_cell

SECRET_COLUMNS = {("abm", "user"): {"password"}, ("abm", "apitoken"): {"digest"}}
CHUNK = 5_000


def workspace_export(*, directory: Path, progress: Callable[[str], None] = lambda _: None):
    """Write the CSV files into ``directory``; returns {file name: rows written}."""
    directory.mkdir(parents=True, exist_ok=True)
    written = {}
    for model in _models():
        meta = model._meta
        hidden = SECRET_COLUMNS.get((meta.app_label, meta.model_name), set())
        columns = [f.attname for f in meta.concrete_fields if f.name not in hidden]
        name = f"{meta.app_label}_{meta.model_name}.csv"
        rows = 0
        with (directory / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow(columns)
            queryset = model._base_manager.order_by("pk").values_list(*columns)
            for row in queryset.iterator(chunk_size=CHUNK):
                writer.writerow([safe_cell(_text(value)) for value in row])
                rows += 1
        written[name] = rows
        progress(f"  {name:<40} {rows:>12,}")
    return written


def _models():
    # Every app of this project (not Django's or a library's), whichever layer it is; views
    # (unmanaged models such as Markov's credits) too, as the figures they are.
    for config in apps.get_app_configs():
        if not Path(config.path).is_relative_to(settings.BASE_DIR):
            continue
        for model in config.get_models():
            if not model._meta.proxy:
                yield model


def _text(value):
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return value
