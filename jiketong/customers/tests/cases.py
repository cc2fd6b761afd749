"""Generated tests (jiketong/testing_views.py) for the customers app's models; the world is tests/scope.py's."""

from jiketong.customers.models import (
    Affiliation,
    CompetitorPresence,
    Contact,
    ContactRelation,
    Customer,
    CustomerImportRun,
    KeyPersonGap,
    Member,
)
from jiketong.testing_views import Case

CASES = [
    Case(
        Customer,
        kinds=("customer",),
        find=lambda customer: customer.pk,
        list="customers:list",
        detail="customers:detail",
        api_list="/api/v1/customers",
        api_detail="/api/v1/customers/{id}",
    ),
    Case(
        Contact,
        kinds=("contact",),
        find=lambda customer: Contact.objects.filter(customer=customer).first().pk,
        api_list="/api/v1/customers/{customer}/contacts",
        api_detail="/api/v1/customers/{customer}/contacts/{id}",
    ),
    Case(
        Member,
        kinds=("member",),
        find=lambda customer: Member.objects.filter(customer=customer).first().pk,
        api_list="/api/v1/customers/{customer}/members",
        api_detail="/api/v1/customers/{customer}/members/{id}",
    ),
    Case(
        CompetitorPresence,
        kinds=("competitor", "presence"),
        find=lambda customer: CompetitorPresence.objects.filter(customer=customer).first().pk,
    ),
    Case(
        Affiliation,
        kinds=("affiliation",),
        find=lambda customer: Affiliation.objects.filter(customer=customer).first().pk,
    ),
    Case(
        ContactRelation,
        kinds=("relation",),
        find=lambda customer: ContactRelation.objects.filter(customer=customer).first().pk,
        api_list="/api/v1/customers/{customer}/contact-relations",
    ),
    Case(
        KeyPersonGap,
        find=lambda customer: KeyPersonGap.objects.filter(customer=customer).first().pk,
        list="customers:key_person_gaps",
        api_list="/api/v1/key-person-gaps",
        reader="carol",
        label=lambda gap: gap.customer.name,
        query="?kind=unmet_decider",
        api_key="customer",
        api_value=lambda gap: gap.customer_id,
    ),
    # A run is its uploader's and an administrator's, not customer data: the matrix checks only that nothing leaks.
    Case(
        CustomerImportRun,
        kinds=("archive_run",),
        unscoped=lambda: CustomerImportRun.objects.first().pk,
        detail="customers:import_run",
        api_detail="/api/v1/archive/imports/{id}",
        reader="frank",
    ),
]
# Writes only (DELETE): the scope matrix probes them.
OTHER_ROUTES = {
    "/api/v1/customers/{customer}/contact-relations/{id}",
    "customers:export",
    "customers:create",
    "customers:import",
    "/api/v1/archive/imports",
}
