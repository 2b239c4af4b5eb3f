from django.db.models import Q


def one_of(field: str, choices) -> Q:
    """A check-constraint condition keeping `field` inside an enum's values."""
    return Q(**{f"{field}__in": list(choices.values)})
