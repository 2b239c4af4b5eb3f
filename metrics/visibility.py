"""Who may see spend and stored metric results."""

from django.db.models import QuerySet

from accounts.visibility import account_children_visible_to
from metrics.models import (
    AttributionCredit,
    BudgetLine,
    EngagementHistory,
    EngagementScore,
    JourneyStageChange,
    MarkovCredit,
    MetricRollup,
)


def budget_lines_visible_to(user) -> QuerySet[BudgetLine]:
    if not user.is_authenticated or not user.sees_everything:
        return BudgetLine.objects.none()
    return BudgetLine.objects.all()


def engagement_scores_visible_to(user) -> QuerySet[EngagementScore]:
    return account_children_visible_to(EngagementScore.objects.all(), user)


def engagement_history_visible_to(user) -> QuerySet[EngagementHistory]:
    return account_children_visible_to(EngagementHistory.objects.all(), user)


def journey_stage_changes_visible_to(user) -> QuerySet[JourneyStageChange]:
    return account_children_visible_to(JourneyStageChange.objects.all(), user)


def attribution_credits_visible_to(user) -> QuerySet[AttributionCredit]:
    return account_children_visible_to(AttributionCredit.objects.all(), user)


def markov_credits_visible_to(user) -> QuerySet[MarkovCredit]:
    return account_children_visible_to(MarkovCredit.objects.all(), user)


def rollups_visible_to(user) -> QuerySet[MetricRollup]:
    # A rep's dashboards read only the rows of their own accounts (with their accounts' share of
    # budget lines); rows tied to no account (budget on no account, lift and holdout snapshots)
    # are for the roles that see every account.
    if not user.is_authenticated:
        return MetricRollup.objects.none()
    if user.sees_everything:
        return MetricRollup.objects.all()
    return MetricRollup.objects.filter(owner=user)
