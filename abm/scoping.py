"""The scoping function of a model, looked up by the model.

Each model has one scoping function (``<things>_visible_to(user)`` in its app's visibility.py).
A lower layer that must scope a higher layer's rows (the playbook form's choice of goals, a list
filter's chip naming a playbook, the API's uniqueness check judging whether a clash may be named)
reaches them through a relation or a model and asks here; the owning app registers its function in
its AppConfig.ready(), so no import points upward.
"""

from collections.abc import Callable

from django.db.models import Model, QuerySet

_SCOPES: dict[str, Callable] = {}


def register_scope(model: type[Model], scope: Callable) -> None:
    _SCOPES[model._meta.label_lower] = scope


def scope_of(model: type[Model]) -> Callable | None:
    """The model's registered scoping function; None for a model with none registered."""
    return _SCOPES.get(model._meta.label_lower)


def visible_to(model: type[Model], user) -> QuerySet:
    """The rows of ``model`` that ``user`` may see, by the owning app's scoping function."""
    return _SCOPES[model._meta.label_lower](user)
