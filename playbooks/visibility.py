"""Who may see playbooks and the account-level rows they produce."""

from django.db.models import QuerySet

from accounts.visibility import account_children_visible_to
from playbooks.models import Activity, Enrolment, Playbook, Stage, Step, Task


def playbooks_visible_to(user) -> QuerySet[Playbook]:
    # Playbooks are plans, not account data: every signed-in user may read them.
    if not user.is_authenticated:
        return Playbook.objects.none()
    return Playbook.objects.all()


def stages_visible_to(user) -> QuerySet[Stage]:
    return Stage.objects.filter(playbook__in=playbooks_visible_to(user))


def steps_visible_to(user) -> QuerySet[Step]:
    return Step.objects.filter(stage__playbook__in=playbooks_visible_to(user))


def enrolments_visible_to(user) -> QuerySet[Enrolment]:
    return account_children_visible_to(Enrolment.objects.all(), user)


def tasks_visible_to(user) -> QuerySet[Task]:
    return account_children_visible_to(Task.objects.all(), user)


def activities_visible_to(user) -> QuerySet[Activity]:
    return account_children_visible_to(Activity.objects.all(), user)
