"""How the API knows who is asking: the browser's session, or HTTP Basic for scripts, both counted by django-axes.

A failed Basic attempt counts towards the same lock-out as the sign-in page, per account and client address
(``AXES_LOCKOUT_PARAMETERS``, ``assurance/client_address.py``), so the API is no way round the lock-out; and
because the address is part of the count, someone guessing elsewhere never locks the owner out.
"""

from django.conf import settings
from drf_spectacular.authentication import BasicScheme
from rest_framework import status
from rest_framework.authentication import BasicAuthentication
from rest_framework.exceptions import APIException, AuthenticationFailed


class AccountLocked(APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "account_locked"


class LockedOutAwareBasicAuthentication(BasicAuthentication):
    """HTTP Basic that answers 429 with a plain message, as the sign-in page does, when django-axes refuses an
    account locked at this address (axes marks the API's request, which its middleware never sees)."""

    def authenticate_credentials(self, userid, password, request=None):
        try:
            return super().authenticate_credentials(userid, password, request)
        except AuthenticationFailed:
            if getattr(request, "axes_locked_out", False):
                minutes = max(1, round(settings.AXES_COOLOFF_TIME * 60))
                raise AccountLocked(
                    f"This account is locked for now after {settings.AXES_FAILURE_LIMIT} unsuccessful attempts to "
                    f"sign in from this address. You can try again in {minutes} minutes."
                ) from None
            raise


class LockedOutAwareBasicScheme(BasicScheme):
    """The API's schema describes it as the plain HTTP Basic it is."""

    target_class = LockedOutAwareBasicAuthentication
