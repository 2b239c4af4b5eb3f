"""Role-aware navigation for the base layout."""

from django.urls import NoReverseMatch, reverse

from abm.models import Role

# (label, url name, roles that see it)
_ITEMS = [
    ("Accounts", "accounts:list", {Role.MARKETER, Role.SALES, Role.DIRECTOR, Role.ADMIN}),
    ("Playbooks", "playbooks:list", {Role.MARKETER, Role.DIRECTOR, Role.ADMIN}),
    ("Tasks", "playbooks:tasks", {Role.MARKETER, Role.SALES, Role.ADMIN}),
    ("Goals", "goals:goals", {Role.MARKETER, Role.SALES, Role.DIRECTOR, Role.ADMIN}),
    ("Plans", "plans:plans", {Role.MARKETER, Role.DIRECTOR, Role.ADMIN}),
    ("Dashboards", "dashboards:dashboards", {Role.MARKETER, Role.SALES, Role.DIRECTOR, Role.ADMIN}),
    # Which activities count as attribution touches: marketers edit, directors read.
    ("Touch rules", "metrics:touch_rules", {Role.MARKETER, Role.DIRECTOR, Role.ADMIN}),
    ("Import", "ingestion:import", {Role.MARKETER, Role.ADMIN}),
]


def nav_items(user) -> list[dict]:
    if not user.is_authenticated:
        return []
    role = Role.ADMIN if user.is_superuser else user.role
    items = []
    for label, url_name, roles in _ITEMS:
        if role not in roles:
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        items.append({"label": label, "url": url})
    return items


def navigation(request) -> dict:
    items = nav_items(request.user)
    # The longest matching prefix wins: /playbooks/tasks/ is Tasks, not Playbooks too.
    matches = [item for item in items if request.path.startswith(item["url"])]
    best = max(matches, key=lambda item: len(item["url"]), default=None)
    for item in items:
        item["active"] = item is best
    return {"nav_items": items}
