"""Who may see which accounts and their children. Every page, API, export and chart uses these."""

from django.db.models import QuerySet

from accounts.models import Account, Contact, Lead, Opportunity


def accounts_visible_to(user) -> QuerySet[Account]:
    if not user.is_authenticated:
        return Account.objects.none()
    if user.sees_everything:
        return Account.objects.all()
    return Account.objects.filter(owner=user)


def _children(queryset: QuerySet, user, account_path: str = "account") -> QuerySet:
    if not user.is_authenticated:
        return queryset.none()
    if user.sees_everything:
        return queryset
    return queryset.filter(**{f"{account_path}__owner": user})


def contacts_visible_to(user) -> QuerySet[Contact]:
    return _children(Contact.objects.all(), user)


def opportunities_visible_to(user) -> QuerySet[Opportunity]:
    return _children(Opportunity.objects.all(), user)


def leads_visible_to(user) -> QuerySet[Lead]:
    return _children(Lead.objects.all(), user)


def account_children_visible_to(queryset: QuerySet, user, account_path: str = "account"):
    """Scope any account-owned queryset (activities, tasks, credits) the way accounts are scoped."""
    return _children(queryset, user, account_path)
