"""Pages for organisations, contracts and people. The home page (``home``, at ``/``) is :func:`providers.views.home`."""

from django.urls import path

from . import views

app_name = "providers"
urlpatterns = [
    path("organisations/", views.OrganisationListView.as_view(), name="organisation_list"),
    path("organisations/new/", views.OrganisationCreateView.as_view(), name="organisation_create"),
    path("organisations/<int:pk>/", views.OrganisationDetailView.as_view(), name="organisation_detail"),
    path("organisations/<int:pk>/edit/", views.OrganisationEditView.as_view(), name="organisation_edit"),
    path("organisations/<int:pk>/members/", views.MembersView.as_view(), name="members"),
    path(
        "organisations/<int:pk>/members/<int:membership_pk>/remove/",
        views.RemoveMembershipView.as_view(),
        name="membership_remove",
    ),
    path(
        "organisations/<int:pk>/invitations/<int:invitation_pk>/cancel/",
        views.CancelInvitationView.as_view(),
        name="invitation_cancel",
    ),
    path("contracts/", views.ContractListView.as_view(), name="contract_list"),
    path("contracts/new/", views.ContractCreateView.as_view(), name="contract_create"),
    path("contracts/<int:pk>/", views.ContractDetailView.as_view(), name="contract_detail"),
    path("contracts/<int:pk>/edit/", views.ContractEditView.as_view(), name="contract_edit"),
    path("contracts/<int:pk>/accept/", views.ContractAnswerView.as_view(answer="accept"), name="contract_accept"),
    path("contracts/<int:pk>/refuse/", views.ContractAnswerView.as_view(answer="refuse"), name="contract_refuse"),
    path("invitations/<str:token>/", views.AcceptInvitationView.as_view(), name="accept_invitation"),
]
