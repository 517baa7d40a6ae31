"""Judge every submitted return again with the RAG rules as they stand now, and store what changed.

Returns are judged by the set-based computation, :data:`reviews.services.RAG_BATCH_SIZE` at a time, each batch in
one transaction.

An operator runs ``manage.py recompute_rag`` once after a release that changes the rules themselves (as when
percentages came to be judged on their exact value): statuses stored before it keep the old judgement until then.
A return whose result is unchanged is left as it is, so running it twice changes nothing.
"""

from django.core.management.base import BaseCommand

from returns.models import Return
from reviews.models import RagRun
from reviews.services import RAG_BATCH_SIZE, compute_rag_for_returns


class Command(BaseCommand):
    help = "Judge every submitted return again with the current rules; print how many statuses changed."

    def handle(self, *args, **options):
        return_ids = list(Return.objects.filter(submissions__isnull=False).distinct().order_by("pk").values_list(
            "pk", flat=True))  # fmt: skip
        judged = changed = 0
        for start in range(0, len(return_ids), RAG_BATCH_SIZE):
            batch = return_ids[start : start + RAG_BATCH_SIZE]
            current = RagRun.objects.current().filter(provider_return_id__in=batch)
            was = dict(current.values_list("provider_return_id", "pk"))
            runs = compute_rag_for_returns(batch)
            judged += len(batch)
            changed += sum(run is not None and run.pk != was.get(pk) for pk, run in runs.items())
        self.stdout.write(f"Judged {judged} submitted returns again; {changed} had a status that changed.")
