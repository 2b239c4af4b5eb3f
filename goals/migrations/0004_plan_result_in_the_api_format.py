"""Saved plans keep the plan as the API shows it: steps named ``targeted_engaged`` (not
``targeted->engaged``) and each month's counts beside its date (not under ``counts``)."""

from django.db import migrations


def _steps(figures):
    return {str(key).replace("->", "_"): value for key, value in (figures or {}).items()}


def _assumptions(assumptions):
    if not assumptions:
        return assumptions
    return {
        **assumptions,
        "conversion": _steps(assumptions.get("conversion")),
        "lag_days": _steps(assumptions.get("lag_days")),
    }


def to_api_format(apps, schema_editor):
    Plan = apps.get_model("goals", "Plan")
    for plan in Plan.objects.all():
        result = dict(plan.result or {})
        result["by_month"] = [
            {"month": row["month"], **(row.get("counts") or {})} if "counts" in row else row
            for row in result.get("by_month") or []
        ]
        result["assumptions"] = _assumptions(result.get("assumptions"))
        plan.result = result
        plan.assumptions = _assumptions(plan.assumptions)
        plan.save(update_fields=["result", "assumptions"])


class Migration(migrations.Migration):
    dependencies = [("goals", "0003_plan")]

    operations = [migrations.RunPython(to_api_format, migrations.RunPython.noop)]
