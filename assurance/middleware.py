"""Response headers that Django's own SecurityMiddleware and django-csp do not set."""

from django.conf import settings


class PermissionsPolicyMiddleware:
    """Sends ``Permissions-Policy``, switching off browser features the app never uses (``PERMISSIONS_POLICY``),
    so that a page, or anything injected into one, cannot ask for the camera, the microphone, the location..."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(f"{feature}=()" for feature in settings.PERMISSIONS_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", self.header)
        return response
