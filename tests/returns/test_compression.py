"""Pages and API answers travel gzip-compressed to a browser that accepts it, and plain to one that does not;
files that are compressed already (Excel workbooks, PDFs) are sent as they are."""

import gzip
import json

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

GZIP = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}


def page_and_api(draft):
    return [reverse("returns:return_detail", args=[draft.pk]), f"/api/v1/returns/{draft.pk}/"]


def test_the_return_page_and_its_api_answer_come_gzipped_when_asked(as_person, draft):
    client = as_person("riverside_contributor")
    page, api = page_and_api(draft)

    response = client.get(page, **GZIP)
    assert response.status_code == 200 and response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    html = gzip.decompress(response.content).decode()
    assert "<form" in html and "csrfmiddlewaretoken" in html
    assert len(response.content) < len(html) / 4, "a page of repeated markup should shrink to well under a quarter"

    response = client.get(api, **GZIP)
    assert response.status_code == 200 and response["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(response.content))["id"] == draft.pk


def test_without_accept_encoding_the_page_and_api_answer_are_plain(as_person, draft):
    client = as_person("riverside_contributor")
    page, api = page_and_api(draft)
    response = client.get(page)
    assert response.status_code == 200 and not response.has_header("Content-Encoding")
    assert "<form" in response.content.decode()
    response = client.get(api)
    assert response.status_code == 200 and not response.has_header("Content-Encoding")
    assert json.loads(response.content)["id"] == draft.pk


def test_an_excel_workbook_is_sent_as_it_is_even_to_a_browser_that_accepts_gzip(as_person, draft):
    response = as_person("riverside_contributor").get(reverse("returns:workbook_download", args=[draft.pk]), **GZIP)
    assert response.status_code == 200 and not response.has_header("Content-Encoding")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body[:2] == b"PK"  # the workbook's own zip container, untouched
