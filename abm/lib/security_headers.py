"""Content-Security-Policy on every response (Django 5.2 has no CSP of its own; 6.0 will).

The policy is `settings.ABM_CONTENT_SECURITY_POLICY`, a dict of directive -> sources, joined once at
start-up. Scripts come only from our own static files: no inline `<script>`, no `on...=` handlers,
no `javascript:` URLs, no CDN. Inline *styles* stay allowed because plotly and our progress bars set
`style="width: ..%"`; a style cannot run code.

Nosniff, Referrer-Policy, X-Frame-Options and HSTS come from Django's SecurityMiddleware and
XFrameOptionsMiddleware (settings.py); this adds only what Django lacks.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def policy_header(policy: dict[str, list[str]]) -> str:
    return "; ".join(" ".join([directive, *sources]) for directive, sources in policy.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.value = policy_header(settings.ABM_CONTENT_SECURITY_POLICY)
        self.header = (
            "Content-Security-Policy-Report-Only"
            if settings.ABM_CSP_REPORT_ONLY
            else "Content-Security-Policy"
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # A view that needs a narrower policy may set its own; none needs a wider one.
        response.headers.setdefault(self.header, self.value)
        return response
