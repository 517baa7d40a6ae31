"""Stored RAG status of submitted returns, and what designated professionals do when they review them.

Each computation of a return is a :class:`RagRun` with a row per answer, standard and framework. A new run is
written whole in one transaction and then made current, so a computation killed midway leaves the previous
result in place; a run whose inputs and results match the current one is not written at all (idempotent).

Review acts are records with their change history: an :class:`AnswerReview` (a reviewer agreed with an answer's
status, or set another colour with a reason), an :class:`AnswerComment` (reviewers and the provider's own people
talk about an answer), a :class:`ReturnAcceptance`, and an :class:`ActionFollowUp` of an action the provider
committed to. A review stands while the answer is as the reviewer saw it, and the computation applies it.
:class:`OverdueFlag` records each return found overdue at night; :class:`Reminder` each reminder e-mailed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from providers.models import Organisation
from returns.models import ActionPlanItem, ReportingPeriod, Return, Submission
from standards.models import Framework, Metric, Standard

from .rag import Colour, Direction


class ReviewDecision(models.TextChoices):
    AGREED = "agreed", "Agreed"
    OVERRIDDEN = "overridden", "Status changed"


#: The colours a reviewer can set.
REVIEW_COLOURS = (Colour.RED, Colour.AMBER, Colour.GREEN)


class RagRunQuerySet(models.QuerySet):
    def current(self):
        return self.filter(is_current=True)


class RagRun(models.Model):
    """One computation of a return's RAG status, judging one submission against the catalogue version in force."""

    provider_return = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="rag_runs")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="rag_runs")
    computed_at = models.DateTimeField(default=timezone.now)
    fingerprint = models.CharField(max_length=64, help_text="A digest of everything the run found, to spot no change.")
    colour = models.CharField(max_length=10, choices=Colour.choices)
    explanation = models.CharField(max_length=300)
    is_current = models.BooleanField(default=False)

    objects = RagRunQuerySet.as_manager()

    class Meta:
        ordering = ["provider_return", "-computed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider_return"], condition=Q(is_current=True), name="rag_one_current_run_per_return"
            ),
        ]

    def __str__(self):
        return f"RAG of {self.provider_return} ({self.get_colour_display()})"


class AnswerStatus(models.Model):
    """The status of one answer in a run: the colour shown (a reviewer's, if they changed it) and the rules' own."""

    run = models.ForeignKey(RagRun, on_delete=models.CASCADE, related_name="answers")
    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="+")
    colour = models.CharField(max_length=10, choices=Colour.choices)
    computed_colour = models.CharField(
        max_length=10, choices=Colour.choices, help_text="The colour the rules gave, before any reviewer's change."
    )
    computed_rule = models.CharField(max_length=300, blank=True, help_text="The rule that gave the computed colour.")
    review_decision = models.CharField(max_length=20, choices=ReviewDecision.choices, blank=True)
    value = models.CharField(max_length=200, blank=True)
    threshold = models.CharField(max_length=200, blank=True)
    rule = models.TextField(blank=True, help_text="The rule that gave the colour shown, or the reviewer's reason.")
    direction = models.CharField(max_length=10, choices=Direction.choices, blank=True)
    direction_is_better = models.BooleanField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "metric"], name="rag_answer_once_per_run")]
        # The dashboard's and reports' exceptions: each run's red answers, found (and counted) without reading the
        # run's other answers.
        indexes = [models.Index(fields=["run"], condition=Q(colour="red"), name="rag_red_answers_by_run")]

    def __str__(self):
        return f"{self.metric.code}: {self.get_colour_display()}"


class StandardStatus(models.Model):
    run = models.ForeignKey(RagRun, on_delete=models.CASCADE, related_name="standards")
    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="+")
    colour = models.CharField(max_length=10, choices=Colour.choices)
    explanation = models.CharField(max_length=300)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "standard"], name="rag_standard_once_per_run")]

    def __str__(self):
        return f"Standard {self.standard.number}: {self.get_colour_display()}"


class FrameworkStatus(models.Model):
    run = models.ForeignKey(RagRun, on_delete=models.CASCADE, related_name="frameworks")
    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="+")
    colour = models.CharField(max_length=10, choices=Colour.choices)
    explanation = models.CharField(max_length=300)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "framework"], name="rag_framework_once_per_run")]

    def __str__(self):
        return f"{self.framework.short_name}: {self.get_colour_display()}"


class AnswerReview(models.Model):
    """A designated professional's judgement of one answer: agreed with its status, or set another colour.

    One per answer of a return; a later judgement replaces it and the change history keeps every one. It stands
    while the answer in the latest submission has the values the reviewer saw (``values_reviewed``): an answer the
    provider changed in a revised return is judged by the rules again until someone reviews it again.
    """

    provider_return = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="answer_reviews")
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="+")
    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="+")
    values_reviewed = models.JSONField(null=True, blank=True, help_text="The answer's values as the reviewer saw them.")
    decision = models.CharField(max_length=20, choices=ReviewDecision.choices)
    colour = models.CharField(
        max_length=10, choices=[(c.value, c.label) for c in REVIEW_COLOURS], blank=True,
        help_text="The colour the reviewer set; empty when they agreed.",
    )  # fmt: skip
    reason = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["provider_return", "metric"]
        constraints = [
            models.UniqueConstraint(fields=["provider_return", "metric"], name="review_once_per_answer"),
            models.CheckConstraint(
                condition=Q(decision=ReviewDecision.AGREED, colour="")
                | (Q(decision=ReviewDecision.OVERRIDDEN, colour__in=REVIEW_COLOURS) & ~Q(reason="")),
                name="review_override_has_colour_and_reason",
                violation_error_message="A changed status needs its colour and the reason; an agreement has neither.",
            ),
        ]

    def __str__(self):
        return f"{self.get_decision_display()}: {self.metric.code} in {self.provider_return}"


class AnswerComment(models.Model):
    """A comment on an answer, by a designated professional or one of the provider's people; both see it."""

    provider_return = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="comments")
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["provider_return", "created_at", "id"]
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="comment_text_not_empty")]

    def __str__(self):
        return f"Comment on {self.metric.code} by {self.author}"


class ReturnAcceptance(models.Model):
    """A designated professional accepting a submission of a return as the provider's assurance for the period."""

    provider_return = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="acceptances")
    submission = models.OneToOneField(Submission, on_delete=models.PROTECT, related_name="acceptance")
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["provider_return", "accepted_at"]

    def __str__(self):
        return f"{self.provider_return} accepted"


class ActionFollowUp(models.Model):
    """A reviewer's follow-up of an action in a provider's action plan: done or not, with a note."""

    item = models.OneToOneField(ActionPlanItem, on_delete=models.CASCADE, related_name="follow_up")
    is_done = models.BooleanField(default=False)
    done_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["item"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_done=True, done_on__isnull=False) | Q(is_done=False, done_on__isnull=True),
                name="follow_up_done_on_when_done",
            ),
        ]

    def __str__(self):
        return f"{'Done' if self.is_done else 'Not done'}: {self.item}"


class OverdueState(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    DRAFT = "draft", "A draft, not submitted"
    LATE = "late", "Submitted after the deadline"


class OverdueFlag(models.Model):
    """A provider's return for a period found overdue (nothing submitted by the deadline) by the nightly check.

    A record of who was overdue and when it was found; pages work out overdue and late from the deadline and the
    submissions themselves, so they never wait for the night.
    """

    provider = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="overdue_flags")
    period = models.ForeignKey(ReportingPeriod, on_delete=models.CASCADE, related_name="overdue_flags")
    found_on = models.DateField(default=timezone.localdate)
    found_as = models.CharField(
        max_length=20, choices=OverdueState.choices, help_text="How the return stood when it was found overdue."
    )

    class Meta:
        ordering = ["-period__ends_on", "provider__name"]
        constraints = [models.UniqueConstraint(fields=["provider", "period"], name="overdue_once_per_period")]

    def __str__(self):
        return f"{self.provider.name} overdue for {self.period.label}"


class Reminder(models.Model):
    """A reminder e-mailed to a provider's safeguarding leads about a return not yet submitted."""

    period = models.ForeignKey(ReportingPeriod, on_delete=models.CASCADE, related_name="reminders")
    provider = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="reminders")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)
    recipients = models.JSONField(default=list, help_text="The addresses the reminder was sent to.")

    class Meta:
        ordering = ["-sent_at"]

    def __str__(self):
        return f"Reminder to {self.provider.name} for {self.period.label}"


# Recompute jobs.


class RecomputeReason(models.TextChoices):
    THRESHOLD = "threshold", "A threshold changed"
    SWEEP = "sweep", "Statuses missing or out of date (the sweep)"
    COMMAND = "command", "The recompute_rag command"


class RecomputeState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    FINISHED_WITH_FAILURES = "failures", "Finished, with failures"


class RecomputeJob(models.Model):
    """The RAG of many returns computed again, as chunks that Celery workers share (:class:`RecomputeChunk`).

    A threshold changed, the sweep of statuses missing or out of date, or the ``recompute_rag`` command makes one.
    Each chunk done adds to the counters here in the transaction that stores its runs, so the counters say exactly
    how far along the job is; the last chunk done finishes it.
    """

    reason = models.CharField(max_length=20, choices=RecomputeReason.choices)
    description = models.CharField(max_length=300, help_text="Why, in words: what changed, by whom.")
    framework = models.ForeignKey(
        Framework, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The framework version whose threshold changed.",
    )  # fmt: skip
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=20, choices=RecomputeState.choices, default=RecomputeState.QUEUED)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    returns_total = models.PositiveIntegerField(default=0)
    returns_done = models.PositiveIntegerField(default=0, help_text="Judged, whether or not their status changed.")
    returns_changed = models.PositiveIntegerField(default=0, help_text="Judged, with a status that changed.")
    returns_failed = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(chunks_done__lte=models.F("chunks_total")), name="recompute_chunks_done_of_total"
            ),
            models.CheckConstraint(
                condition=Q(returns_done__lte=models.F("returns_total")), name="recompute_returns_done_of_total"
            ),
        ]

    def __str__(self):
        return f"Recompute {self.pk}: {self.description}"

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None


class ChunkState(models.TextChoices):
    QUEUED = "queued", "Queued"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class RecomputeChunk(models.Model):
    """A part of a :class:`RecomputeJob`: up to ``RAG_BATCH_SIZE`` returns judged in one pass by one Celery task.

    Done once: a copy of its task delivered again (a worker died, the sweep sent it again) finds it done and leaves
    it. ``failures`` maps each return that could not be judged to the reason, in words.
    """

    job = models.ForeignKey(RecomputeJob, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    return_ids = models.JSONField(help_text="The ids of the returns this chunk judges.")
    state = models.CharField(max_length=10, choices=ChunkState.choices, default=ChunkState.QUEUED)
    sent_at = models.DateTimeField(null=True, blank=True, help_text="When its task was last sent; empty if never.")
    done_at = models.DateTimeField(null=True, blank=True)
    failures = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["job", "number"]
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="recompute_chunk_once_per_job")]
        indexes = [models.Index(fields=["state", "sent_at"], name="recompute_chunk_pending")]

    def __str__(self):
        return f"Chunk {self.number} of job {self.job_id}"


# Assurance reports.


class ReportKind(models.TextChoices):
    COMMITTEE = "committee", "Committee report"
    PROVIDER = "provider", "Provider report"


class ReportState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RENDERING = "rendering", "Being made"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


def report_path(instance, filename: str) -> str:
    return f"reports/{instance.pk}/{filename}"


class AssuranceReportQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view_assurance"):
        """Reports ``user`` may see: committee reports of commissioners whose assurance they see, provider reports of
        providers whose assurance they see for the report's period (their own provider's, for a provider's people)."""
        from providers.scoping import (
            commissioners_reached,
            is_signed_in,
            organisations_with_permission,
            period_sight,
            sees_everything,
        )

        if not is_signed_in(user):
            return self.none()
        if sees_everything(user):
            return self
        commissioners = commissioners_reached(organisations_with_permission(user, "view_assurance"))
        # A provider report is of a period: through a contract, only from the contract's start (see scoping).
        return self.filter(
            Q(kind=ReportKind.COMMITTEE, commissioner__in=commissioners)
            | (Q(kind=ReportKind.PROVIDER) & period_sight(user, "assurance", "provider", "period"))
        )


class AssuranceReport(models.Model):
    """A PDF assurance report for a period: a committee's (one commissioner) or one provider's.

    It records the data as it was when it was made: every figure it shows is gathered into ``snapshot`` by the job,
    the PDF is rendered from the snapshot and kept, and a report once ready is never made again or changed.
    """

    kind = models.CharField(max_length=20, choices=ReportKind.choices)
    commissioner = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="committee_reports"
    )
    provider = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="provider_reports"
    )
    period = models.ForeignKey(ReportingPeriod, on_delete=models.PROTECT, related_name="assurance_reports")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=20, choices=ReportState.choices, default=ReportState.QUEUED)
    failure_reason = models.TextField(blank=True, help_text="Why the report could not be made, in plain English.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to=report_path, max_length=300, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True, help_text="Bytes.")
    page_count = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    snapshot = models.JSONField(null=True, blank=True, help_text="The data the report was rendered from.")

    objects = AssuranceReportQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["snapshot"])

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=ReportKind.COMMITTEE, commissioner__isnull=False, provider__isnull=True)
                | Q(kind=ReportKind.PROVIDER, provider__isnull=False, commissioner__isnull=True),
                name="report_subject_matches_kind",
                violation_error_message="A committee report is of a commissioner; a provider report of a provider.",
            ),
            models.CheckConstraint(
                condition=~Q(state=ReportState.READY) | (~Q(file="") & ~Q(sha256="")),
                name="report_ready_has_its_file",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} of {self.subject} for {self.period.label}"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("reviews:report_detail", kwargs={"pk": self.pk})

    @property
    def subject(self) -> Organisation:
        return self.commissioner if self.kind == ReportKind.COMMITTEE else self.provider

    @property
    def is_finished(self) -> bool:
        return self.state in (ReportState.READY, ReportState.FAILED)

    @property
    def filename(self) -> str:
        return f"{self.stem}.{'zip' if self.kind == ReportKind.COMMITTEE else 'pdf'}"

    @property
    def stem(self) -> str:
        """The start of the name of every file of the report: subject, kind, year, quarter and number."""
        period = self.period
        year = period.financial_year_label.replace("/", "-")
        return f"{self.subject.ods_code}-{self.kind}-report-{year}-Q{period.quarter}-{self.pk}"


class ReportPartKind(models.TextChoices):
    FRONT = "front", "Front section"
    ANNEX = "annex", "Annex workbook"
    APPENDIX = "appendix", "Provider appendix"


def part_path(instance, filename: str) -> str:
    return f"reports/{instance.report_id}/parts/{filename}"


class ReportPart(models.Model):
    """One piece of a committee pack, made by its own Celery task: the front section (PDF), the annex workbook, or
    one provider's appendix (that provider's own provider report, PDF).

    ``snapshot`` is the data the part is drawn from and ``snapshot_sha256`` its digest (without when and by whom it
    was asked for): a part whose digest matches a part already made is not made again, its file is reused.
    """

    report = models.ForeignKey(AssuranceReport, on_delete=models.CASCADE, related_name="parts")
    kind = models.CharField(max_length=20, choices=ReportPartKind.choices)
    provider = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="report_parts"
    )
    position = models.PositiveIntegerField(default=0, help_text="Its place in the pack.")
    state = models.CharField(max_length=20, choices=ReportState.choices, default=ReportState.QUEUED)
    failure_reason = models.TextField(blank=True)
    snapshot = models.JSONField(null=True, blank=True, help_text="The data the part is drawn from.")
    snapshot_sha256 = models.CharField(max_length=64, help_text="A digest of the snapshot, to spot no change.")
    reused_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="The earlier part with the same snapshot whose file this part reuses.",
    )  # fmt: skip
    file = models.FileField(upload_to=part_path, max_length=300, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True, help_text="Bytes.")
    page_count = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["report", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["report", "position"], name="report_part_one_per_position"),
            models.CheckConstraint(
                condition=Q(kind="appendix", provider__isnull=False) | (~Q(kind="appendix") & Q(provider__isnull=True)),
                name="report_part_appendix_has_its_provider",
            ),
            models.CheckConstraint(
                condition=~Q(state=ReportState.READY) | (~Q(file="") & ~Q(sha256="")),
                name="report_part_ready_has_its_file",
            ),
        ]
        indexes = [models.Index(fields=["kind", "snapshot_sha256"], name="report_part_by_snapshot")]

    def __str__(self):
        if self.kind == ReportPartKind.APPENDIX:
            return f"Appendix of report {self.report_id}: {self.provider}"
        return f"{self.get_kind_display()} of report {self.report_id}"

    @property
    def extension(self) -> str:
        return "xlsx" if self.kind == ReportPartKind.ANNEX else "pdf"

    @property
    def content_type(self) -> str:
        if self.kind == ReportPartKind.ANNEX:
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return "application/pdf"


class KeyMeasure(models.Model):
    """A metric whose trend every committee report charts (training, DBS checks, supervision), matched by code."""

    metric_code = models.CharField(max_length=60, unique=True)
    heading = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "metric_code"]

    def __str__(self):
        return f"{self.heading} ({self.metric_code})"
