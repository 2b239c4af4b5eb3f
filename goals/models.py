"""SMART goals and their milestones.

The tables keep the names they had in the metrics app (metrics_goal, metrics_goalmilestone): the
models moved here by a state-only migration, so the rows stayed where they were.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from abm.lib.constraints import one_of
from goals.choices import GoalMetric, GoalStatus, GoalTeam


class Goal(models.Model):
    name = models.CharField(max_length=200)
    team = models.CharField(max_length=16, choices=GoalTeam.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_goals"
    )
    metric = models.CharField(max_length=32, choices=GoalMetric.choices)
    scope_tiers = models.JSONField(default=list, blank=True)
    scope_playbook = models.ForeignKey(
        "playbooks.Playbook",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="scoped_goals",
    )
    scope_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="scoped_goals",
        help_text="Limit the goal to this rep's accounts.",
    )
    baseline = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True)
    target = models.DecimalField(max_digits=16, decimal_places=4)
    start_date = models.DateField()
    end_date = models.DateField()
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    # Written by the metrics engine on every recompute.
    current_value = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True)
    expected_value = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True)
    status = models.CharField(max_length=16, choices=GoalStatus.choices, blank=True)
    notified_status = models.CharField(max_length=16, choices=GoalStatus.choices, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "metrics_goal"
        ordering = ["team", "start_date", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_date__lt=models.F("end_date")), name="goal_starts_before_end"
            ),
            models.CheckConstraint(condition=Q(target__gte=0), name="goal_target_gte_0"),
            models.CheckConstraint(condition=one_of("team", GoalTeam), name="goal_team_valid"),
            models.CheckConstraint(
                condition=one_of("metric", GoalMetric), name="goal_metric_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="") | one_of("status", GoalStatus), name="goal_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["owner"], name="metrics_goa_owner_i_6e8efa_idx"),
            models.Index(fields=["start_date", "end_date"], name="metrics_goa_start_d_ad2a59_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class GoalMilestone(models.Model):
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="milestones")
    date = models.DateField()
    value = models.DecimalField(max_digits=16, decimal_places=4)

    class Meta:
        db_table = "metrics_goalmilestone"
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["goal", "date"], name="goal_milestone_once_per_date"),
            models.CheckConstraint(condition=Q(value__gte=0), name="goal_milestone_value_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.date}: {self.value}"


class PlanKind(models.TextChoices):
    REVENUE = "revenue", "Revenue won"
    PIPELINE = "pipeline", "Pipeline created"


class Plan(models.Model):
    """A saved reverse-funnel plan (issue #18): what was asked, the assumptions it was computed
    with and the plan as it stood on the day it was saved (the snapshot), so it reads the same
    later whatever the data do."""

    name = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="plans"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    target = models.DecimalField(max_digits=16, decimal_places=2)
    kind = models.CharField(max_length=16, choices=PlanKind.choices)
    start_date = models.DateField()
    end_date = models.DateField()
    tiers = models.JSONField(default=list, blank=True)
    playbook = models.ForeignKey(
        "playbooks.Playbook", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attribution_model = models.CharField(max_length=16, default="linear")
    assumptions = models.JSONField(default=dict)
    result = models.JSONField(default=dict)
    # The parent goal made from the plan ("Create goals"), once made.
    goal = models.ForeignKey(
        Goal, null=True, blank=True, on_delete=models.SET_NULL, related_name="plans"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_date__lt=models.F("end_date")), name="plan_starts_before_end"
            ),
            models.CheckConstraint(condition=Q(target__gt=0), name="plan_target_gt_0"),
            models.CheckConstraint(condition=one_of("kind", PlanKind), name="plan_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.name
