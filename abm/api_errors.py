"""Every API error in one JSON shape, never an HTML page:

    {"error": {"code": "parse_error", "message": "...", "fields": {"activities": ["..."]}}}

`code` is stable and machine-readable, `message` is for people, `fields` maps a request field to
its problems (empty when the error is not about a field).
"""

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from abm.lib.row_locks import RecordDeleted

# Django's own logger for 500s, so whatever reports those (admin mails, Sentry) reports these too.
logger = logging.getLogger("django.request")


class ApiError(exceptions.APIException):
    """An error a view raises with its own code, message and per-field details."""

    def __init__(
        self,
        *,
        code: str,
        message: str,
        fields: dict[str, list[str]] | None = None,
        status_code: int = status.HTTP_400_BAD_REQUEST,
    ) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.fields = fields or {}


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail) -> list[str]:
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in _flatten(value)]
    if isinstance(detail, list):
        return [message for value in detail for message in _flatten(value)]
    return [str(detail)]


def _first_code(codes) -> str:
    if isinstance(codes, dict):
        codes = next(iter(codes.values()), "invalid")
    if isinstance(codes, list):
        return _first_code(codes[0]) if codes else "invalid"
    return str(codes)


def _body(exc: exceptions.APIException) -> dict:
    if isinstance(exc, ApiError):
        return error_body(exc.code, exc.message, exc.fields)
    detail = exc.detail
    if isinstance(detail, dict):
        fields = {str(name): _flatten(value) for name, value in detail.items()}
        messages = _flatten(detail)
        message = messages[0] if len(messages) == 1 else "Some fields are not valid."
        return error_body(_first_code(exc.get_codes()), message, fields)
    return error_body(_first_code(exc.get_codes()), " ".join(_flatten(detail)))


def api_exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    elif isinstance(exc, RecordDeleted):
        exc = exceptions.NotFound(str(exc))
    response = exception_handler(exc, context)
    if response is None:
        # Not an API error: a bug. The client still gets JSON; the traceback goes to the log.
        request = context.get("request")
        path = request.path if request is not None else ""
        logger.error(
            "Internal Server Error: %s",
            path,
            exc_info=exc,
            extra={"status_code": 500, "request": getattr(request, "_request", None)},
        )
        set_rollback()
        return Response(
            error_body("server_error", "Something went wrong on our side; the error was logged."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    response.data = _body(exc)
    return response


@csrf_exempt  # it changes nothing; without this a POST would get the HTML CSRF failure page
def api_not_found(request, *args, **kwargs):
    """The answer for any /api/ address that names no endpoint."""
    message = f"There is no API endpoint at {request.path}."
    if not request.path.endswith("/"):
        try:
            resolve(request.path + "/")
        except Resolver404:
            pass
        else:
            message += f" Did you mean {request.path}/ (with the trailing slash)?"
    return JsonResponse(error_body("not_found", message), status=404)
