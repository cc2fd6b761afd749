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
from jiketong.testing import make_uscc
from jiketong.testing_views import Case, Write

CASES = [
    Case(
        Customer,
        kinds=("customer",),
        find=lambda customer: customer.pk,
        list="customers:list",
        detail="customers:detail",
        api_list="/api/v1/customers",
        api_detail="/api/v1/customers/{id}",
        create=Write(
            "customers:create",
            data=lambda world, customer: {
                "name": "白云机场集团有限公司",
                "uscc": make_uscc("440106"),
                "type": "enterprise",
                "industry": "it",
                "org_unit": customer.org_unit_id,
            },  # fmt: skip
            invalid={"name": ""},
        ),
        edit=Write(
            "customers:edit",
            data={"short_name": "地铁集团"},
            invalid={"name": ""},
            changed=lambda customer: customer.short_name == "地铁集团",
        ),
        api_create=Write(
            "/api/v1/customers",
            data=lambda world, customer: {
                "name": "白云机场集团有限公司",
                "type": "enterprise",
                "industry": "it",
                "org_unit": customer.org_unit_id,
                "uscc": make_uscc("440106"),
            },  # fmt: skip
            invalid={"name": "白云机场集团有限公司"},
        ),
        api_edit=Write(
            "/api/v1/customers/{id}",
            data={"short_name": "地铁集团"},
            invalid={"grade": "Z9"},
            changed=lambda customer: customer.short_name == "地铁集团",
        ),
        not_writer="grace",
    ),
    Case(
        Contact,
        kinds=("contact",),
        find=lambda customer: Contact.objects.filter(customer=customer).first().pk,
        api_list="/api/v1/customers/{customer}/contacts",
        api_detail="/api/v1/customers/{customer}/contacts/{id}",
        create=Write(
            "customers:contact_create", data={"name": "刘建国", "mobile": "13900001111"}, invalid={"name": ""}
        ),
        edit=Write(
            "customers:contact_edit",
            data={"title": "总经理"},
            invalid={"name": ""},
            changed=lambda contact: contact.title == "总经理",
        ),
        delete=Write("customers:contact_delete"),
        api_create=Write("/api/v1/customers/{customer}/contacts", data={"name": "刘建国"}, invalid={"closeness": 9}),
        api_edit=Write(
            "/api/v1/customers/{customer}/contacts/{id}",
            data={"title": "总经理"},
            invalid={"mobile": "12345"},
            changed=lambda contact: contact.title == "总经理",
        ),
        not_writer="grace",
    ),
    Case(
        Member,
        kinds=("member",),
        find=lambda customer: Member.objects.filter(customer=customer).first().pk,
        api_list="/api/v1/customers/{customer}/members",
        api_detail="/api/v1/customers/{customer}/members/{id}",
        create=Write("customers:member_add", data={"phone": "13822229999"}, invalid={"phone": "12345"}),
        edit=Write(
            "customers:member_edit",
            data={"department": "财务部"},
            invalid={"joined_on": "去年"},
            changed=lambda member: member.department == "财务部",
        ),
        api_create=Write(
            "/api/v1/customers/{customer}/members",
            data={"phone": "13822229999", "joined_on": "2026-01-01"},
            invalid={"phone": "12345", "joined_on": "2026-01-01"},
        ),
        not_writer="grace",
    ),
    Case(
        CompetitorPresence,
        kinds=("competitor", "presence"),
        find=lambda customer: CompetitorPresence.objects.filter(customer=customer).first().pk,
        create=Write(
            "customers:competitor_create",
            data={"competitor": "china_unicom", "products": "专线"},
            invalid={"competitor": "?"},
        ),
        edit=Write(
            "customers:competitor_edit",
            data={"products": "宽带 专线"},
            invalid={"contract_end": "明年"},
            changed=lambda presence: presence.products == "宽带 专线",
        ),
        not_writer="grace",
    ),
    Case(
        Affiliation,
        kinds=("affiliation",),
        find=lambda customer: Affiliation.objects.filter(customer=customer).first().pk,
        delete=Write("customers:affiliation_delete"),
        not_writer="grace",
    ),
    Case(
        ContactRelation,
        kinds=("relation",),
        find=lambda customer: ContactRelation.objects.filter(customer=customer).first().pk,
        api_list="/api/v1/customers/{customer}/contact-relations",
        delete=Write("customers:relation_delete"),
        not_writer="grace",
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
