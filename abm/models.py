from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

from abm.lib.constraints import one_of


class Role(models.TextChoices):
    MARKETER = "marketer", "Marketer"
    SALES = "sales", "Sales rep"
    DIRECTOR = "director", "Director"
    ADMIN = "admin", "Admin"


# The roles that see every account and every figure (superusers too).
EVERYTHING_ROLES = (Role.MARKETER, Role.DIRECTOR, Role.ADMIN)


class User(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.SALES)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="user_role_valid"
            ),
        ]

    @property
    def is_sales(self) -> bool:
        return self.role == Role.SALES

    @property
    def sees_everything(self) -> bool:
        return self.role in EVERYTHING_ROLES or self.is_superuser


class ApiToken(models.Model):
    """A personal API token. Only the SHA-256 digest of the secret is stored; the full token is
    shown once, when it is created (abm/tokens.py)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    # The first characters of the token, safe to show: they tell tokens apart in lists and logs.
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="api_token_expires_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def status(self, now) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "active"


class AuditEvent(models.Model):
    """Who changed what, and when, for the changes a director is accountable for (abm/audit.py).

    The object is named by type, id and a label copied at the time, not by a foreign key: the
    trail outlives a deleted goal or step and stays readable without joining every table.
    """

    at = models.DateTimeField(db_index=True)
    # Null for changes the system made on its own (a scheduled job); SET_NULL keeps the history
    # of a deleted user, whose name stays in actor_label.
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=255, blank=True)
    # {field: [old, new]} for changes; other facts (counts, ids) for events that change no field.
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["actor", "-at"], name="audit_actor_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label or 'system'} {self.action}"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class RunKind(models.TextChoices):
    FULL = "full", "Full recompute"
    INCREMENTAL = "incremental", "Incremental recompute"
    ICP_RESCORE = "icp_rescore", "ICP re-score"
    IMPORT = "import", "CSV import"
    TASKS = "tasks", "Task generation"
    EXPORT = "export", "CSV export"


class Job(models.Model):
    """One background job (recompute, import, export, re-score, task generation), shown as a
    progress bar; the status row makes re-delivery harmless (abm/jobs.py)."""

    kind = models.CharField(max_length=16, choices=RunKind.choices)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    phase = models.CharField(max_length=100, blank=True)
    percent = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The outbox of abm/job_sending.py: the task to send, and whether the broker took it.
    task = models.CharField(max_length=100, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    send_attempts = models.PositiveSmallIntegerField(default=0)
    last_send_error = models.TextField(blank=True)
    # The Celery message that claimed the run: only it (redelivered or retried) may start it over.
    task_id = models.CharField(max_length=255, blank=True)

    class Meta:
        # The table keeps the name it had in the metrics app (moved without copying rows).
        db_table = "metrics_metricrun"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(percent__lte=100), name="metric_run_percent_0_100"),
            models.CheckConstraint(
                condition=one_of("status", RunStatus), name="metric_run_status_valid"
            ),
            models.CheckConstraint(condition=one_of("kind", RunKind), name="metric_run_kind_valid"),
            # The debounce of abm/change_feed.py: a burst of changes queues one incremental run,
            # even when two transactions ask at once (the second insert fails and does nothing).
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(kind="incremental", status="queued"),
                name="metric_run_one_queued_incremental",
            ),
        ]
        indexes = [models.Index(fields=["kind", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"


class Change(models.Model):
    """One entry of the change feed (abm/change_feed.py): a lower layer records that an account's
    data changed, the metrics engine consumes the entries. No foreign key: the feed sits below
    the apps whose rows it names, and an entry may outlive a deleted account."""

    # None: the change may touch every account (an ICP edit, new touch rules, a budget line).
    account_id = models.BigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.pk} account {self.account_id or 'all'}: {self.reason}"
