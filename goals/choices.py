"""What a goal measures, for whom, and how it stands: plain choices the pure goal modules share."""

from abm.lib.choices import TextChoices


class GoalTeam(TextChoices):
    MARKETING = "marketing", "Marketing"
    SALES = "sales", "Sales"
    SHARED = "shared", "Shared"


class GoalMetric(TextChoices):
    PIPELINE_CREATED = "pipeline_created", "Pipeline created"
    REVENUE_WON = "revenue_won", "Revenue won"
    OPPORTUNITIES_CREATED = "opportunities_created", "Opportunities created"
    OPPORTUNITY_ACCOUNTS = "opportunity_accounts", "Accounts reaching opportunity"
    MQA_ACCOUNTS = "mqa_accounts", "MQA accounts"
    ENGAGED_ACCOUNTS = "engaged_accounts", "Engaged accounts"
    WIN_RATE = "win_rate", "Win rate"
    AVERAGE_DEAL_SIZE = "average_deal_size", "Average deal size"
    FOLLOW_UP_RATE = "follow_up_rate", "Follow-up rate"
    MEETINGS_HELD = "meetings_held", "Meetings held"


# How a goal metric's values read: money, or a rate stored as a fraction (0.35 = 35 %).
MONEY_METRICS = frozenset(
    {GoalMetric.PIPELINE_CREATED, GoalMetric.REVENUE_WON, GoalMetric.AVERAGE_DEAL_SIZE}
)
RATE_METRICS = frozenset({GoalMetric.WIN_RATE, GoalMetric.FOLLOW_UP_RATE})


class GoalStatus(TextChoices):
    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    OFF_TRACK = "off_track", "Off track"
    ACHIEVED = "achieved", "Achieved"
    MISSED = "missed", "Missed"
