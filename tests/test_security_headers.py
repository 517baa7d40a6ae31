"""Every response carries the security headers, and no page needs inline script or inline style to work, so the
Content-Security-Policy can forbid both.

The PDF templates (``templates/reviews/pdf/``) are drawn by WeasyPrint on the server and never reach a browser;
their inline styles are outside the policy and left out of the scan.
"""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = REPO_ROOT / "templates"
PDF_TEMPLATES = TEMPLATES / "reviews" / "pdf"


def policy(response) -> dict[str, list[str]]:
    directives = (part.split() for part in response["Content-Security-Policy"].split(";") if part.strip())
    return {name: values for name, *values in directives}


def assert_security_headers(response):
    directives = policy(response)
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    features = dict(part.strip().split("=", 1) for part in response["Permissions-Policy"].split(","))
    assert {features[name] for name in ("camera", "microphone", "geolocation", "payment")} == {"()"}
    assert response["Referrer-Policy"] == "same-origin"


@pytest.fixture
def signed_in(client, db):
    person = UserFactory(username="nurse")
    client.force_login(person)
    return client


@pytest.mark.parametrize(
    "url",
    [
        reverse("login"),  # signed out
        "/api/v1/organisations/",  # refused, answered by the API
    ],
)
def test_responses_to_anyone_carry_the_security_headers(client, db, url):
    assert_security_headers(client.get(url))


@pytest.mark.parametrize("url", [reverse("home"), reverse("returns:return_list"), "/api/v1/", "/api/v1/returns/"])
def test_pages_and_api_answers_carry_the_security_headers(signed_in, url):
    response = signed_in.get(url, HTTP_ACCEPT="application/json" if url.startswith("/api/") else "text/html")
    assert response.status_code == 200
    assert_security_headers(response)


@pytest.mark.parametrize("url", ["/admin/", "/admin/auth/user/", "/admin/auth/user/add/"])
def test_django_admin_works_under_the_policy(admin_client, url):
    response = admin_client.get(url)
    assert response.status_code == 200
    assert_security_headers(response)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", response.content.decode()), "admin has inline script"


def test_only_the_api_documentation_page_widens_the_policy(signed_in):
    directives = policy(signed_in.get(reverse("api-docs")))
    assert "https://cdn.jsdelivr.net" in directives["script-src"]
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "https://cdn.jsdelivr.net" not in policy(signed_in.get(reverse("home")))["script-src"]


def browser_templates() -> list[Path]:
    return sorted(path for path in TEMPLATES.rglob("*.html") if PDF_TEMPLATES not in path.parents)


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|<[^>]*\sstyle\s*=", re.IGNORECASE)


@pytest.mark.parametrize(
    ("markup", "pattern"),
    [
        ("<script>alert(1)</script>", INLINE_SCRIPT),
        ('<button type="button" onclick="go()">', EVENT_HANDLER),
        ('<a href="javascript:go()">', JAVASCRIPT_URL),
        ('<code style="color: red">', INLINE_STYLE),
        ("<style>p { color: red }</style>", INLINE_STYLE),
    ],
)
def test_the_template_scan_recognises_inline_script_and_style(markup, pattern):
    assert pattern.search(markup)
    assert not pattern.search('<script src="/static/app.js"></script><p class="note">Online</p>')


def test_no_page_template_has_inline_script_or_style():
    assert len(browser_templates()) > 30
    found = [
        f"{path.relative_to(REPO_ROOT)}: {match.group(0)}"
        for path in browser_templates()
        for pattern in (INLINE_SCRIPT, EVENT_HANDLER, JAVASCRIPT_URL, INLINE_STYLE)
        for match in pattern.finditer(path.read_text())
    ]
    assert not found, "Move these to static files (the Content-Security-Policy blocks them):\n" + "\n".join(found)


def test_the_sign_in_page_still_signs_in_under_the_policy(client, db):
    UserFactory(username="nurse")
    response = client.post(reverse("login"), {"username": "nurse", "password": PASSWORD})
    assert response.status_code == 302
    assert_security_headers(response)
