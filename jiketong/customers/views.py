"""Customer pages: list, 360 view, forms. Thin: reads come from queries.py, writes go to services.py.

HTMX requests to the list and to the 360 page's paged sections are answered by the same views with
just the partial that changes (STYLE §7).
"""

from typing import Any

from django.apps import apps
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from jiketong.catalog import queries as catalog_queries
from jiketong.core import exports
from jiketong.core.forms import form_page
from jiketong.core.htmx import is_partial
from jiketong.core.listing import list_page, paginate
from jiketong.core.registry import customer_panels
from jiketong.core.validators import mask_mobile

from . import keypersons, queries, services
from .forms import (
    AffiliationForm,
    CompetitorForm,
    ContactDateFormSet,
    ContactForm,
    CounterpartForm,
    CustomerForm,
    LeftForm,
    MemberForm,
    MembersBulkAddForm,
    MembersBulkRemoveForm,
    RelationForm,
    dates_from,
)
from .history import history_lines
from .models import Customer, GapKind

LIST_PAGE_SIZE = 20
MEMBERS_PAGE_SIZE = 20
CONTACTS_PAGE_SIZE = 10
HISTORY_PAGE_SIZE = 20
SUBSCRIPTIONS_PAGE_SIZE = 20
SIDE_LIST_LIMIT = 50
GAPS_PAGE_SIZE = 25


# --- list and export --------------------------------------------------------------------------------
@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    customer_filter, queryset = queries.customer_list(request.user, request.GET)
    return list_page(
        request, "customers/list.html", queryset, per_page=LIST_PAGE_SIZE, capped=False,
        context={"filter": customer_filter},
    )  # fmt: skip


EXPORT_COLUMNS = [
    ("number", gettext_lazy("customer number")),
    ("name", gettext_lazy("name")),
    ("short_name", gettext_lazy("short name")),
    ("uscc", gettext_lazy("unified social credit code")),
    ("type", gettext_lazy("customer type")),
    ("industry__name", gettext_lazy("industry")),
    ("org_unit__name", gettext_lazy("owning org unit")),
    ("address", gettext_lazy("address")),
    ("size", gettext_lazy("size (headcount)")),
    ("grade", gettext_lazy("grade")),
    ("status", gettext_lazy("lifecycle status")),
    ("service_level", gettext_lazy("service level")),
    ("owner__name", gettext_lazy("customer manager")),
    ("backup_owner__name", gettext_lazy("backup manager")),
    ("cooperation_since", gettext_lazy("cooperation since")),
]
EXPORT_CHOICES = ("type", "status", "service_level")


def export_table(user, params) -> exports.Table:
    """The filtered list as plain values (no personal data: no contacts, no member numbers)."""
    _customer_filter, queryset = queries.customer_list(user, params)
    fields = [name for name, _label in EXPORT_COLUMNS]
    labels = {
        i: {key: str(label) for key, label in Customer._meta.get_field(name).flatchoices}
        for i, name in enumerate(fields)
        if name in EXPORT_CHOICES
    }
    values = exports.rows_of(queryset, *fields)

    def rows():
        for row in values():
            row = list(row)
            for i, choices in labels.items():
                row[i] = choices.get(row[i], row[i])
            yield row

    return exports.Table(
        what="customers.customer", filename="customers", sheet=_("Customers"), count=queryset.count, rows=rows,
        header=[label for _name, label in EXPORT_COLUMNS],
    )  # fmt: skip


@require_GET
def customer_export(request: HttpRequest) -> HttpResponse:
    """The filtered list as .xlsx, streamed (or prepared in the background past a size); logged."""
    return exports.respond(request, export_table)


# --- 360 page ---------------------------------------------------------------------------------------
def _members_context(request: HttpRequest, customer: Customer) -> dict:
    members = queries.members_of(request.user, customer.pk).order_by("left_on", "-joined_on", "id")
    if request.GET.get("members") != "all":
        members = members.filter(left_on__isnull=True)
    page = paginate(request, members, MEMBERS_PAGE_SIZE, param="members_page", capped=False)
    return {"members_page": page, "members_all": request.GET.get("members") == "all"}


def _contacts_context(request: HttpRequest, customer: Customer) -> dict:
    page = paginate(
        request, queries.contacts_of(request.user, customer.pk), CONTACTS_PAGE_SIZE, param="contacts_page",
        capped=False,
    )  # fmt: skip
    return {"contacts_page": page}


def _history_context(request: HttpRequest, customer: Customer) -> dict:
    page = paginate(
        request, queries.customer_history(request.user, customer.pk), HISTORY_PAGE_SIZE, param="history_page",
        capped=False,
    )  # fmt: skip
    return {"history_page": page, "history_lines": history_lines(request.user, list(page.object_list))}


def _subscriptions_context(request: HttpRequest, customer: Customer) -> dict:
    rows = catalog_queries.subscriptions_of(request.user, customer.pk)
    page = paginate(request, rows, SUBSCRIPTIONS_PAGE_SIZE, param="subscriptions_page", capped=False)
    return {"subscriptions_page": page}


# HX-Target → (partial name, builder): a paging click re-reads only its own section.
SECTIONS = {
    "members-section": ("members", _members_context),
    "contacts-section": ("contacts", _contacts_context),
    "history-section": ("history", _history_context),
    "subscriptions-section": ("subscriptions", _subscriptions_context),
}


@require_GET
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = queries.customer_get(request.user, pk)
    target = request.htmx.target if is_partial(request) else None
    if target in SECTIONS:
        name, build = SECTIONS[target]
        return render(request, f"customers/detail.html#{name}", {"customer": customer, **build(request, customer)})
    context: dict[str, Any] = {
        "customer": customer,
        "hierarchy": queries.customer_hierarchy(request.user, customer),
        "member_summary": queries.member_summary(customer),
        "competitors": list(queries.competitors_of(request.user, customer.pk)[:SIDE_LIST_LIMIT]),
        "affiliations": list(queries.affiliations_of(request.user, customer.pk)[:SIDE_LIST_LIMIT]),
        "grade_changes": list(queries.grade_history(request.user, customer.pk)[:SIDE_LIST_LIMIT]),
        "panels": customer_panels(request, customer),
    }
    keymap = queries.key_person_map(request.user, customer)
    context.update(keymap=keymap, keymap_data=keypersons.map_data(keymap))
    for _name, build in SECTIONS.values():
        context.update(build(request, customer))
    return render(request, "customers/detail.html", context)


# --- customer forms ---------------------------------------------------------------------------------
def customer_create(request: HttpRequest) -> HttpResponse:
    services.require_edit(request.user)
    form = CustomerForm(request.POST or None, user=request.user)
    return form_page(
        request, form, lambda: services.customer_create(actor=request.user, **form.service_kwargs()),
        done=customer_url, message=lambda customer: _("Customer %(name)s created.") % {"name": customer.name},
        template="customers/customer_form.html", context={"customer": None},
    )  # fmt: skip


def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    services.require_edit(request.user)
    customer = queries.customer_get(request.user, pk)
    form = CustomerForm(request.POST or None, instance=customer, user=request.user)
    return form_page(
        request, form,
        lambda: services.customer_update(actor=request.user, customer=customer, **form.service_kwargs()),
        done=customer_url(customer), message=lambda _r: _("Changes to %(name)s saved.") % {"name": customer.name},
        template="customers/customer_form.html", context={"customer": customer},
    )  # fmt: skip


def form_frame(customer: Customer, title: str) -> dict:
    """The frame of a simple form page about one customer (core.forms.form_page): Customers › the customer ›
    the title in the breadcrumb, Cancel back to the customer's page."""
    back = customer_url(customer)
    crumbs = [(_("Customers"), reverse("customers:list")), (customer.name, back)]
    return {"title": title, "customer": customer, "crumbs": crumbs, "cancel": back}


def _section(customer: Customer, section: str) -> str:
    """The customer's page at one of its sections, where a form about that section goes back to."""
    return f"{customer_url(customer)}#{section}-section"


# --- contacts ---------------------------------------------------------------------------------------
def contact_create(request: HttpRequest, pk: int) -> HttpResponse:
    services.require_edit(request.user)
    customer = queries.customer_get(request.user, pk)
    form = ContactForm(request.POST or None)
    dates = ContactDateFormSet(request.POST or None, prefix="dates")
    return form_page(
        request, form,
        lambda: services.contact_create(
            actor=request.user, customer=customer, dates=dates_from(dates), **form.service_data()
        ),
        also=[dates], done=_section(customer, "contacts"), message=_("Contact added."),
        template="customers/contact_form.html",
        context={"dates": dates, "customer": customer, "title": _("Add a contact")},
    )  # fmt: skip


def contact_edit(request: HttpRequest, contact_pk: int) -> HttpResponse:
    services.require_edit(request.user)
    contact = queries.contact_get(request.user, contact_pk)
    customer = contact.customer
    initial_dates = [{"label": d.label, "date": d.date} for d in contact.dates.all()]
    form = ContactForm(request.POST or None, instance=contact)
    dates = ContactDateFormSet(request.POST or None, prefix="dates", initial=initial_dates)
    context = {
        "dates": dates,
        "customer": customer,
        "contact": contact,
        "title": _("Edit contact"),
        "left_form": LeftForm(initial={"left_on": contact.left_on}),
    }
    return form_page(
        request, form,
        lambda: services.contact_update(
            actor=request.user, contact=contact, dates=dates_from(dates), **form.service_data(only_changed=True)
        ),
        also=[dates], done=_section(customer, "contacts"), message=_("Contact saved."),
        template="customers/contact_form.html", context=context,
    )  # fmt: skip


def contact_delete(request: HttpRequest, contact_pk: int) -> HttpResponse:
    """Delete a contact's personal data (e.g. at the person's request, PIPL), after a confirmation."""
    services.require_edit(request.user)
    contact = queries.contact_get(request.user, contact_pk)
    customer = contact.customer
    if request.method == "POST":
        services.contact_delete(actor=request.user, contact=contact)
        messages.success(request, _("Contact %(name)s deleted.") % {"name": contact.name})
        return redirect(_section(customer, "contacts"))
    return render(request, "customers/contact_confirm_delete.html", {"contact": contact, "customer": customer})


@require_POST
def contact_reveal(request: HttpRequest, contact_pk: int) -> HttpResponse:
    contact = queries.contact_get(request.user, contact_pk)
    mobile = services.contact_reveal_mobile(actor=request.user, contact=contact)
    return _revealed(mobile)


def contact_left(request: HttpRequest, contact_pk: int) -> HttpResponse:
    """Mark that the person left the customer (离职), or undo it with an empty date."""
    services.require_edit(request.user)
    contact = queries.contact_get(request.user, contact_pk)
    form = LeftForm(request.POST or None, initial={"left_on": contact.left_on})

    def done_message(_result) -> str:
        if form.cleaned_data.get("left_on"):
            return _("%(name)s is marked as having left.") % {"name": contact.name}
        return _("%(name)s is a current contact again.") % {"name": contact.name}

    return form_page(
        request, form,
        lambda: services.contact_mark_left(
            actor=request.user, contact=contact, left_on=form.cleaned_data.get("left_on")
        ),
        done=_section(contact.customer, "contacts"), message=done_message,
        context=form_frame(contact.customer, _("%(name)s left the customer") % {"name": contact.name}),
    )  # fmt: skip


def contact_counterpart(request: HttpRequest, contact_pk: int) -> HttpResponse:
    """高层对高层: choose who on our side keeps the relationship with this person."""
    services.require_edit(request.user)
    contact = queries.contact_get(request.user, contact_pk)
    form = CounterpartForm(request.POST or None, user=request.user, initial={"counterpart": contact.counterpart_id})
    return form_page(
        request, form,
        lambda: services.contact_set_counterpart(
            actor=request.user, contact=contact, counterpart=form.cleaned_data.get("counterpart")
        ),
        done=_section(contact.customer, "keymap"), message=_("Counterpart saved."),
        context=form_frame(contact.customer, _("Our counterpart for %(name)s") % {"name": contact.name}),
    )  # fmt: skip


def relation_create(request: HttpRequest, pk: int) -> HttpResponse:
    services.require_edit(request.user)
    customer = queries.customer_get(request.user, pk)
    form = RelationForm(request.POST or None, user=request.user, customer=customer)
    return form_page(
        request, form,
        lambda: services.contact_relation_add(
            actor=request.user,
            from_contact=form.cleaned_data["from_contact"],
            to_contact=form.cleaned_data["to_contact"],
            kind=form.cleaned_data["kind"],
        ),
        done=_section(customer, "keymap"), message=_("Relation recorded."),
        context=form_frame(customer, _("Add a key-person relation")),
    )  # fmt: skip


@require_POST
def relation_delete(request: HttpRequest, relation_pk: int) -> HttpResponse:
    relation = queries.relation_get(request.user, relation_pk)
    services.contact_relation_remove(actor=request.user, relation=relation)
    messages.success(request, _("Relation removed."))
    return redirect(_section(relation.customer, "keymap"))


@require_GET
def key_person_gaps(request: HttpRequest) -> HttpResponse:
    """A supervisor's subtree: customers without a known decision maker, or decision makers nobody met in
    90 days, from the kept facts (decision 0020), biggest grades first, counted up to a cap."""
    kind = request.GET.get("kind") if request.GET.get("kind") in GapKind.values else GapKind.NO_DECIDER
    context = {"kind": kind, "kinds": GapKind.choices, "days": keypersons.unmet_days()}
    rows = queries.key_person_gaps(request.user, kind)
    return list_page(request, "customers/keyperson_gaps.html", rows, per_page=GAPS_PAGE_SIZE, context=context)


def _revealed(number: str) -> HttpResponse:
    return HttpResponse(format_html('<span class="phone revealed" data-testid="revealed">{}</span>', number))


# --- members ----------------------------------------------------------------------------------------
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    services.require_edit(request.user)
    customer = queries.customer_get(request.user, pk)
    form = MemberForm(request.POST or None, adding=True)
    return form_page(
        request, form, lambda: services.member_add(actor=request.user, customer=customer, **form.service_data()),
        done=_section(customer, "members"), message=_("Member added."), context=form_frame(customer, _("Add a member")),
    )  # fmt: skip


def member_edit(request: HttpRequest, member_pk: int) -> HttpResponse:
    services.require_edit(request.user)
    member = queries.member_get(request.user, member_pk)
    form = MemberForm(request.POST or None, instance=member)
    form.fields["phone"].required = False
    if not form.is_bound:
        # The number is personal data: the edit form starts masked; typing a new one replaces it.
        form.initial["phone"] = ""
        form.fields["phone"].widget.attrs["placeholder"] = mask_mobile(member.phone)

    def save():
        data = form.service_data(only_changed=True)
        if not data.get("phone"):
            data.pop("phone", None)  # left empty: keep the number
        return services.member_update(actor=request.user, member=member, **data)

    return form_page(
        request, form, save, done=_section(member.customer, "members"), message=_("Member saved."),
        context=form_frame(member.customer, _("Edit member")),
    )  # fmt: skip


def members_bulk_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _members_bulk(request, pk, adding=True)


def members_bulk_remove(request: HttpRequest, pk: int) -> HttpResponse:
    return _members_bulk(request, pk, adding=False)


def _members_bulk(request: HttpRequest, pk: int, *, adding: bool) -> HttpResponse:
    services.require_edit(request.user)
    customer = queries.customer_get(request.user, pk)
    form = (MembersBulkAddForm if adding else MembersBulkRemoveForm)(request.POST or None)
    result = None
    if request.method == "POST" and form.is_valid():
        common = {"actor": request.user, "customer": customer, "all_or_nothing": form.cleaned_data["all_or_nothing"]}
        if adding:
            result = services.members_bulk_add(rows=form.parsed_rows(), **common)
        else:
            result = services.members_bulk_remove(
                phones=form.phone_list(), left_on=form.cleaned_data["left_on"], **common
            )
        if result.ok:
            done = _("%(n)d members added.") if adding else _("%(n)d members marked as left.")
            messages.success(request, done % {"n": result.done})
            return redirect(_section(customer, "members"))
    context = {"form": form, "customer": customer, "result": result, "rows": _error_rows(result), "adding": adding}
    return render(request, "customers/members_bulk.html", context)


def _error_rows(result) -> list[dict]:
    """One line per (row, field, message) for the error table."""
    if result is None:
        return []
    labels = {f.name: f.verbose_name for f in apps.get_model("customers.Member")._meta.get_fields() if f.concrete}
    return [
        {"row": e["row"], "phone": e["phone"], "field": str(labels.get(name, name)), "message": message}
        for e in result.errors
        for name, messages_ in e["errors"].items()
        for message in messages_
    ]


@require_POST
def member_reveal(request: HttpRequest, member_pk: int) -> HttpResponse:
    member = queries.member_get(request.user, member_pk)
    return _revealed(services.member_reveal_phone(actor=request.user, member=member))


# --- competitors and affiliations -------------------------------------------------------------------
def competitor_edit(request: HttpRequest, pk: int | None = None, presence_pk: int | None = None) -> HttpResponse:
    services.require_edit(request.user)
    presence = queries.competitor_get(request.user, presence_pk) if presence_pk else None
    customer = presence.customer if presence else queries.customer_get(request.user, pk)
    form = CompetitorForm(request.POST or None, instance=presence)
    title = _("Edit competitor presence") if presence else _("Add competitor presence")
    return form_page(
        request, form,
        lambda: services.competitor_save(
            actor=request.user, customer=customer, presence=presence, **form.service_data()
        ),
        done=_section(customer, "competitors"), message=_("Competitor information saved."),
        context=form_frame(customer, title),
    )  # fmt: skip


def affiliation_create(request: HttpRequest, pk: int) -> HttpResponse:
    services.require_edit(request.user)
    customer = queries.customer_get(request.user, pk)
    form = AffiliationForm(request.POST or None, user=request.user)
    return form_page(
        request, form,
        lambda: services.affiliation_create(
            actor=request.user, customer=customer, related=form.related, **form.service_data()
        ),
        done=_section(customer, "affiliations"), message=_("Affiliation recorded."),
        context=form_frame(customer, _("Add an affiliation")),
    )  # fmt: skip


@require_POST
def affiliation_delete(request: HttpRequest, affiliation_pk: int) -> HttpResponse:
    affiliation = queries.affiliation_get(request.user, affiliation_pk)
    customer = affiliation.customer
    services.affiliation_delete(actor=request.user, affiliation=affiliation)
    messages.success(request, _("Affiliation removed."))
    return redirect(_section(customer, "affiliations"))


def customer_url(customer: Customer) -> str:
    return reverse("customers:detail", args=[customer.pk])
