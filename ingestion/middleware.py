"""An import upload that says it is too big is refused before its body is read.

Otherwise the CSRF check, which reads the form for its token, would spool the whole body to disk
before the import page could look at the file's size. Nothing is done for the refused request,
so it needs no CSRF token; any other request goes on untouched.
"""

from django.conf import settings
from django.urls import reverse

from ingestion.import_jobs import import_allowed
from ingestion.import_views import import_upload_too_large

# The form's own fields and the multipart framing around the file.
FORM_OVERHEAD_BYTES = 64 * 1024


class ImportSizeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.path_info == reverse("ingestion:import"):
            size = _declared_size(request)
            # After AuthenticationMiddleware: others get the view's own 403 or sign-in page.
            if size > settings.ABM_IMPORT_MAX_BYTES + FORM_OVERHEAD_BYTES and import_allowed(
                request.user
            ):
                return import_upload_too_large(request, size)
        return self.get_response(request)


def _declared_size(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
