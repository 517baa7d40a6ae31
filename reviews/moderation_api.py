"""The REST API of moderation: each provider's self-assessment grades beside the reviewers' judgements, as the
moderation page shows them (``/api/v1/moderation/``, route name ``moderation-list``).

Read-only, with the page's filters and their messages (400 in the error shape of the returns API), and its paging:
50 providers a page (``page_size`` up to 500); a page out of range is not found (404). The counts cover every
provider matching the filters; the person sees only the providers they may see.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from returns.api import Problems
from returns.serializers import PeriodSummarySerializer
from standards.models import ProviderType

from . import dashboard as board
from . import moderation as panel
from .api import PERIOD, choice_asked, commissioner_asked, period_asked

NO_SUCH_PROVIDER_TYPE = "There is no such type of provider."
NAME_TOO_LONG = "Enter a provider name of 200 characters or fewer."


class TallySerializer(serializers.Serializer):
    higher = serializers.IntegerField(help_text="Providers who graded themselves higher than the reviewer.")
    lower = serializers.IntegerField(help_text="Providers who graded themselves lower than the reviewer.")
    agreed = serializers.IntegerField(help_text="Grades the reviewer agreed with (or set the same).")
    not_reviewed = serializers.IntegerField(help_text="Grades not yet reviewed, or changed since.")
    differ = serializers.IntegerField(help_text="Higher and lower together.")


class StandardColumnSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The self-assessment question's code.")
    number = serializers.CharField()
    title = serializers.CharField()
    asked = serializers.BooleanField(source="due", help_text="Whether the self-assessment is asked this period.")
    counts = serializers.SerializerMethodField()

    @extend_schema_field(TallySerializer)
    def get_counts(self, column) -> dict:
        return self.context["tallies"][column.code].as_dict()


class FrameworkGroupSerializer(serializers.Serializer):
    code = serializers.CharField()
    short_name = serializers.CharField()
    name = serializers.CharField()
    counts = TallySerializer(source="tally")
    standards = serializers.SerializerMethodField()

    @extend_schema_field(StandardColumnSerializer(many=True))
    def get_standards(self, group) -> list:
        return StandardColumnSerializer(group.columns, many=True, context=self.context).data


class JudgementSerializer(serializers.Serializer):
    framework = serializers.CharField()
    code = serializers.CharField()
    number = serializers.CharField()
    grade = serializers.CharField(help_text="The provider's own grade; empty when it has none.")
    grade_label = serializers.CharField()
    comparison = serializers.ChoiceField(choices=[*panel.COMPARISONS, panel.NO_GRADE])
    judgement = serializers.CharField(help_text="Agreed, Changed to <grade> — <reason>, Not yet reviewed, or why none.")
    judged_grade = serializers.CharField(help_text="The grade the reviewer set, when they changed it.")
    reason = serializers.CharField()
    reviewed_by = serializers.CharField()
    reviewed_on = serializers.CharField()


class ProviderModerationSerializer(serializers.Serializer):
    provider_id = serializers.IntegerField()
    name = serializers.CharField()
    ods_code = serializers.CharField()
    provider_type = serializers.CharField()
    return_id = serializers.IntegerField(allow_null=True)
    return_state = serializers.CharField(source="state")
    differences = serializers.IntegerField()
    standards = serializers.SerializerMethodField()

    @extend_schema_field(JudgementSerializer(many=True))
    def get_standards(self, row) -> list:
        return JudgementSerializer(
            [
                {
                    "framework": group.code, "code": column.code, "number": column.number, "grade": j.grade,
                    "grade_label": j.grade_label, "comparison": j.comparison, "judgement": j.words,
                    "judged_grade": j.judged_grade, "reason": j.reason, "reviewed_by": j.reviewed_by,
                    "reviewed_on": j.reviewed_on,
                }
                for group, pairs in row.groups
                for column, j in pairs
            ],
            many=True,
        ).data  # fmt: skip


class ModerationSerializer(serializers.Serializer):
    """A page of the moderation: DRF's page of providers (count, next, previous, results) with the period and the
    counts by framework and standard over every matching provider."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    period = PeriodSummarySerializer()
    counts = TallySerializer()
    frameworks = FrameworkGroupSerializer(many=True)
    results = ProviderModerationSerializer(many=True)


class ModerationPagination(PageNumberPagination):
    page_size = panel.PROVIDERS_A_PAGE
    page_size_query_param = "page_size"
    max_page_size = 500


class ModerationViewSet(viewsets.ViewSet):
    """Each provider's own grade of each Section 11 and adult standard beside the reviewer's judgement, a page at a
    time, with the counts where they differ. Filters as on the page: ``period`` (an id), ``commissioner`` (an
    organisation id), ``provider_type`` and ``framework`` (codes) and ``provider`` (part of the name)."""

    pagination_class = ModerationPagination

    @extend_schema(
        parameters=[
            PERIOD,
            OpenApiParameter("commissioner", OpenApiTypes.INT, description="A commissioner's id."),
            OpenApiParameter("provider_type", OpenApiTypes.STR, description="A provider type's code."),
            OpenApiParameter("framework", OpenApiTypes.STR, enum=list(panel.MODERATED_FRAMEWORKS)),
            OpenApiParameter("provider", OpenApiTypes.STR, description="All or part of a provider's name."),
            OpenApiParameter(
                "sort", OpenApiTypes.STR, enum=list(panel.SORTS), description="name (the default) or differences."
            ),
            OpenApiParameter("page", OpenApiTypes.INT, description="A page of providers."),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="Providers a page, up to 500 (50)."),
        ],
        responses=ModerationSerializer,
    )
    def list(self, request, format=None):
        params = request.query_params
        period = period_asked(request)
        commissioner = commissioner_asked(request)
        provider_type = params.get("provider_type", "").strip() or None
        if provider_type and not ProviderType.objects.filter(code=provider_type).exists():
            raise Problems(fields={"provider_type": NO_SUCH_PROVIDER_TYPE})
        framework = choice_asked(request, "framework", panel.MODERATED_FRAMEWORKS, board.NO_SUCH_FRAMEWORK)
        search = params.get("provider", "").strip()
        if len(search) > 200:
            raise Problems(fields={"provider": NAME_TOO_LONG})
        sort = choice_asked(request, "sort", panel.SORTS, panel.NO_SUCH_SORT) or panel.SORT_BY_NAME
        result = panel.moderation(
            request.user,
            panel.ModerationFilters(
                period,
                commissioner=commissioner,
                provider_type=provider_type,
                framework=framework,
                search=search,
                sort=sort,
            ),
        )
        paginator = ModerationPagination()
        rows = paginator.paginate_queryset(result.providers, request, view=self)
        body = {
            "count": paginator.page.paginator.count,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "period": period,
            "counts": result.total,
            "frameworks": result.frameworks,
            "results": rows,
        }
        return Response(ModerationSerializer(body, context={"tallies": result.tallies}).data)
