"""Judge every submitted return again with the RAG rules as they stand now, and store what changed.

The returns are judged as one recompute job (:func:`reviews.services.start_recompute`) in chunks of
:data:`reviews.services.RECOMPUTE_CHUNK_SIZE`, each chunk in one transaction: sent to the Celery workers (or run
in this process when there is no broker), with the job's progress printed until it is finished. ``--here`` does
the chunks in this process even with a broker. The job's page in Django admin shows the same progress.

An operator runs ``manage.py recompute_rag`` once after a release that changes the rules themselves (as when
percentages came to be judged on their exact value): statuses stored before it keep the old judgement until then.
A return whose result is unchanged is left as it is, so running it twice changes nothing.
"""

import time

from celery import current_app
from django.core.management.base import BaseCommand

from returns.models import Return
from reviews.models import RecomputeJob, RecomputeReason
from reviews.services import recompute_chunk, start_recompute


class Command(BaseCommand):
    help = "Judge every submitted return again with the current rules; print how many statuses changed."

    def add_arguments(self, parser):
        parser.add_argument("--here", action="store_true", help="Judge the chunks in this process, not on workers.")
        parser.add_argument("--no-wait", action="store_true", help="Send the chunks and stop, without waiting.")
        parser.add_argument("--poll", type=float, default=2.0, help="Seconds between progress lines (default 2).")

    def handle(self, *args, here=False, no_wait=False, poll=2.0, **options):
        here = here or current_app.conf.task_always_eager  # no broker: sending would do them here anyway
        submitted = Return.objects.filter(submissions__isnull=False).distinct()
        return_ids = submitted.order_by("pk").values_list("pk", flat=True)
        job = start_recompute(
            return_ids, reason=RecomputeReason.COMMAND, description="Every submitted return, by recompute_rag",
            send=not here,
        )  # fmt: skip
        if job is None:
            self.stdout.write("Judged 0 submitted returns again; 0 had a status that changed.")
            return
        if here:
            for chunk_id in job.chunks.order_by("number").values_list("pk", flat=True):
                recompute_chunk(chunk_id)
                self.progress(RecomputeJob.objects.get(pk=job.pk))
        elif no_wait:
            self.stdout.write(f"Recompute job {job.pk} sent: {job.chunks_total} chunks, {job.returns_total} returns.")
            return
        shown = None
        while True:
            job.refresh_from_db()
            if job.is_finished:
                break
            if (job.chunks_done, job.returns_done) != shown:
                shown = (job.chunks_done, job.returns_done)
                self.progress(job)
            time.sleep(poll)
        self.stdout.write(
            f"Judged {job.returns_done} submitted returns again; {job.returns_changed} had a status that changed."
        )
        if job.returns_failed:
            self.stderr.write(f"{job.returns_failed} could not be judged: see recompute job {job.pk} in admin.")

    def progress(self, job: RecomputeJob) -> None:
        if not job.is_finished:
            self.stdout.write(
                f"Job {job.pk}: {job.chunks_done} of {job.chunks_total} chunks, "
                f"{job.returns_done} of {job.returns_total} returns judged"
            )
