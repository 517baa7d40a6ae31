"""Stored RAG status of submitted returns, computed by Celery and only read by pages.

Each computation of a return is a :class:`RagRun` with a row per answer, standard and framework. A new run is
written whole in one transaction and then made current, so a computation killed midway leaves the previous
result in place; a run whose inputs and results match the current one is not written at all (idempotent).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from returns.models import Return, Submission
from standards.models import Framework, Metric, Standard

from .rag import Colour, Direction


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
    run = models.ForeignKey(RagRun, on_delete=models.CASCADE, related_name="answers")
    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="+")
    colour = models.CharField(max_length=10, choices=Colour.choices)
    value = models.CharField(max_length=200, blank=True)
    threshold = models.CharField(max_length=200, blank=True)
    rule = models.CharField(max_length=300, blank=True)
    direction = models.CharField(max_length=10, choices=Direction.choices, blank=True)
    direction_is_better = models.BooleanField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "metric"], name="rag_answer_once_per_run")]

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
