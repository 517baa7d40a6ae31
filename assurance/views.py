"""Signing in and out, and resetting a forgotten password: Django's auth views with our pages and wording."""

from django.contrib.auth import views as auth_views

SERVICE_NAME = "Safeguard Assure"


class SignInView(auth_views.LoginView):
    """The sign-in page; someone already signed in goes straight to their home page.

    django-axes checks each attempt (the form passes the request to ``authenticate``) and locks an account
    after repeated failures.
    """

    template_name = "registration/login.html"
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a link to reset a forgotten password; the page says the same whether or not the address is known."""

    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.html"
    extra_email_context = {"site_name": SERVICE_NAME}
