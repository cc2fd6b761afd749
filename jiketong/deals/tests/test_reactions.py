"""The deals app's reactions: a quote's approvers and its submitter hear about it, once per event."""

import pytest
from django.urls import reverse

from jiketong.core.models import Event, Notification
from jiketong.deals import reactions, services

pytestmark = pytest.mark.django_db


def inbox(staff):
    return list(Notification.objects.filter(recipient=staff.user).order_by("id"))


def test_an_approval_tells_the_submitter_with_the_comment_and_a_link(
    deals, quote_at, django_capture_on_commit_callbacks
):
    quote = quote_at("5")
    with django_capture_on_commit_callbacks(execute=True):
        services.quote_approve(actor=deals.carol.user, quote=quote, comment="同意，城市授权内")
    (note,) = inbox(deals.alice)
    assert note.kind == "quote_decision" and quote.number in note.title and "approved" in note.title
    assert "同意，城市授权内" in note.body and deals.alice_customer.name in note.body
    assert note.url == reverse("deals:quote_detail", args=[quote.pk])
    assert note.customer_id == deals.alice_customer.pk
    assert not inbox(deals.carol)[1:]  # the approver was told it waits (on submit), nothing more


def test_a_rejection_tells_the_submitter_why(deals, quote_at, django_capture_on_commit_callbacks):
    quote = quote_at("5")
    with django_capture_on_commit_callbacks(execute=True):
        services.quote_reject(actor=deals.carol.user, quote=quote, comment="折扣过深，请重新报价")
    (note,) = inbox(deals.alice)
    assert "rejected" in note.title and "折扣过深，请重新报价" in note.body


def test_the_same_decision_handled_twice_tells_the_submitter_once(deals, quote_at, django_capture_on_commit_callbacks):
    quote = quote_at("5")
    with django_capture_on_commit_callbacks(execute=True):
        services.quote_approve(actor=deals.carol.user, quote=quote, comment="同意")
    event = Event.objects.get(name="quote.decided")
    reactions.quote_decided(event)
    reactions.quote_decided(event)
    assert len(inbox(deals.alice)) == 1


def test_an_automatic_approval_tells_nobody(deals, quote_at, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        quote_at("0")
    assert not Notification.objects.exists()


def test_a_submission_tells_the_approvers_once_per_event(deals, quote_at, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        quote = quote_at("5")
    event = Event.objects.get(name="quote.submitted")
    reactions.quote_submitted(event)
    (note,) = inbox(deals.carol)
    assert note.kind == "quote_approval" and quote.number in note.title
    assert note.url == reverse("deals:quote_detail", args=[quote.pk])
    assert note.key == f"quote-submitted:{event.pk}"


def test_a_new_version_submitted_again_tells_the_approvers_again(deals, quote_at, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        quote = quote_at("5")
        services.quote_reject(actor=deals.carol.user, quote=quote, comment="再低一点")
        again = services.quote_new_version(actor=deals.alice.user, quote=quote)
        services.quote_submit(actor=deals.alice.user, quote=again)
    assert [n.kind for n in inbox(deals.carol)] == ["quote_approval", "quote_approval"]
