"""Sign-in is hardened as users of NHS systems expect: lockout after failures, idle sessions end, strong passwords."""

import datetime

import pytest
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD, UserFactory


@pytest.fixture
def person(db):
    return UserFactory(username="nurse")


def sign_in(client, password):
    return client.post(reverse("login"), {"username": "nurse", "password": password})


def test_repeated_failed_sign_ins_lock_the_account_for_a_while(client, person, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = sign_in(client, "wrong password")
        assert response.status_code == 200
        assert "Enter a correct username and password" in response.content.decode()
    locked = sign_in(client, "wrong password")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Your account is locked for now" in page
    assert "You can try again in 30 minutes" in page
    # Even the right password is refused while the account is locked.
    assert sign_in(client, PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_successful_sign_in_clears_earlier_failures(client, person, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "wrong password")
    assert sign_in(client, PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "wrong password").status_code == 200


def test_an_idle_session_ends_and_asks_the_person_to_sign_in_again(client, person, settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert sign_in(client, PASSWORD).status_code == 302
    home = reverse("home")
    assert client.get(home).status_code == 200
    session = Session.objects.get()
    assert session.expire_date > timezone.now() + datetime.timedelta(minutes=29)
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))  # 30 idle minutes pass
    response = client.get(home)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_each_request_keeps_an_active_session_alive(client, person):
    sign_in(client, PASSWORD)
    Session.objects.update(expire_date=timezone.now() + datetime.timedelta(minutes=5))
    assert client.get(reverse("home")).status_code == 200
    assert Session.objects.get().expire_date > timezone.now() + datetime.timedelta(minutes=29)


@pytest.mark.parametrize(
    "password,reason",
    [("short1A!", "too short"), ("password123456", "too common"), ("846201937564", "entirely numeric")],
)
def test_passwords_follow_djangos_validators(person, password, reason):
    with pytest.raises(ValidationError, match=reason):
        validate_password(password, person)
