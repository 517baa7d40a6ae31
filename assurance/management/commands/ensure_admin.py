"""Create or update the local superuser ``admin`` so a developer can sign in straight away."""

import os

from axes.utils import reset as reset_lockouts
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

USERNAME = "admin"
EMAIL = "admin@example.org"
DEFAULT_PASSWORD = "safeguard-demo-admin"
PASSWORD_VARIABLE = "DEMO_ADMIN_PASSWORD"


class Command(BaseCommand):
    help = (
        f"Create or update the superuser '{USERNAME}' for local use, with the password from "
        f"{PASSWORD_VARIABLE} or the demo default. Refuses to run with DEBUG off unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help=f"Run even with DEBUG off. {PASSWORD_VARIABLE} must then be set: never a default password.",
        )

    def handle(self, *args, force=False, **options):
        password = os.environ.get(PASSWORD_VARIABLE, "")
        if not settings.DEBUG:
            if not force:
                raise CommandError(
                    "DEBUG is off, so this looks like a production system. ensure_admin creates an account "
                    "with a known password for local use only; use 'manage.py createsuperuser' instead, "
                    "or pass --force if you really mean it."
                )
            if not password:
                raise CommandError(
                    f"DEBUG is off: set {PASSWORD_VARIABLE} to a strong password. The demo default is "
                    "never used outside development."
                )
        password = password or DEFAULT_PASSWORD

        User = get_user_model()
        with transaction.atomic():
            user, created = User.objects.get_or_create(username=USERNAME, defaults={"email": EMAIL})
            try:
                validate_password(password, user)
            except ValidationError as error:
                raise CommandError(f"{PASSWORD_VARIABLE} is not accepted: {' '.join(error.messages)}") from error
            user.email = EMAIL
            user.is_staff = user.is_superuser = user.is_active = True
            if created or not user.check_password(password):
                user.set_password(password)
            user.save()
        # A developer who mistyped the password five times would otherwise stay locked out by django-axes.
        reset_lockouts(username=USERNAME)

        shown_password = password if settings.DEBUG else f"(the value of {PASSWORD_VARIABLE})"
        self.stdout.write(
            self.style.SUCCESS(f"{'Created' if created else 'Updated'} superuser '{USERNAME}'.")
            + f"\n  username: {USERNAME}\n  password: {shown_password}\n  e-mail:   {EMAIL}"
        )
