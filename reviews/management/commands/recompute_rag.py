"""Judge every submitted return again with the RAG rules as they stand now, and store what changed.

An operator runs ``manage.py recompute_rag`` once after a release that changes the rules themselves (as when
percentages came to be judged on their exact value): statuses stored before it keep the old judgement until then.
A return whose result is unchanged is left as it is, so running it twice changes nothing.
"""

from django.core.management.base import BaseCommand

from returns.models import Return
from reviews.models import RagRun
from reviews.services import compute_return_rag


class Command(BaseCommand):
    help = "Judge every submitted return again with the current rules; print how many statuses changed."

    def handle(self, *args, **options):
        returns = Return.objects.filter(submissions__isnull=False).distinct().select_related("provider", "period")
        judged = changed = 0
        for provider_return in returns.order_by("pk").iterator(chunk_size=200):
            current = RagRun.objects.filter(provider_return=provider_return, is_current=True)
            was = current.values_list("pk", flat=True).first()
            run = compute_return_rag(provider_return)
            judged += 1
            if run is not None and run.pk != was:
                changed += 1
        self.stdout.write(f"Judged {judged} submitted returns again; {changed} had a status that changed.")
