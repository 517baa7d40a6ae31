"""The moderation page: for a period, each provider's own grade of each Section 11 and adult standard beside the
reviewer's judgement, with counts where they differ, as a safeguarding partnership's moderation panel reads it.

It reads from :func:`reviews.moderation.moderation`, already narrowed to the providers the person may see, with the
dashboard's filters (a GET form that works without JavaScript), 50 providers a page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse

from .. import moderation as panel
from .dashboards import (
    AssuranceFilterForm,
    dashboard_crumb,
    filters_asked,
    home_crumb,
    link,
    pagination,
    provider_name_field,
)

#: The tag colour of each comparison (its words are always shown with it).
COMPARISON_COLOURS = {
    panel.HIGHER: "orange",
    panel.LOWER: "blue",
    panel.AGREED: "green",
    panel.NOT_REVIEWED: "grey",
}
#: The words of each comparison's tag, short enough for a cell.
COMPARISON_TAGS = {
    panel.HIGHER: "Graded higher",
    panel.LOWER: "Graded lower",
    panel.AGREED: "Agreed",
    panel.NOT_REVIEWED: "Not yet reviewed",
}


class ModerationFilterForm(AssuranceFilterForm):
    """The dashboard's filters (period, commissioner, type of provider, provider name), with the framework narrowed
    to the two whose standards are moderated."""

    provider = provider_name_field()

    def __init__(self, data, **kwargs):
        super().__init__(data, **kwargs)
        framework = self.fields["framework"]
        framework.choices = [("", "Both frameworks")] + [
            (code, name) for code, name in framework.choices if code in panel.MODERATED_FRAMEWORKS
        ]


@dataclass
class CellOnPage:
    column: panel.StandardColumn
    judgement: panel.Judgement
    url: str  # the answer's review, when there is a grade to review
    tag_colour: str
    tag: str


def cells_on_page(row: panel.ProviderModeration) -> list[tuple[panel.FrameworkGroup, list[CellOnPage]]]:
    """A row's cells, each with its link to the answer's review and the tag saying how the grades compare."""
    shown = []
    for group, pairs in row.groups:
        cells = []
        for column, judgement in pairs:
            url = ""
            if row.return_id and judgement.grade:
                url = reverse("reviews:answer_review", kwargs={"pk": row.return_id, "code": column.code})
            comparison = judgement.comparison
            cells.append(
                CellOnPage(
                    column, judgement, url, COMPARISON_COLOURS.get(comparison, ""), COMPARISON_TAGS.get(comparison, "")
                )
            )
        shown.append((group, cells))
    return shown


def tally_rows(result: panel.Moderation) -> list[dict]:
    """The counts by framework, each followed by its standards, as the table at the top shows them."""
    rows = []
    for group in result.frameworks:
        rows.append({"framework": group, "label": group.short_name, "tally": group.tally})
        for column in group.columns:
            label = f"{column.label}: {column.title}"
            rows.append({"column": column, "label": label, "tally": result.tallies[column.code]})
    return rows


@login_required
def moderation(request):
    """Each provider's self-assessment of the Section 11 and adult standards beside the reviewer's judgement."""
    filters = filters_asked(request.user, request.GET, ModerationFilterForm)
    path = reverse("reviews:moderation")
    context = {
        "form": filters.form,
        "filters": filters,
        "action": path,
        "breadcrumbs": [home_crumb(), dashboard_crumb(), ("Moderation", None)],
    }
    if filters.period is None:
        return render(request, "reviews/moderation.html", context)
    # The order is chosen by a link, as the dashboard's; an order it does not know lists the providers by name.
    sort = request.GET.get("sort") if request.GET.get("sort") in panel.SORTS else panel.SORT_BY_NAME
    listed = {**filters.query, "sort": "" if sort == panel.SORT_BY_NAME else sort}
    result = panel.moderation(
        request.user,
        panel.ModerationFilters(
            filters.period,
            commissioner=filters.commissioner,
            provider_type=filters.provider_type,
            framework=filters.framework,
            search=filters.search,
            sort=sort,
        ),
    )
    page = Paginator(result.providers, panel.PROVIDERS_A_PAGE).get_page(request.GET.get("page"))
    rows = [
        {
            "row": row,
            "review_url": reverse("reviews:return_review", args=[row.return_id]) if row.return_id else "",
            "groups": cells_on_page(row),
        }
        for row in page.object_list
    ]
    context.update(
        result=result,
        tally_rows=tally_rows(result),
        comparisons=panel.COMPARISONS,
        page=page,
        rows=rows,
        pagination=pagination(page, path, listed, "page", "providers", "Pages of providers", "providers"),
        sorted_by=panel.SORTS[sort],
        orders=[
            {
                "words": words.capitalize(),
                "current": key == sort,
                "url": link(
                    path, {**listed, "sort": "" if key == panel.SORT_BY_NAME else key, "page": ""}, "providers"
                ),
            }
            for key, words in panel.SORTS.items()
        ],
        dashboard_url=link(reverse("reviews:dashboard"), filters.query),
    )
    return render(request, "reviews/moderation.html", context)
