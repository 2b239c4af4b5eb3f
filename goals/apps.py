from django.apps import AppConfig

from abm.scoping import register_scope
from metrics.signals import metrics_recomputed


class GoalsConfig(AppConfig):
    name = "goals"
    verbose_name = "Goals"

    def ready(self) -> None:
        # Models load after ready() starts, so Django's way is to import them here.
        from goals import receivers
        from goals.models import Goal
        from goals.visibility import goals_visible_to

        # Lower layers (the playbook form's choice of goals) scope goals through the registry.
        register_scope(Goal, goals_visible_to)
        metrics_recomputed.connect(receivers.measure_goals, dispatch_uid="goals.measure_goals")
