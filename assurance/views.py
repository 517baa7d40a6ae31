"""Signing in and out, and resetting a forgotten password: Django's auth views with our pages and wording."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render

SERVICE_NAME = "Safeguard Assure"


class SignInForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Enter a correct username and password. Both are case-sensitive.",
        "inactive": "This account has been switched off. Ask your organisation's administrator to switch it on.",
    }


class SignInView(auth_views.LoginView):
    """The sign-in page; someone already signed in goes straight to their home page.

    django-axes checks each attempt (the form passes the request to ``authenticate``) and locks an account
    after repeated failures.
    """

    template_name = "registration/login.html"
    form_class = SignInForm
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a link to reset a forgotten password; the page says the same whether or not the address is known."""

    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.html"
    extra_email_context = {"site_name": SERVICE_NAME}


def locked_out(request, original_response=None, credentials=None):
    """The page django-axes shows when an account is locked after repeated failed sign-ins (status 429)."""
    minutes = max(1, round(settings.AXES_COOLOFF_TIME * 60))
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes}
    return render(request, "registration/locked_out.html", context, status=429)
