import secrets

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.roles import Role, user_roles
from visits.alerts.sweep import sweep_status

from .celery import app


@login_required
def home(request):
    """Each role starts where its work is."""
    roles = user_roles(request.user)
    if roles & {Role.DSL, Role.PRINCIPAL}:
        return redirect("dashboard")
    if Role.OFFICE in roles:
        return redirect("board")
    if Role.STAFF in roles:
        return redirect("visits:list")
    if Role.TRUST_ADMIN in roles:
        return redirect("memberships")  # who holds which role: the trust admin's everyday page
    if request.user.is_superuser:
        return redirect("admin:index")
    return redirect("visits:list")


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as error:  # noqa: BLE001 - report any failure as data, never a 500
        return f"error: {error.__class__.__name__}"


def _broker_status() -> str:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as error:  # noqa: BLE001
        return f"error: {error.__class__.__name__}"


def _cache_status() -> str:
    """The cache ignores its own errors (settings), so ask it to keep something and give it back."""
    token = secrets.token_hex(8)
    cache.set("healthz", token, 10)
    return "ok" if cache.get("healthz") == token else "error: the cache did not keep a value"


def _alert_sweep_status() -> str:
    """'ok' while the overdue-alert sweep has run within two intervals and no visit out has failed it; otherwise
    why not."""
    try:
        status = sweep_status()
    except Exception as error:  # noqa: BLE001
        return f"error: {error.__class__.__name__}"
    if not status["ok"]:
        return f"stale: {status['message']}"
    return f"failing: {status['message']}" if status["failed_visits"] else "ok"


@never_cache
@require_GET
def healthz(request):
    # A stale sweep makes the whole service degraded (503): alerting is what keeps staff safe.
    checks = {
        "database": _database_status(),
        "cache": _cache_status(),
        "broker": _broker_status(),
        "alert_sweep": _alert_sweep_status(),
    }
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if healthy else "degraded", **checks}, status=200 if healthy else 503)
