"""Write catalogue documents, one JSON file per framework version."""

import json
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

from standards.catalogue import export_framework
from standards.models import Framework


def document_text(document: dict) -> str:
    """The canonical text of a catalogue document, as the fixtures hold it."""
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


class Command(BaseCommand):
    help = (
        "Export framework versions as catalogue documents (JSON, see docs/catalogue-format.md) into a folder, "
        "one file per version, or print one document with --print."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output-dir", default="fixtures/catalogue", help="Folder to write into.")
        parser.add_argument("--code", help="Only this framework code.")
        parser.add_argument(
            "--framework-version", dest="framework_version", help="Only this version (with --code), e.g. 2019/20."
        )
        parser.add_argument(
            "--print", dest="to_stdout", action="store_true", help="Print one document instead of writing files."
        )

    def handle(self, *args, output_dir, code=None, framework_version=None, to_stdout=False, **options):
        frameworks = Framework.objects.order_by("position", "code", "effective_from")
        if code:
            frameworks = frameworks.filter(code=code)
        if framework_version:
            frameworks = frameworks.filter(version=framework_version)
        frameworks = list(frameworks)
        if not frameworks:
            raise CommandError("No framework matches; `manage.py load_catalogue` loads the shipped catalogue.")
        if to_stdout:
            if len(frameworks) > 1:
                raise CommandError("--print prints one document: name it with --code (and --framework-version).")
            self.stdout.write(document_text(export_framework(frameworks[0])), ending="")
            return
        folder = Path(output_dir)
        folder.mkdir(parents=True, exist_ok=True)
        versions_per_code = Counter(fw.code for fw in frameworks)
        for fw in frameworks:
            name = fw.code if versions_per_code[fw.code] == 1 else f"{fw.code}-{slugify(fw.version)}"
            path = folder / f"{name}.json"
            path.write_text(document_text(export_framework(fw)), encoding="utf-8")
            self.stdout.write(f"Wrote {path}")
