"""Reporting periods, providers' quarterly returns, their answers, action plans and evidence.

One :class:`Return` per provider per :class:`ReportingPeriod` serves every commissioner on the provider's
contracts. Providers' people edit its :class:`Answer` rows while it is a draft; the safeguarding lead submits it,
which freezes a :class:`Submission`: a snapshot of every answer as submitted, never changed afterwards. A return
sent back for revision is edited and submitted again, and each submission stays readable. Every save of an
answer is kept in its change history with who and when.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from providers.models import Organisation
from standards.models import Metric

QUARTER_MONTHS = {1: (4, 6), 2: (7, 9), 3: (10, 12), 4: (1, 3)}
MONTH_NAMES = [
    "", "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December",
]  # fmt: skip


def quarter_dates(financial_year: int, quarter: int) -> tuple[datetime.date, datetime.date]:
    """First and last day of a quarter of the NHS financial year starting in April of ``financial_year``."""
    first_month, last_month = QUARTER_MONTHS[quarter]
    year = financial_year + 1 if quarter == 4 else financial_year
    start = datetime.date(year, first_month, 1)
    end = (datetime.date(year + (last_month == 12), last_month % 12 + 1, 1)) - datetime.timedelta(days=1)
    return start, end


class ReportingPeriodQuerySet(models.QuerySet):
    def current(self, today: datetime.date | None = None):
        """The period whose quarter has most recently ended (returns are made after the quarter)."""
        today = today or timezone.localdate()
        return self.filter(ends_on__lt=today).order_by("-ends_on").first()


class ReportingPeriod(models.Model):
    """A quarter of the NHS financial year (Q1 April–June … Q4 January–March), with its deadline and lock date."""

    financial_year = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(2000), MaxValueValidator(2100)],
        help_text="The year the financial year starts in: 2025 for 2025/26.",
    )
    quarter = models.PositiveSmallIntegerField(choices=[(q, f"Q{q}") for q in (1, 2, 3, 4)])
    starts_on = models.DateField(editable=False)
    ends_on = models.DateField(editable=False)
    submission_deadline = models.DateField(help_text="Returns not submitted by the end of this day are overdue.")
    lock_date = models.DateField(help_text="From this day nothing can be submitted or changed, unless reopened.")
    reopened_until = models.DateField(
        null=True,
        blank=True,
        help_text="An administrator can reopen a locked period until this day; the change is recorded.",
    )

    history = HistoricalRecords()
    objects = ReportingPeriodQuerySet.as_manager()

    class Meta:
        ordering = ["-financial_year", "-quarter"]
        constraints = [
            models.UniqueConstraint(fields=["financial_year", "quarter"], name="period_once_per_quarter"),
            models.CheckConstraint(condition=Q(quarter__gte=1, quarter__lte=4), name="period_quarter_1_to_4"),
            models.CheckConstraint(
                condition=Q(submission_deadline__gt=models.F("ends_on")),
                name="period_deadline_after_quarter_ends",
                violation_error_message="The submission deadline must be after the quarter ends.",
            ),
            models.CheckConstraint(
                condition=Q(lock_date__gte=models.F("submission_deadline")),
                name="period_locks_on_or_after_deadline",
                violation_error_message="The lock date cannot be before the submission deadline.",
            ),
        ]

    def __str__(self):
        return self.label

    def save(self, *args, **kwargs):
        self.starts_on, self.ends_on = quarter_dates(self.financial_year, self.quarter)
        super().save(*args, **kwargs)

    def clean(self):
        if self.financial_year and self.quarter:
            self.starts_on, self.ends_on = quarter_dates(self.financial_year, self.quarter)
            if self.submission_deadline and self.submission_deadline <= self.ends_on:
                raise ValidationError(
                    {"submission_deadline": f"The deadline must be after the quarter ends on {self.ends_on:%-d %B %Y}."}
                )
        if self.submission_deadline and self.lock_date and self.lock_date < self.submission_deadline:
            raise ValidationError({"lock_date": "The lock date cannot be before the submission deadline."})

    @property
    def financial_year_label(self) -> str:
        return f"{self.financial_year}/{(self.financial_year + 1) % 100:02d}"

    @property
    def short_label(self) -> str:
        """“Q1 2025/26”."""
        return f"Q{self.quarter} {self.financial_year_label}"

    @property
    def label(self) -> str:
        first, last = QUARTER_MONTHS[self.quarter]
        year = self.financial_year + 1 if self.quarter == 4 else self.financial_year
        return f"Q{self.quarter} {self.financial_year_label} ({MONTH_NAMES[first]} to {MONTH_NAMES[last]} {year})"

    def is_locked(self, today: datetime.date | None = None) -> bool:
        today = today or timezone.localdate()
        if self.reopened_until and today <= self.reopened_until:
            return False
        return today >= self.lock_date


class ReturnStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    RETURNED = "returned", "Returned for revision"


class ReturnQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view"):
        from providers.scoping import restrict_by_period

        return restrict_by_period(self, user, action)


class Return(models.Model):
    """What one provider submits for one period, serving every commissioner on its contracts."""

    provider = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="returns")
    period = models.ForeignKey(ReportingPeriod, on_delete=models.PROTECT, related_name="returns")
    status = models.CharField(max_length=20, choices=ReturnStatus.choices, default=ReturnStatus.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    objects = ReturnQuerySet.as_manager()

    class Meta:
        ordering = ["-period__financial_year", "-period__quarter", "provider__name"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "period"], name="return_once_per_provider_and_period"),
        ]
        # The dashboard's and reports' reads start from a period's returns, then narrow to providers.
        indexes = [models.Index(fields=["period", "provider"], name="return_by_period_provider")]

    def __str__(self):
        return f"{self.provider.name}, {self.period.label}"

    def get_absolute_url(self):
        return reverse("returns:return_detail", args=[self.pk])

    @property
    def is_editable_by_provider(self) -> bool:
        return self.status in (ReturnStatus.DRAFT, ReturnStatus.RETURNED)


class Answer(models.Model):
    """A provider's answer to one metric in one return. ``values`` hold what the metric's kind asks for."""

    provider_return = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="answers")
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="answers")
    values = models.JSONField(default=dict, blank=True)
    revision = models.PositiveIntegerField(
        default=0, help_text="Goes up by one at every save, so two people editing at once are told, not overwritten."
    )
    unusual_value_confirmed = models.BooleanField(
        default=False, help_text="The person saving confirmed a value far out of line with recent periods."
    )
    unusual_value_note = models.TextField(blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    carried_from = models.ForeignKey(
        "Submission",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The earlier submission this answer was carried forward from; empty once the answer is changed.",
    )
    confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="When someone confirmed the carried-forward answer still holds unchanged."
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["provider_return", "metric__framework__position", "metric__position"]
        constraints = [
            models.UniqueConstraint(fields=["provider_return", "metric"], name="answer_once_per_metric"),
        ]

    def __str__(self):
        return f"{self.metric.code} in {self.provider_return}"

    @property
    def awaits_confirmation(self) -> bool:
        """Carried forward from an earlier quarter and neither confirmed nor changed since."""
        return self.carried_from_id is not None and self.confirmed_at is None


class ActionPlanItem(models.Model):
    """An action a provider commits to where a standard falls short: what, who owns it, by when."""

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="actions")
    action = models.TextField()
    owner = models.CharField(max_length=200)
    due_on = models.DateField()
    position = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["answer", "position", "id"]

    def __str__(self):
        return f"{self.action[:60]} ({self.owner}, by {self.due_on:%-d %b %Y})"


def evidence_path(instance, filename: str) -> str:
    answer = instance.answer
    provider_return = answer.provider_return
    return f"evidence/{provider_return.provider_id}/{provider_return.period_id}/{answer.metric.code}/{filename}"


class Evidence(models.Model):
    """A file attached to an answer, kept in private storage and served only to people who may see the return."""

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to=evidence_path, max_length=300)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100, help_text="The type found by reading the file's content.")
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["answer", "uploaded_at"]
        verbose_name_plural = "evidence"

    def __str__(self):
        return self.original_name


class Submission(models.Model):
    """A return as submitted: a frozen snapshot of every answer, with who submitted it and their declaration."""

    provider_return = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="submissions")
    number = models.PositiveSmallIntegerField(help_text="1 for the first submission, 2 after a first revision…")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(default=timezone.now)
    declaration = models.TextField(help_text="The declaration the safeguarding lead confirmed, word for word.")
    snapshot = models.JSONField(help_text="Every answer, its action plan and evidence as they were submitted.")
    late = models.BooleanField(default=False, help_text="Submitted after the period's deadline.")

    class Meta:
        ordering = ["provider_return", "number"]
        constraints = [
            models.UniqueConstraint(fields=["provider_return", "number"], name="submission_number_once_per_return"),
        ]

    def __str__(self):
        return f"Submission {self.number} of {self.provider_return}"

    def save(self, *args, **kwargs):
        if self.pk and Submission.objects.filter(pk=self.pk).exists():
            raise ValidationError("A submission is a record of what was submitted and cannot be changed.")
        super().save(*args, **kwargs)


class RevisionRequest(models.Model):
    """A designated professional returning a submitted return for revision, with their comments."""

    provider_return = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="revision_requests")
    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="revision_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    comments = models.TextField()

    class Meta:
        ordering = ["provider_return", "requested_at"]

    def __str__(self):
        return f"Revision requested for {self.provider_return}"
