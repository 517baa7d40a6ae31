"""The REST API of dashboards and review: what commissioners read, and the acts of reviewing a return.

Reads come from :mod:`reviews.selectors`, already narrowed to what the person may see. Returns and actions are
looked up from querysets restricted by :mod:`providers.scoping`, so another organisation's is not found (404).
Every act calls :mod:`reviews.services` and answers in the error shape of the returns API (see
:mod:`returns.api`): 400 ``{"errors": {}, "general": [...], "fields": {...}}`` with the service's own words,
403 ``{"detail": ...}`` when the person may see the return but not do this to it, and 409 ``{"detail": ...}`` when
the return was already accepted (a retry, or another reviewer at the same moment).

Routes (names for ``reverse``): ``dashboard-list``, ``completeness-list``, ``completeness-remind``, ``trend-detail``,
``review-detail``, ``review-agree``, ``review-override``, ``review-comment``, ``review-accept``, ``action-list``,
``action-follow-up``; and ``moderation-list`` (:mod:`reviews.moderation_api`).
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from providers.models import Organisation, OrganisationKind
from providers.scoping import ScopedQuerysetMixin, restrict_by_period
from returns.api import Problems, act
from returns.models import ActionPlanItem, ReportingPeriod, Return
from standards.models import Framework, Metric

from . import dashboard as board
from . import selectors, services
from .report_api import ReportViewSet
from .serializers import (
    AcceptedSerializer,
    ActionSerializer,
    AnswerCommentSerializer,
    AnswerReviewSerializer,
    CommentRequestSerializer,
    CompletenessRowSerializer,
    CompletenessSerializer,
    DashboardSerializer,
    FollowUpRequestSerializer,
    FollowUpSerializer,
    MetricRequestSerializer,
    OverrideRequestSerializer,
    RemindersSentSerializer,
    RemindRequestSerializer,
    ReturnReviewSerializer,
    TrendSerializer,
)

PERIOD = OpenApiParameter("period", OpenApiTypes.INT, description="A period's id; empty for the latest ended.")

NO_PERIOD = "Choose a reporting period."
YES_OR_NO = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
UNKNOWN_PERIOD = "There is no such reporting period."


def _integer(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def sent(request, name: str, default=""):
    """A field of the request's body; a body that is not an object (a JSON list, a number) has no fields."""
    data = request.data
    return data.get(name, default) if hasattr(data, "get") else default


def period_asked(request, data=None) -> ReportingPeriod:
    """The period named by ``period`` (an id), or the latest that has ended; 400 when there is none."""
    raw = (data if data is not None else request.query_params).get("period")
    if raw in (None, ""):
        period = ReportingPeriod.objects.current()
        if period is None:
            raise Problems(fields={"period": NO_PERIOD})
        return period
    period = ReportingPeriod.objects.filter(pk=_integer(raw) or 0).first()
    if period is None:
        raise Problems(fields={"period": UNKNOWN_PERIOD})
    return period


NO_SUCH_COMMISSIONER = "There is no such commissioner."


def commissioner_asked(request) -> Organisation | None:
    """The commissioner named by ``commissioner`` (an id) among the organisations the person may see; None when not
    given; 400 when it is none of them."""
    raw = request.query_params.get("commissioner")
    if not raw:
        return None
    commissioner = (
        Organisation.objects.restrict(request.user)
        .filter(pk=_integer(raw) or 0, kind=OrganisationKind.COMMISSIONER)
        .first()
    )
    if commissioner is None:
        raise Problems(fields={"commissioner": NO_SUCH_COMMISSIONER})
    return commissioner


def metric_asked(request) -> Metric | None:
    """The metric named by ``metric`` (an id): None when not given, for the service to ask for it."""
    raw = sent(request, "metric", None)
    if raw in (None, ""):
        return None
    metric = Metric.objects.filter(pk=_integer(raw) or 0).first()
    if metric is None:
        raise Problems(fields={"metric": services.NOT_IN_RETURN})
    return metric


class DashboardPagination(PageNumberPagination):
    """Pages of the dashboard's providers: 50 a page (``page_size`` up to 500)."""

    page_size = board.PROVIDERS_A_PAGE
    page_size_query_param = "page_size"
    max_page_size = 500


def choice_asked(request, name: str, choices, problem: str) -> str | None:
    """A query parameter that must be one of ``choices``; None when not given; 400 when it is none of them."""
    value = request.query_params.get(name, "").strip()
    if not value:
        return None
    if value not in choices:
        raise Problems(fields={name: problem})
    return value


class DashboardViewSet(viewsets.ViewSet):
    """Providers by framework for a period, worst first, a page at a time, as the dashboard page shows them.

    Filters as on the page: ``period`` (an id), ``commissioner`` (an organisation id), ``provider_type`` and
    ``framework`` (codes), ``status`` (overall status) and ``provider`` (part of the name); ``sort`` (status, name or
    ``framework-<code>``) and ``order`` (asc or desc); ``page`` and ``page_size``. ``exceptions`` (red or overdue),
    ``exceptions_framework`` and ``exceptions_page`` choose the page of exceptions. Totals count every provider
    matching the filters; a page out of range is not found (404).
    """

    pagination_class = DashboardPagination

    @extend_schema(
        parameters=[
            PERIOD,
            OpenApiParameter("commissioner", OpenApiTypes.INT, description="A commissioner's id."),
            OpenApiParameter("provider_type", OpenApiTypes.STR, description="A provider type's code."),
            OpenApiParameter("framework", OpenApiTypes.STR, description="A framework's code."),
            OpenApiParameter("status", OpenApiTypes.STR, enum=list(board.STANDINGS), description="Overall status."),
            OpenApiParameter("provider", OpenApiTypes.STR, description="All or part of a provider's name."),
            OpenApiParameter("sort", OpenApiTypes.STR, description="status (default), name or framework-<code>."),
            OpenApiParameter("order", OpenApiTypes.STR, enum=["asc", "desc"], description="asc (default) or desc."),
            OpenApiParameter("page", OpenApiTypes.INT, description="A page of providers."),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="Providers a page, up to 500 (50)."),
            OpenApiParameter("exceptions", OpenApiTypes.STR, enum=list(board.EXCEPTION_KINDS)),
            OpenApiParameter("exceptions_framework", OpenApiTypes.STR, description="Red answers of a framework."),
            OpenApiParameter("exceptions_page", OpenApiTypes.INT, description="A page of exceptions."),
        ],
        responses=DashboardSerializer,
    )
    def list(self, request, format=None):
        period = period_asked(request)
        commissioner = commissioner_asked(request)
        status_asked = choice_asked(request, "status", board.STANDINGS, "There is no such status.")
        kind = choice_asked(request, "exceptions", board.EXCEPTION_KINDS, board.NO_SUCH_EXCEPTION_KIND)
        framework_codes = Framework.objects.values_list("code", flat=True).distinct()
        framework = choice_asked(request, "framework", framework_codes, board.NO_SUCH_FRAMEWORK)
        exception_framework = choice_asked(request, "exceptions_framework", framework_codes, board.NO_SUCH_FRAMEWORK)
        sort = request.query_params.get("sort") or board.SORT_BY_STATUS
        if sort not in (board.SORT_BY_STATUS, board.SORT_BY_NAME) and not sort.startswith(board.SORT_BY_FRAMEWORK):
            raise Problems(fields={"sort": "Sort by status, name or framework-<code>."})
        filters = board.DashboardFilters(
            period,
            commissioner=commissioner,
            provider_type=request.query_params.get("provider_type") or None,
            framework=framework,
            status=status_asked,
            search=request.query_params.get("provider", "").strip()[:200],
        )
        result = board.framework_dashboard(
            request.user,
            filters,
            sort=sort,
            descending=request.query_params.get("order") == "desc",
            exception_kind=kind,
            exception_framework=exception_framework,
        )
        paginator = DashboardPagination()
        rows = paginator.paginate_queryset(result.providers, request, view=self)
        exceptions = Paginator(result.exceptions, board.EXCEPTIONS_A_PAGE).get_page(
            request.query_params.get("exceptions_page")
        )
        body = {
            "count": paginator.page.paginator.count,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "period": period,
            "frameworks": result.frameworks,
            "totals": result.totals,
            "framework_totals": result.framework_totals,
            "exceptions": {
                "count": exceptions.paginator.count,
                "counts": result.exceptions.counts,
                "page": exceptions.number,
                "pages": exceptions.paginator.num_pages,
                "results": exceptions.object_list,
            },
            "results": rows,
        }
        return Response(DashboardSerializer(body).data)


class CompletenessViewSet(viewsets.ViewSet):
    """Which providers have submitted for a period (``?period=``): on time, late or not yet, with whom to remind."""

    @extend_schema(parameters=[PERIOD], responses=CompletenessSerializer)
    def list(self, request, format=None):
        period = period_asked(request)
        rows = selectors.completeness(request.user, period)
        return Response(
            {
                "period": period.label,
                "deadline": period.submission_deadline,
                "providers": CompletenessRowSerializer(rows, many=True).data,
            }
        )

    @extend_schema(request=RemindRequestSerializer, responses=RemindersSentSerializer)
    @action(detail=False, methods=["post"])
    def remind(self, request, format=None):
        """E-mail the safeguarding leads of ``providers`` (ids) whose return for ``period`` is still missing."""
        period = period_asked(request, request.data if hasattr(request.data, "get") else {})
        raw = request.data.getlist("providers") if hasattr(request.data, "getlist") else sent(request, "providers")
        raw = raw if isinstance(raw, list) else [] if raw in (None, "") else [raw]
        ids = [_integer(value) for value in raw]
        if None in ids:
            raise Problems(fields={"providers": "Choose the providers to remind."})
        result = act(services.send_reminders, period, by=request.user, providers=ids)
        return Response(
            {
                "sent": [
                    {"provider": r.provider.name, "recipients": r.recipients, "sent_at": r.sent_at} for r in result.sent
                ],
                "skipped": result.skipped,
            },
            status=status.HTTP_201_CREATED if result.sent else status.HTTP_200_OK,
        )


class TrendViewSet(viewsets.ViewSet):
    """One provider's figures, colours and thresholds for a metric over the last eight quarters.

    ``trend/<provider id>/?metric=<code>``: the provider is the object, so one the person may not see is not found
    (404) whatever else is asked.
    """

    @extend_schema(
        parameters=[
            OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The provider's id."),
            OpenApiParameter("metric", OpenApiTypes.STR, required=True, description="The metric's code."),
        ],
        responses=TrendSerializer,
    )
    def retrieve(self, request, pk=None, format=None):
        provider = selectors.assurance_provider(request.user, _integer(pk) or 0)
        if provider is None:
            return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
        code = request.query_params.get("metric", "").strip()
        if not code:
            raise Problems(fields={"metric": f"Choose which of {provider.name}'s metrics to show, by its code."})
        result = selectors.trend(request.user, provider, code)
        if result is None:
            raise Problems(fields={"metric": f"{provider.name} does not report a metric with the code {code}."})
        return Response(TrendSerializer(result).data)


class ReviewViewSet(ScopedQuerysetMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A return's review: its current status answer by answer, the reviews standing, comments and acceptance.

    POST ``agree`` (``metric``), ``override`` (``metric``, ``colour``, ``reason``), ``comment`` (``metric``,
    ``text``) and ``accept`` act on it.
    """

    queryset = Return.objects.select_related("provider", "period")
    serializer_class = ReturnReviewSerializer

    def retrieve(self, request, *args, **kwargs):
        return Response(ReturnReviewSerializer(selectors.return_review(self.get_object())).data)

    @extend_schema(request=MetricRequestSerializer, responses={201: AnswerReviewSerializer})
    @action(detail=True, methods=["post"])
    def agree(self, request, pk=None, format=None):
        """Agree with the status of an answer."""
        review = act(services.agree_status, self.get_object(), metric_asked(request), by=request.user)
        return Response(AnswerReviewSerializer(review).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=OverrideRequestSerializer, responses={201: AnswerReviewSerializer})
    @action(detail=True, methods=["post"])
    def override(self, request, pk=None, format=None):
        """Set the colour of an answer (red, amber or green), giving the reason."""
        review = act(
            services.override_status,
            self.get_object(),
            metric_asked(request),
            by=request.user,
            colour=sent(request, "colour"),
            reason=sent(request, "reason"),
        )
        return Response(AnswerReviewSerializer(review).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CommentRequestSerializer, responses={201: AnswerCommentSerializer})
    @action(detail=True, methods=["post"])
    def comment(self, request, pk=None, format=None):
        """Comment on an answer; the provider's people and the commissioners' designated professionals see it."""
        comment = act(
            services.comment_on_answer,
            self.get_object(),
            metric_asked(request),
            by=request.user,
            text=sent(request, "text"),
        )
        return Response(AnswerCommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={201: AcceptedSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None, format=None):
        """Accept the latest submission of the return."""
        acceptance = act(services.accept_return, self.get_object(), by=request.user)
        return Response(
            {"submission": acceptance.submission_id, "accepted_at": acceptance.accepted_at},
            status=status.HTTP_201_CREATED,
        )


class ActionViewSet(viewsets.GenericViewSet):
    """Actions of providers' action plans not yet done: overdue and due within 30 days; POST ``follow-up``."""

    serializer_class = ActionSerializer
    pagination_class = None

    def get_queryset(self):
        return restrict_by_period(
            ActionPlanItem.objects.select_related("answer__provider_return"),
            self.request.user,
            "view",
            "answer__provider_return__provider",
            "answer__provider_return__period",
        )

    def list(self, request, format=None):
        return Response(ActionSerializer(selectors.actions_due(request.user), many=True).data)

    @extend_schema(request=FollowUpRequestSerializer, responses=FollowUpSerializer)
    @action(detail=True, methods=["post"], url_path="follow-up", url_name="follow-up")
    def follow_up(self, request, pk=None, format=None):
        """Record whether the action is done (``done``: true or false) with a ``note``."""
        item = get_object_or_404(self.get_queryset(), pk=pk)
        done = YES_OR_NO.get(str(sent(request, "done")).strip().lower())
        follow_up = act(services.follow_up_action, item, by=request.user, done=done, note=sent(request, "note"))
        return Response(FollowUpSerializer(follow_up).data)


def register(router) -> None:
    """Add the routes of dashboards and review to the project's API router."""
    router.register("dashboard", DashboardViewSet, basename="dashboard")
    router.register("completeness", CompletenessViewSet, basename="completeness")
    router.register("trend", TrendViewSet, basename="trend")
    router.register("reviews", ReviewViewSet, basename="review")
    router.register("actions", ActionViewSet, basename="action")
    router.register("reports", ReportViewSet, basename="report")

    from .moderation_api import ModerationViewSet  # it reads the filters as this module does

    router.register("moderation", ModerationViewSet, basename="moderation")
