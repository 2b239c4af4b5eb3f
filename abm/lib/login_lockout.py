"""Brute-force protection for the sign-in form (django-axes), as our authentication backend.

Axes counts failed sign-ins per username + IP address and refuses that pair, right password or not,
for `AXES_COOLOFF_TIME` after `AXES_FAILURE_LIMIT` failures (settings.py). Per pair rather than per
IP so a team behind one office NAT is not locked out by one person's typos, and per pair rather than
per username so nobody can lock a colleague out from elsewhere by guessing on purpose.

API tokens never pass through here (abm/authentication.py compares digests, no password), so a
locked-out person's integrations keep working; the browser session API reuses the sign-in.
"""

from axes.backends import AxesStandaloneBackend
from django.contrib.auth.backends import ModelBackend


class LockoutBackend(AxesStandaloneBackend, ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            # Code that checks a password without an HTTP request (the test client's login(),
            # scripts, shells) has no IP to count against; axes would raise. Every sign-in form
            # (ours and the admin's) passes the request, so none of them skips the check.
            return ModelBackend.authenticate(self, request, username, password, **kwargs)
        AxesStandaloneBackend.authenticate(self, request, username, password, **kwargs)
        return ModelBackend.authenticate(self, request, username, password, **kwargs)
