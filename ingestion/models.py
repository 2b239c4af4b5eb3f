"""What comes in: uploaded CSV files and their import jobs."""

from django.conf import settings
from django.db import models

from abm.lib.constraints import one_of


class ImportKind(models.TextChoices):
    ACCOUNTS = "accounts", "Accounts"
    CONTACTS = "contacts", "Contacts"
    OPPORTUNITIES = "opportunities", "Opportunities"
    LEADS = "leads", "Leads"
    ACTIVITIES = "activities", "Activities"


class ImportJob(models.Model):
    """An uploaded CSV: where it is stored, how its columns map, and what its last run did.

    The run itself (queued, running with progress, done, failed) is a Job, like every job.
    """

    kind = models.CharField(max_length=16, choices=ImportKind.choices)
    original_name = models.CharField(max_length=255)
    # Relative to settings.VAR_DIR, so moving the var directory keeps the job readable.
    path = models.CharField(max_length=300)
    size = models.PositiveBigIntegerField()
    encoding = models.CharField(max_length=16)
    delimiter = models.CharField(max_length=4)
    headers = models.JSONField(default=list)
    # header -> field; headers left out are ignored.
    mapping = models.JSONField(default=dict)
    run = models.ForeignKey(
        "abm.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The whole-file check of the mapping page: the run's own rules, nothing written.
    check_run = models.ForeignKey(
        "abm.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    # [{"line": 7, "reason": "...", "values": [original cells]}] in file order; every reject kept.
    rejects = models.JSONField(default=list, blank=True)
    rejects_path = models.CharField(max_length=300, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # The table keeps the name it had in the accounts app (moved without copying rows).
        db_table = "accounts_importjob"
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=one_of("kind", ImportKind), name="import_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import #{self.pk} ({self.original_name})"
