"""Commissioners form a hierarchy (an ICB and its places) and organisations keep their former names and ODS codes."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Value
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from providers.models import Organisation, OrganisationName, identity_on, name_on, names_then
from tests.providers.factories import CommissionerFactory

BEFORE = datetime.date(2022, 6, 30)
AFTER = datetime.date(2022, 7, 1)


def refused_by_the_database(change):
    with pytest.raises(IntegrityError), transaction.atomic():
        change()


def set_parent(organisation, parent):
    return lambda: Organisation.objects.filter(pk=organisation.pk).update(parent=parent)


def test_a_place_belongs_to_an_icb(icbs):
    assert icbs.nel.is_icb and not icbs.nel.is_place
    assert icbs.newham.is_place and not icbs.newham.is_icb
    assert set(icbs.nel.places.all()) == {icbs.newham, icbs.hackney}


def test_a_place_of_a_place_is_refused_by_the_database(icbs):
    refused_by_the_database(set_parent(CommissionerFactory(ods_code="ZZ1"), icbs.newham))


def test_an_icb_with_places_cannot_become_a_place(icbs):
    refused_by_the_database(set_parent(icbs.nel, icbs.blmk))


def test_a_commissioner_is_not_its_own_place(icbs):
    refused_by_the_database(set_parent(icbs.blmk, icbs.blmk))


def test_a_provider_is_no_place_and_has_no_places(icbs):
    refused_by_the_database(set_parent(icbs.riverside, icbs.nel))
    refused_by_the_database(set_parent(CommissionerFactory(ods_code="ZZ2"), icbs.riverside))


def test_an_icb_with_places_stays_a_commissioner(icbs):
    refused_by_the_database(lambda: Organisation.objects.filter(pk=icbs.nel.pk).update(kind="provider"))


def test_the_form_check_says_the_same_in_plain_english(icbs):
    other = CommissionerFactory(ods_code="ZZ3")
    other.parent = icbs.newham
    with pytest.raises(ValidationError, match="is a place, not an ICB"):
        other.clean()
    icbs.nel.parent = icbs.blmk
    with pytest.raises(ValidationError, match="ICB with places"):
        icbs.nel.clean()


def former_name(organisation, name, ods_code, until, since=None):
    return OrganisationName.objects.create(
        organisation=organisation, name=name, ods_code=ods_code, in_force_from=since, in_force_until=until
    )


def test_former_names_of_one_organisation_cannot_overlap(icbs):
    former_name(icbs.newham, "NHS Newham CCG", "08M", until=BEFORE, since=datetime.date(2013, 4, 1))
    refused_by_the_database(lambda: former_name(icbs.newham, "Newham PCT", "5C5", until=datetime.date(2013, 4, 1)))
    refused_by_the_database(lambda: former_name(icbs.newham, "Overlap", "5C5", until=AFTER, since=BEFORE))
    former_name(icbs.newham, "Newham PCT", "5C5", until=datetime.date(2013, 3, 31))  # the day before: fine
    former_name(icbs.hackney, "NHS City and Hackney CCG", "07T", until=BEFORE)  # another organisation: fine


def test_a_former_name_cannot_end_before_it_starts(icbs):
    refused_by_the_database(lambda: former_name(icbs.newham, "Backwards", "08M", until=BEFORE, since=AFTER))


def test_overlapping_names_are_refused_by_the_form_check_too(icbs):
    former_name(icbs.newham, "NHS Newham CCG", "08M", until=BEFORE)
    overlapping = OrganisationName(organisation=icbs.newham, name="Other", ods_code="08M", in_force_until=AFTER)
    with pytest.raises(ValidationError, match="overlap"):
        overlapping.clean()


def test_name_on_a_day_is_the_name_in_force_that_day(icbs):
    icbs.newham.name = "NHS North East London ICB: Newham"
    icbs.newham.save()
    former_name(icbs.newham, "NHS Newham CCG", "08M", until=BEFORE)
    assert name_on(icbs.newham, BEFORE) == "NHS Newham CCG"
    assert name_on(icbs.newham, datetime.date(2019, 3, 31)) == "NHS Newham CCG"
    assert name_on(icbs.newham, AFTER) == "NHS North East London ICB: Newham"
    assert identity_on(icbs.newham, BEFORE) == ("NHS Newham CCG", "08M")


def test_name_on_uses_prefetched_former_names_without_a_query(icbs):
    former_name(icbs.newham, "NHS Newham CCG", "08M", until=BEFORE)
    newham = Organisation.objects.prefetch_related("former_names").get(pk=icbs.newham.pk)
    with CaptureQueriesContext(connection) as queries:
        assert newham.name_on(BEFORE) == "NHS Newham CCG"
        assert newham.name_on(AFTER) == newham.name
    assert len(queries) == 0


def test_names_then_annotates_in_the_same_query(icbs):
    former_name(icbs.newham, "NHS Newham CCG", "08M", until=BEFORE)
    rows = Organisation.objects.filter(pk__in=[icbs.newham.pk, icbs.hackney.pk]).annotate(
        day=Value(BEFORE),
        **names_then("pk", "day", "then"),
    )
    with CaptureQueriesContext(connection) as queries:
        then = {row.pk: (row.then_name_then, row.then_ods_code_then) for row in rows}
    assert len(queries) == 1
    assert then == {icbs.newham.pk: ("NHS Newham CCG", "08M"), icbs.hackney.pk: (None, None)}


def test_admin_shows_the_icb_and_former_names_with_their_history(client, icbs):
    former = former_name(icbs.newham, "NHS Newham CCG", "08M", until=BEFORE)
    client.force_login(icbs.administrator)
    page = client.get(reverse("admin:providers_organisation_change", args=[icbs.newham.pk])).content.decode()
    assert 'name="parent"' in page and "NHS Newham CCG" in page and "former_names-0-in_force_until" in page
    listed = client.get(reverse("admin:providers_organisation_changelist") + "?level=place").content.decode()
    assert f">{icbs.luton.name}</a>" in listed and f">{icbs.newham.name}</a>" in listed
    assert f">{icbs.nel.name}</a>" not in listed and icbs.riverside.name not in listed  # ICBs and providers are not
    history = client.get(reverse("admin:providers_organisationname_history", args=[former.pk]))
    assert history.status_code == 200
    assert former.history.count() == 1


# The migration


@pytest.mark.django_db
def test_the_migration_keeps_every_existing_commissioner_as_an_icb_of_its_own():
    """Applied on data of the schema before it: every commissioner is an ICB of its own, nobody's sight changes,
    and from then on the database holds the hierarchy."""
    before, after = (
        [("providers", "0002_contracts_need_provider_acceptance")],
        [("providers", "0003_icbs_places_and_former_names")],
    )
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    OldOrganisation = old.get_model("providers", "Organisation")
    acute = old.get_model("standards", "ProviderType").objects.get(code="acute")
    newham = OldOrganisation.objects.create(name="NHS Newham CCG", ods_code="08M", kind="commissioner")
    luton = OldOrganisation.objects.create(name="NHS Luton CCG", ods_code="06P", kind="commissioner")
    OldOrganisation.objects.create(name="Riverside", ods_code="ZR1", kind="provider", provider_type=acute)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # so the tables can be altered in this transaction

    executor = MigrationExecutor(connection)
    executor.migrate(after)

    new = executor.loader.project_state(after).apps.get_model("providers", "Organisation")
    assert set(new.objects.filter(kind="commissioner", parent__isnull=True).values_list("pk", flat=True)) == {
        newham.pk,
        luton.pk,
    }
    assert not new.objects.filter(parent__isnull=False).exists()
    new.objects.filter(pk=newham.pk).update(parent=luton.pk)  # a place of an ICB: allowed
    with pytest.raises(IntegrityError), transaction.atomic():
        new.objects.filter(pk=luton.pk).update(parent=newham.pk)  # and the rule holds on the migrated data
