from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    MARKETER = "marketer", "Marketer"
    SALES = "sales", "Sales rep"
    DIRECTOR = "director", "Director"
    ADMIN = "admin", "Admin"


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
        return self.role in (Role.MARKETER, Role.DIRECTOR, Role.ADMIN) or self.is_superuser


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
