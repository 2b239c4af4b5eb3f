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
