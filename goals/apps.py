from django.apps import AppConfig

from metrics.signals import metrics_recomputed


class GoalsConfig(AppConfig):
    name = "goals"
    verbose_name = "Goals"

    def ready(self) -> None:
        # Django's way to reach models from an AppConfig: they are loaded only once ready runs.
        from goals import receivers

        metrics_recomputed.connect(receivers.measure_goals, dispatch_uid="goals.measure_goals")
