"""Reporting periods follow the NHS financial year; unusual values and evidence files are checked."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from returns.checks import unusual_value_warning
from returns.evidence import MAX_EVIDENCE_BYTES, check_evidence_file
from returns.models import ReportingPeriod, quarter_dates
from tests import hostile_files


@pytest.mark.parametrize(
    "quarter,start,end",
    [
        (1, datetime.date(2025, 4, 1), datetime.date(2025, 6, 30)),
        (2, datetime.date(2025, 7, 1), datetime.date(2025, 9, 30)),
        (3, datetime.date(2025, 10, 1), datetime.date(2025, 12, 31)),
        (4, datetime.date(2026, 1, 1), datetime.date(2026, 3, 31)),
    ],
)
def test_quarters_follow_the_nhs_financial_year(quarter, start, end):
    assert quarter_dates(2025, quarter) == (start, end)


@pytest.mark.django_db
def test_a_period_is_labelled_as_people_say_it_and_locks_on_its_lock_date(q2):
    assert q2.label == "Q2 2025/26 (July to September 2025)"
    assert not q2.is_locked(datetime.date(2025, 11, 29))
    assert q2.is_locked(datetime.date(2025, 11, 30))
    q2.reopened_until = datetime.date(2025, 12, 5)
    assert not q2.is_locked(datetime.date(2025, 12, 5))
    assert q2.is_locked(datetime.date(2025, 12, 6))


@pytest.mark.django_db
def test_a_deadline_inside_the_quarter_is_refused(db):
    period = ReportingPeriod(
        financial_year=2025,
        quarter=3,
        submission_deadline=datetime.date(2025, 12, 1),
        lock_date=datetime.date(2026, 1, 31),
    )
    with pytest.raises(ValidationError, match="after the quarter ends on 31 December 2025"):
        period.full_clean()


class Period:
    def __init__(self, label):
        self.label = label


RECENT_100 = [(Period("Q1 2025/26 (April to June 2025)"), {"numerator": 50, "denominator": 50})] * 2


@pytest.mark.parametrize(
    "numerator,warns",
    [(100, False), (81, False), (80, True), (40, True)],  # 20 points from the recent average is unusual
)
def test_a_percentage_far_from_recent_periods_is_unusual(numerator, warns):
    warning = unusual_value_warning("percentage", {"numerator": numerator, "denominator": 100}, RECENT_100)
    assert bool(warning) is warns
    if warns:
        assert f"This comes to {numerator}.0%, far from your recent figures (100.0% in Q1 2025/26" in warning


def test_counts_are_unusual_only_when_they_jump():
    recent = [(Period("Q1"), {"count": 4}), (Period("Q4"), {"count": 6})]
    assert not unusual_value_warning("count", {"count": 17}, recent)
    assert unusual_value_warning("count", {"count": 18}, recent)
    assert not unusual_value_warning("count", {"count": 0}, recent)


def test_nothing_to_compare_with_is_never_unusual():
    assert unusual_value_warning("percentage", {"numerator": 1, "denominator": 100}, []) == ""
    assert unusual_value_warning("narrative", {"text": "x"}, RECENT_100) == ""


@pytest.mark.parametrize(
    "name,content,content_type",
    [
        ("policy.pdf", hostile_files.pdf(), "application/pdf"),
        (
            "policy.docx",
            hostile_files.docx(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("photo.png", hostile_files.image("PNG"), "image/png"),
        ("scan.jpg", hostile_files.image("JPEG"), "image/jpeg"),
    ],
)
def test_allowed_files_are_recognised_by_their_content(name, content, content_type):
    assert check_evidence_file(SimpleUploadedFile(name, content)) == content_type


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("policy.pdf", b"MZ\x90\x00 a program renamed", "must be a PDF, Word, Excel, PNG or JPEG file"),
        ("notes.txt", b"plain text", "must be a PDF, Word, Excel, PNG or JPEG file"),
        ("archive.docx", b"PK\x03\x04 not really a zip", "must be a PDF, Word, Excel, PNG or JPEG file"),
        ("empty.pdf", b"", "is empty"),
        ("old.doc", bytes.fromhex("D0CF11E0A1B11AE1") + b"0" * 20, "is in the old Word format"),
    ],
)
def test_other_files_are_refused_in_plain_english(name, content, message):
    with pytest.raises(ValidationError, match=message):
        check_evidence_file(SimpleUploadedFile(name, content))


def test_files_over_the_size_limit_are_refused():
    with pytest.raises(ValidationError, match="larger than 10 MB"):
        check_evidence_file(SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * MAX_EVIDENCE_BYTES))
