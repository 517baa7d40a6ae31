"""Load catalogue documents (one framework version each) into the catalogue, all or nothing."""

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from standards.catalogue import CatalogueImportError, import_catalogues


class Command(BaseCommand):
    help = (
        "Import catalogue documents (JSON, see docs/catalogue-format.md). With no path, loads every file in "
        "fixtures/catalogue/. Every document is checked before anything is changed; importing the same document "
        "again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="Catalogue documents or folders of them.")
        parser.add_argument("--user", help="Username to record in the change history as the importer.")

    def handle(self, *args, paths=(), user=None, **options):
        files = self._files(paths or [Path(__file__).resolve().parents[3] / "fixtures" / "catalogue"])
        documents = []
        for path in files:
            try:
                documents.append((path.name, json.loads(path.read_text(encoding="utf-8"))))
            except (OSError, UnicodeDecodeError) as exc:
                raise CommandError(f"{path}: cannot be read ({exc}).") from exc
            except json.JSONDecodeError as exc:
                raise CommandError(
                    f"{path}: is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
                ) from exc
        history_user = None
        if user:
            history_user = get_user_model().objects.filter(username=user).first()
            if history_user is None:
                raise CommandError(f"There is no user called “{user}”.")
        try:
            results = import_catalogues(documents, user=history_user)
        except CatalogueImportError as refused:
            raise CommandError(
                "Nothing was imported. Correct these problems and try again:\n"
                + "\n".join(f"  - {e}" for e in refused.errors)
            ) from refused
        for result in results:
            fw = result.framework
            state = "created" if result.created else (f"{result.changes} changes" if result.changed else "unchanged")
            self.stdout.write(
                f"{fw.name} ({fw.version}): {state}; {fw.standards.count()} standards, {fw.metrics.count()} metrics."
            )

    def _files(self, paths):
        files = []
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                files.extend(sorted(path.glob("*.json")))
            elif path.is_file():
                files.append(path)
            else:
                raise CommandError(f"{path}: no such file or folder.")
        if not files:
            raise CommandError("No catalogue documents (*.json) were found.")
        return files
