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


# Failures are counted per account and client address: nobody locks another person out, or the account for others.


def sign_in_from(client, address, username="nurse", password="wrong password", forwarded_for=None):
    headers = {"REMOTE_ADDR": address}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client.post(reverse("login"), {"username": username, "password": password}, **headers)


def lock_out(client, settings, address, **kwargs):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in_from(client, address, **kwargs)


def test_failures_of_one_account_do_not_lock_another_account_from_the_same_address(client, person, settings):
    UserFactory(username="midwife")
    lock_out(client, settings, "203.0.113.7")
    assert sign_in_from(client, "203.0.113.7", password=PASSWORD).status_code == 429

    assert sign_in_from(client, "203.0.113.7", username="midwife", password=PASSWORD).status_code == 302


def test_failures_from_one_address_do_not_lock_the_account_for_its_owner_elsewhere(client, person, settings):
    lock_out(client, settings, "203.0.113.7")

    assert sign_in_from(client, "198.51.100.20", password=PASSWORD).status_code == 302


def test_a_forged_forwarded_header_is_ignored_when_no_proxy_is_trusted(client, person, settings):
    assert not settings.TRUSTED_PROXY_HEADER
    for attempt in range(settings.AXES_FAILURE_LIMIT):  # a new made-up address each time does not escape the count
        sign_in_from(client, "203.0.113.7", forwarded_for=f"192.0.2.{attempt}")

    assert sign_in_from(client, "203.0.113.7", password=PASSWORD, forwarded_for="192.0.2.99").status_code == 429


def test_behind_a_trusted_proxy_failures_count_by_the_address_it_forwards(client, person, settings):
    settings.TRUSTED_PROXY_HEADER, settings.TRUSTED_PROXY_COUNT = "X-Forwarded-For", 1
    proxy = "10.0.0.2"  # every request reaches the app from the proxy
    lock_out(client, settings, proxy, forwarded_for="203.0.113.7")
    assert sign_in_from(client, proxy, password=PASSWORD, forwarded_for="203.0.113.7").status_code == 429

    # The owner, at another address behind the same proxy, still signs in.
    assert sign_in_from(client, proxy, password=PASSWORD, forwarded_for="198.51.100.20").status_code == 302


@pytest.mark.parametrize(
    ("header", "count", "forwarded_for", "expected"),
    [
        ("", 0, "192.0.2.1", "10.0.0.2"),  # not configured: the header is not read
        ("X-Forwarded-For", 1, "192.0.2.1", "192.0.2.1"),
        ("X-Forwarded-For", 1, "192.0.2.66, 192.0.2.1", "192.0.2.1"),  # the client's own entry is not believed
        ("X-Forwarded-For", 2, "192.0.2.66, 192.0.2.1, 10.0.0.1", "192.0.2.1"),  # two proxies of ours
        ("X-Forwarded-For", 2, "192.0.2.1", "10.0.0.2"),  # fewer entries than proxies: not through them
        ("X-Forwarded-For", 1, None, "10.0.0.2"),  # no header: not through the proxy
        ("X-Forwarded-For", 1, "not-an-address", "10.0.0.2"),
        ("X-Forwarded-For", 1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_address_comes_from_the_trusted_header_only_when_configured(
    rf, settings, header, count, forwarded_for, expected
):
    from assurance.client_address import client_address

    settings.TRUSTED_PROXY_HEADER, settings.TRUSTED_PROXY_COUNT = header, count
    headers = {"REMOTE_ADDR": "10.0.0.2"}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for

    assert client_address(rf.get("/", **headers)) == expected


def basic_auth(username, password):
    import base64

    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def test_failed_basic_auth_on_the_api_locks_that_account_only_from_that_address(client, person, settings):
    UserFactory(username="midwife")
    api = "/api/v1/organisations/"

    def ask(address, username="nurse", password="wrong password"):
        return client.get(api, REMOTE_ADDR=address, HTTP_AUTHORIZATION=basic_auth(username, password))

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert ask("203.0.113.7").status_code in (401, 403)
    locked = ask("203.0.113.7")
    assert locked.status_code == 429
    assert "locked" in locked.json()["detail"]
    assert ask("203.0.113.7", password=PASSWORD).status_code == 429  # the right password from there waits too

    assert ask("198.51.100.20", password=PASSWORD).status_code == 200  # the owner, elsewhere
    assert ask("203.0.113.7", username="midwife", password=PASSWORD).status_code == 200  # another account
    assert sign_in_from(client, "198.51.100.20", password=PASSWORD).status_code == 302
