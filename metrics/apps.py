from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = "Metrics"

    def ready(self) -> None:
        from abm.scoping import register_scope
        from metrics.models import Goal
        from metrics.visibility import goals_visible_to

        # Models load after ready() starts; the registry lets lower layers scope goals.
        register_scope(Goal, goals_visible_to)
