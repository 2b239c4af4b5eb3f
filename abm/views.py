from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from abm.lib.permissions import ingest_allowed
from abm.models import Role
from abm.tokens import token_create, token_revoke, tokens_of


@login_required
def home(request):
    if request.user.role == Role.DIRECTOR:
        return redirect("dashboards:dashboards")
    return redirect("accounts:list")


def favicon(request):
    # The hashed name is looked up per request: at import time the manifest may not exist yet.
    return redirect(static("img/favicon.svg"))


def health(request):
    """Liveness for docker-compose and load balancers: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        label="Name",
        help_text="What will use it, so you know which one to revoke: “HubSpot sync”, “Web events”.",
    )
    days = forms.TypedChoiceField(label="Expires after", coerce=int)

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["days"].choices = [
            (days, f"{days} days") for days in settings.ABM_API_TOKEN_EXPIRY_DAYS
        ]
        self.fields["days"].initial = settings.ABM_API_TOKEN_DEFAULT_EXPIRY_DAYS

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        now = timezone.now()
        clash = tokens_of(self.user).filter(
            name__iexact=name, revoked_at__isnull=True, expires_at__gt=now
        )
        if clash.exists():
            raise forms.ValidationError(
                "You already have an active token with this name; pick another or revoke that one."
            )
        return name


@never_cache  # the page that shows a new token must not be kept by the browser or a proxy
@login_required
def tokens(request):
    created = None
    if request.method == "POST":
        form = TokenForm(request.POST, user=request.user)
        if form.is_valid():
            token, raw = token_create(
                user=request.user,
                name=form.cleaned_data["name"],
                days=form.cleaned_data["days"],
            )
            created = {"token": token, "raw": raw}
            form = TokenForm(user=request.user)
    else:
        form = TokenForm(user=request.user)
    now = timezone.now()
    rows = [{"token": token, "status": token.status(now)} for token in tokens_of(request.user)]
    context = {
        "form": form,
        "created": created,
        "rows": rows,
        "can_ingest": ingest_allowed(request.user),
        "batch_url": request.build_absolute_uri(reverse("ingestion_api:activity_batch")),
        "max_items": settings.ABM_API_BATCH_MAX_ITEMS,
    }
    return render(request, "abm/tokens.html", context, status=422 if form.errors else 200)


@login_required
@require_POST
def token_revoke_view(request, pk: int):
    # Scoped to the signed-in user: another user's token is a 404, as if it did not exist.
    token = get_object_or_404(tokens_of(request.user), pk=pk)
    already = token.revoked_at is not None
    token_revoke(token=token)
    if already:
        messages.info(request, f"“{token.name}” was already revoked.")
    else:
        messages.success(
            request, f"Revoked “{token.name}”. Anything still using it now gets 401 Unauthorized."
        )
    return redirect("tokens")
