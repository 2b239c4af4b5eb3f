from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect

from abm.models import Role


@login_required
def home(request):
    if request.user.role == Role.DIRECTOR:
        return redirect("metrics:dashboards")
    return redirect("accounts:list")


def health(request):
    """Liveness for docker-compose and load balancers: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
