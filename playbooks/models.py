from django.conf import settings
from django.db import models
from django.db.models import Q

from abm.lib.channels import ActivityKind, Channel, Direction
from abm.lib.constraints import one_of
from accounts.models import BuyingRole, JourneyStage, Seniority


class PlaybookStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ARCHIVED = "archived", "Archived"


class OwnerRole(models.TextChoices):
    MARKETING = "marketing", "Marketing"
    SALES = "sales", "Sales"


class EnrolmentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    EXITED = "exited", "Exited"
    HOLDOUT = "holdout", "Holdout"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"


class ActivitySource(models.TextChoices):
    TASK = "task", "Task"
    IMPORT = "import", "Import"
    API = "api", "API"


def default_holdout_share() -> float:
    return settings.ABM_HOLDOUT_SHARE


class Playbook(models.Model):
    name = models.CharField(max_length=200)
    objective = models.TextField(blank=True)
    audience_tiers = models.JSONField(default=list, blank=True)
    audience_industries = models.JSONField(default=list, blank=True)
    # A saved account-list filter (the list page's query parameters), as an alternative audience.
    audience_filter = models.JSONField(default=dict, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_playbooks",
    )
    status = models.CharField(
        max_length=16, choices=PlaybookStatus.choices, default=PlaybookStatus.DRAFT
    )
    budget = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    goal = models.ForeignKey(
        "goals.Goal", null=True, blank=True, on_delete=models.SET_NULL, related_name="playbooks"
    )
    holdout_share = models.FloatField(default=default_holdout_share)
    is_starter = models.BooleanField(default=False, help_text="A template to clone from.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(budget__gte=0), name="playbook_budget_gte_0"),
            models.CheckConstraint(
                condition=Q(holdout_share__gte=0) & Q(holdout_share__lt=1),
                name="playbook_holdout_share_range",
            ),
            models.CheckConstraint(
                condition=one_of("status", PlaybookStatus), name="playbook_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return self.name


class Stage(models.Model):
    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="stages")
    order = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=100)
    # The stage ends for an account once it reaches this journey stage (blank = never by rule).
    exit_stage = models.CharField(max_length=16, choices=JourneyStage.choices, blank=True)

    class Meta:
        ordering = ["playbook", "order", "id"]
        indexes = [models.Index(fields=["playbook", "order"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(exit_stage="") | one_of("exit_stage", JourneyStage),
                name="stage_exit_stage_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Step(models.Model):
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(default=0)
    channel = models.CharField(max_length=24, choices=Channel.choices)
    day_offset = models.PositiveIntegerField(default=0)
    owner_role = models.CharField(
        max_length=16, choices=OwnerRole.choices, default=OwnerRole.MARKETING
    )
    target_buying_role = models.CharField(max_length=16, choices=BuyingRole.choices, blank=True)
    target_seniority = models.CharField(max_length=16, choices=Seniority.choices, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    unit_cost = models.DecimalField(max_digits=12, decimal_places=2, default=0)

    class Meta:
        ordering = ["stage", "order", "id"]
        indexes = [models.Index(fields=["stage", "order"])]
        constraints = [
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="step_unit_cost_gte_0"),
            models.CheckConstraint(condition=one_of("channel", Channel), name="step_channel_valid"),
            models.CheckConstraint(
                condition=one_of("owner_role", OwnerRole), name="step_owner_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} +{self.day_offset}d"


class Enrolment(models.Model):
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="enrolments"
    )
    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="enrolments")
    current_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    entered_stage_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=EnrolmentStatus.choices, default=EnrolmentStatus.ACTIVE
    )
    # The seed of the holdout draw this enrolment was part of, so the split can be reproduced.
    holdout_seed = models.BigIntegerField(null=True, blank=True)
    enrolled_at = models.DateTimeField()
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "playbook"], name="enrolment_once"),
            models.CheckConstraint(
                condition=one_of("status", EnrolmentStatus), name="enrolment_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["playbook", "status"])]

    def __str__(self) -> str:
        return f"{self.account_id} in {self.playbook_id} ({self.status})"


class EnrolmentStageChange(models.Model):
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="stage_changes")
    stage = models.ForeignKey(Stage, null=True, on_delete=models.SET_NULL, related_name="+")
    entered_at = models.DateTimeField()

    class Meta:
        ordering = ["entered_at", "id"]

    def __str__(self) -> str:
        return f"{self.enrolment_id} -> {self.stage_id}"


class Task(models.Model):
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="tasks")
    step = models.ForeignKey(Step, null=True, on_delete=models.SET_NULL, related_name="tasks")
    # Copied from the enrolment so scoping and "my tasks" need no join.
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="tasks")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    channel = models.CharField(max_length=24, choices=Channel.choices)
    owner_role = models.CharField(max_length=16, choices=OwnerRole.choices)
    # Rendered when generated: later edits to an active playbook leave generated tasks alone.
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the person said when closing it: why it was skipped, or the completion notes.
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "step"], name="task_once_per_step"),
            models.CheckConstraint(
                condition=one_of("status", TaskStatus), name="task_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["assignee", "status", "due_at"]),
            models.Index(fields=["account", "status"]),
        ]

    def __str__(self) -> str:
        return self.subject or f"{self.get_channel_display()} task"


class Activity(models.Model):
    """A touchpoint: something we did to an account, or something it did."""

    # No index of its own: the (account, occurred_at) index below serves every lookup by account.
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="activities", db_index=False
    )
    contact = models.ForeignKey(
        "accounts.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    channel = models.CharField(max_length=24, choices=Channel.choices)
    kind = models.CharField(max_length=24, choices=ActivityKind.choices)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    occurred_at = models.DateTimeField()
    cost = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    step = models.ForeignKey(
        Step, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    source = models.CharField(max_length=8, choices=ActivitySource.choices)
    external_id = models.CharField(max_length=100)
    duration_minutes = models.PositiveIntegerField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "activities"
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="activity_once_per_source"
            ),
            models.CheckConstraint(condition=Q(cost__gte=0), name="activity_cost_gte_0"),
            models.CheckConstraint(
                condition=one_of("channel", Channel), name="activity_channel_valid"
            ),
            models.CheckConstraint(
                condition=one_of("kind", ActivityKind), name="activity_kind_valid"
            ),
            models.CheckConstraint(
                condition=one_of("direction", Direction), name="activity_direction_valid"
            ),
            models.CheckConstraint(
                condition=one_of("source", ActivitySource), name="activity_source_valid"
            ),
        ]
        indexes = [
            # Covering what the metrics engine loads (metrics/engine/loading.py), so a batch's
            # activities come from this index alone, each account's rows side by side. Read from
            # the table, a batch's accounts were spread over all of it: at 10M activities each
            # batch scanned the whole table (0.9-1.0 s a batch, against 0.3 s from here).
            # PostgreSQL only; SQLite has no INCLUDE and gets the plain index.
            models.Index(
                fields=["account", "occurred_at"],
                include=["id", "contact", "channel", "kind", "direction", "cost", "step"],
                name="activity_account_covering",
            ),
            models.Index(fields=["occurred_at"]),
            models.Index(fields=["channel", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.occurred_at:%Y-%m-%d}"
