from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data: a year of a plausible ABM programme, seeded through the real services.
    The top layer: it may import every app, and none imports it."""

    name = "demo"
    verbose_name = "Demo data"
