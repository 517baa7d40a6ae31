"""The catalogue's pages, and signing in: what a signed-in reader sees, and what a stranger is refused."""

import html
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from standards.models import Framework, Metric, ProviderType, Service, Standard, Threshold
from standards.views import band_in_words
from tests.factories import (
    PASSWORD,
    FrameworkFactory,
    MetricFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    """The page's text as a reader sees it: tags removed, white space collapsed."""
    markup = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup)))
    return re.sub(r" ([,.;])", r"\1", text).strip()


def page_urls(framework):
    standard = framework.standards.get(number="11")
    metric = framework.metrics.get(code="S11-SUPERVISION")
    return [
        reverse("home"),
        reverse("standards:framework_list"),
        reverse("standards:framework_detail", args=[framework.pk]),
        reverse("standards:standard_detail", args=[standard.pk]),
        reverse("standards:metric_detail", args=[metric.pk]),
        reverse("standards:metric_list"),
    ]


# ------------------------------------------------------------------------------------------ who may see them


def test_every_catalogue_page_sends_a_stranger_to_sign_in(client, framework):
    for url in page_urls(framework):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login") + "?next="), url


def test_every_catalogue_page_loads_for_a_signed_in_reader(signed_in_client, framework):
    for url in page_urls(framework):
        response = signed_in_client.get(url)
        assert response.status_code == 200, url
        assert "Safeguard Assure" in text_of(response)
        assert "{#" not in text_of(response) and "{%" not in text_of(response), url


@pytest.mark.parametrize("name", ["framework_detail", "standard_detail", "metric_detail"])
def test_an_unknown_id_is_not_found(signed_in_client, name):
    assert signed_in_client.get(reverse(f"standards:{name}", args=[987654])).status_code == 404


def test_the_header_names_the_reader_and_offers_sign_out_but_no_admin_link(signed_in_client, framework):
    response = signed_in_client.get(reverse("standards:framework_list"))
    page = text_of(response)
    assert "Signed in as Ada Okafor" in page
    assert 'action="/accounts/logout/"' in response.content.decode()
    assert "Sign out" in page
    assert reverse("admin:index") not in response.content.decode()


def test_staff_see_the_admin_link(client, framework):
    client.force_login(UserFactory(is_staff=True))
    response = client.get(reverse("standards:framework_list"))
    assert f'href="{reverse("admin:index")}"' in response.content.decode()


# ------------------------------------------------------------------------------------------------- sign in


def test_signing_in_with_a_wrong_password_shows_the_error_summary(client, reader):
    response = client.post(reverse("login"), {"username": "nurse", "password": "not the password"})
    assert response.status_code == 200
    page = text_of(response)
    assert page.startswith("Error: Sign in")
    assert "There is a problem" in page
    assert "Enter a correct username and password" in page
    assert 'href="#id_username"' in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_signing_in_with_the_right_password_goes_to_the_page_asked_for(client, reader):
    target = reverse("standards:metric_list")
    response = client.post(
        f"{reverse('login')}?next={target}", {"username": "nurse", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response.url == target
    assert client.get(target).status_code == 200


def test_signing_out_ends_the_session_and_returns_to_sign_in(signed_in_client):
    response = signed_in_client.post(reverse("logout"))
    assert response.status_code == 302
    assert response.url == reverse("login")
    assert signed_in_client.get(reverse("standards:framework_list")).status_code == 302


def test_a_forgotten_password_can_be_reset_by_email(client, reader):
    response = client.get(reverse("password_reset"))
    assert "Reset your password" in text_of(response)
    response = client.post(reverse("password_reset"), {"email": reader.email})
    assert response.status_code == 302
    assert "Check your email" in text_of(client.get(response.url))
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    response = client.get(link, follow=True)
    assert "Choose a new password" in text_of(response)
    new_password = "a new and long enough passphrase"
    response = client.post(
        response.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password}, follow=True
    )
    assert "Your password has been changed" in text_of(response)
    reader.refresh_from_db()
    assert reader.check_password(new_password)


# ----------------------------------------------------------------------------------------------- the catalogue


def test_the_catalogue_lists_frameworks_in_force_with_their_counts_and_other_versions(signed_in_client, framework):
    Framework.objects.filter(pk=framework.pk).update(effective_from="2020-04-01")
    older = FrameworkFactory(
        code=framework.code, name=framework.name, version="2018/19", effective_from="2018-04-01",
        effective_to="2020-03-31",
    )  # fmt: skip
    FrameworkFactory(code="ended-framework", name="An ended framework", effective_to="2020-03-31")

    response = signed_in_client.get(reverse("standards:framework_list"))
    page = text_of(response)
    in_force, not_in_force = page.split("Frameworks in force today", 1)[1].split("Frameworks not in force today", 1)
    assert "Section 11 children's standards" in in_force
    assert "section 4.0–4.1 2 3" in in_force  # the source, then 2 standards and 3 metrics
    assert "Safeguarding through Commissioning Policy, North East London Commissioning Alliance" in in_force
    assert "Older version: 2018/19, ended 31 March 2020" in in_force
    assert older.get_absolute_url() in response.content.decode()
    assert "An ended framework" in not_in_force


def test_the_framework_page_shows_the_source_notes_standards_criteria_and_metrics(signed_in_client, framework):
    response = signed_in_client.get(framework.get_absolute_url())
    page = text_of(response)
    assert "Safeguarding through Commissioning Policy, North East London Commissioning Alliance, March 2019" in page
    assert "From 1 April 2019 with no end date" in page
    assert "Note on the source document Text lost from the source Rows of the table were lost" in page
    # Standards in order, the sub-clause nested inside its parent's section.
    assert page.index("Standard 11 Effective training") < page.index("Standard 11.1 Supervision of staff")
    assert re.search(r'id="standard-\d+".*?id="standard-\d+"', response.content.decode(), re.S)
    assert "Note on the source: the source contradicts itself The table numbers this standard 12." in page
    # Criteria with sub-points, time rules as tags, and notes beside the point.
    assert "6 Providers should have systems that: 6.5 Ensure that 85% of staff are trained;" in page
    assert "Note on the source: how the catalogue reads the source The catalogue reads 85% as a threshold." in page
    assert "Time rule: Within 1 working day" in page
    # Metrics with their thresholds by provider type.
    assert "S11-TRAINING Staff trained to their level" in page
    assert "85%" in page
    assert "Acute hospital 50% · Community health services 100%" in page
    assert "Metrics with no standard" in page
    assert "S11-ALLEGATIONS Allegations against staff" in page
    assert "No threshold — monitored" in page
    assert "Note on the source: refers to something the source does not show" in page
    assert f'href="/api/v1/frameworks/{framework.pk}/export/"' in response.content.decode()


def test_the_framework_page_links_the_other_versions_of_its_code(signed_in_client, framework):
    Framework.objects.filter(pk=framework.pk).update(effective_to="2020-03-31")
    newer = FrameworkFactory(code=framework.code, version="2020/21", effective_from="2020-04-01")
    page = text_of(signed_in_client.get(framework.get_absolute_url()))
    assert "Versions of this framework 2020/21 – from 1 April 2020 Status: In force" in page
    assert "2019/20 (this version) – from 1 April 2019 to 31 March 2020 Status: Ended" in page
    assert newer.get_absolute_url() in signed_in_client.get(framework.get_absolute_url()).content.decode()


def test_the_standard_page_shows_its_criteria_metrics_sub_clauses_and_notes(signed_in_client, framework):
    standard = framework.standards.get(number="11")
    page = text_of(signed_in_client.get(standard.get_absolute_url()))
    assert "Standard 11 · Section 11 (2019/20)" in page
    assert "Effective training of all staff" in page
    assert "Sub-clauses 11.1. Supervision of staff" in page
    assert "Train staff well." in page
    assert "6.5 Ensure that 85% of staff are trained;" in page
    assert "S11-TRAINING Staff trained to their level" in page
    assert "The table numbers this standard 12." in page


def test_the_metric_page_words_out_each_threshold_by_provider_type(signed_in_client, framework):
    metric = framework.metrics.get(code="S11-SUPERVISION")
    page = text_of(signed_in_client.get(metric.get_absolute_url()))
    assert "Staff receiving supervision" in page
    assert "Kind Percentage against a threshold" in page
    assert "Reporting frequency Quarterly As written: “Quarterly”" in page
    assert "Provider types All provider types" in page
    assert "Numerator Staff trained Denominator Eligible staff" in page
    assert (
        "Community health services 100% 95% Green at 100% or above; amber from 95% to under 100%; red below 95%."
        in page
    )
    assert "Acute hospital 50% 45% Green at 50% or above; amber from 45% to under 50%; red below 45%." in page
    assert "Note: first 6mths of the year" in page
    assert "Standard 11.1. Supervision of staff" in page


def test_the_metric_page_of_a_count_says_it_is_monitored_not_coloured(signed_in_client, framework):
    metric = framework.metrics.get(code="S11-ALLEGATIONS")
    metric.provider_types.set(["community"])
    metric.services.set(["children"])
    page = text_of(signed_in_client.get(metric.get_absolute_url()))
    assert "No threshold — monitored as a trend" in page
    assert "Provider types Community health services" in page
    assert "Services Children's services" in page
    assert "Refers to a clause 4.9 not shown." in page
    assert "Numerator" not in page


@pytest.mark.parametrize(
    ("green", "amber", "words"),
    [
        ("85", "80", "Green at 85% or above; amber from 80% to under 85%; red below 80%."),
        ("100", "95", "Green at 100% or above; amber from 95% to under 100%; red below 95%."),
        ("62.50", "60", "Green at 62.5% or above; amber from 60% to under 62.5%; red below 60%."),
        ("100", "100", "Green at 100% or above; no amber band; red below 100%."),
        ("50", "0", "Green at 50% or above; amber below 50%; never red."),
        ("0", "0", "Always green: the threshold is 0%."),
    ],
)
def test_a_threshold_band_is_worded_out(green, amber, words):
    assert band_in_words(Threshold(green_from=Decimal(green), amber_from=Decimal(amber))) == words


# ------------------------------------------------------------------------------------------- metric search


def metric_codes(response) -> list[str]:
    return [metric.code for metric in response.context["metrics"]]


def test_the_metric_list_searches_code_title_and_description(signed_in_client, framework):
    MetricFactory(framework=framework, code="LUT-FGM", title="FGM cases", description="Female genital mutilation")
    url = reverse("standards:metric_list")
    assert metric_codes(signed_in_client.get(url, {"q": "genital"})) == ["LUT-FGM"]
    assert metric_codes(signed_in_client.get(url, {"q": "lut-fgm"})) == ["LUT-FGM"]
    assert set(metric_codes(signed_in_client.get(url, {"q": "staff"}))) == {
        "S11-TRAINING", "S11-SUPERVISION", "S11-ALLEGATIONS",
    }  # fmt: skip
    response = signed_in_client.get(url, {"q": "nothing matches this"})
    assert "0 metrics found" in text_of(response)
    assert "No metric matches" in text_of(response)


def test_the_metric_list_filters_by_what_a_metric_is_and_whom_it_applies_to(signed_in_client, framework):
    other = FrameworkFactory(name="Luton quality specification")
    maternity = MetricFactory(
        framework=other, audit=True, code="LUT-AUDIT", frequency="annually", group="Records",
        provider_types=[ProviderType.objects.get(code="acute")], services=[Service.objects.get(code="maternity")],
    )  # fmt: skip
    url = reverse("standards:metric_list")
    everything = {"S11-TRAINING", "S11-SUPERVISION", "S11-ALLEGATIONS", "LUT-AUDIT"}
    assert set(metric_codes(signed_in_client.get(url))) == everything
    assert metric_codes(signed_in_client.get(url, {"framework": other.pk})) == ["LUT-AUDIT"]
    assert metric_codes(signed_in_client.get(url, {"kind": "count"})) == ["S11-ALLEGATIONS"]
    assert metric_codes(signed_in_client.get(url, {"frequency": "annually"})) == ["LUT-AUDIT"]
    assert metric_codes(signed_in_client.get(url, {"group": "Records"})) == ["LUT-AUDIT"]
    # A metric with no provider types or services listed applies to all of them.
    assert set(metric_codes(signed_in_client.get(url, {"provider_type": "acute"}))) == everything
    assert "LUT-AUDIT" not in metric_codes(signed_in_client.get(url, {"provider_type": "community"}))
    assert "LUT-AUDIT" not in metric_codes(signed_in_client.get(url, {"service": "children"}))
    assert metric_codes(signed_in_client.get(url, {"service": "maternity", "kind": "audit"})) == [maternity.code]
    page = text_of(signed_in_client.get(url, {"kind": "audit"}))
    assert "1 metric found" in page
    assert "LUT-AUDIT" in page


def test_the_metric_list_explains_a_filter_it_cannot_use(signed_in_client, framework):
    response = signed_in_client.get(reverse("standards:metric_list"), {"kind": "made-up"})
    page = text_of(response)
    assert page.startswith("Error: Metrics")
    assert "There is a problem Choose a kind of metric from the list." in page
    assert 'href="#id_kind"' in response.content.decode()
    assert 'aria-describedby="id_kind-error"' in response.content.decode()


def test_the_metric_list_is_paginated_keeping_the_filters(signed_in_client):
    framework = FrameworkFactory()
    for number in range(55):
        MetricFactory(framework=framework, code=f"P-{number:02d}", title=f"Paged metric {number}")
    url = reverse("standards:metric_list")
    first = signed_in_client.get(url, {"q": "paged"})
    assert len(first.context["metrics"]) == 50
    assert "Page 1 of 2" in text_of(first)
    assert "?q=paged&amp;page=2" in first.content.decode()
    second = signed_in_client.get(url, {"q": "paged", "page": 2})
    assert metric_codes(second) == [f"P-{number}" for number in range(50, 55)]


# ------------------------------------------------------------------------------------------ query counts


def count_queries(client, url, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params).status_code == 200
    return len(queries)


def test_the_framework_page_asks_the_same_number_of_queries_however_large(signed_in_client, catalogue_of_size):
    small, large = catalogue_of_size(2), catalogue_of_size(20)
    assert Standard.objects.filter(framework=large).count() == 40
    assert count_queries(signed_in_client, small.get_absolute_url()) == count_queries(
        signed_in_client, large.get_absolute_url()
    )


def test_the_metric_pages_ask_the_same_number_of_queries_however_many_metrics(signed_in_client, catalogue_of_size):
    url = reverse("standards:metric_list")
    small = catalogue_of_size(2)
    small_standard = small.standards.filter(parent=None).first()
    counts_small = [
        count_queries(signed_in_client, url),
        count_queries(signed_in_client, url, framework=small.pk, provider_type="acute"),
        count_queries(signed_in_client, small_standard.get_absolute_url()),
        count_queries(signed_in_client, small.metrics.first().get_absolute_url()),
        count_queries(signed_in_client, reverse("standards:framework_list")),
    ]
    large = catalogue_of_size(20)
    assert Metric.objects.filter(framework=large).count() == 40
    large_standard = large.standards.filter(parent=None).first()
    counts_large = [
        count_queries(signed_in_client, url),
        count_queries(signed_in_client, url, framework=large.pk, provider_type="acute"),
        count_queries(signed_in_client, large_standard.get_absolute_url()),
        count_queries(signed_in_client, large.metrics.first().get_absolute_url()),
        count_queries(signed_in_client, reverse("standards:framework_list")),
    ]
    assert counts_small == counts_large
