"""The customer 360's two-level panel on a province instance, and sharing a group with HQ from it."""

import pytest
from django.urls import reverse

from ..models import SharedGroup
from .conftest import as_province

pytestmark = pytest.mark.django_db


def test_a_supervisor_shares_the_group_from_the_customer_page(cast, client_as):
    client = client_as(cast.carol)
    with as_province():
        page = client.get(reverse("customers:detail", args=[cast.alice_customer.pk])).content.decode()
        assert 'data-testid="share-with-hq"' in page
        response = client.post(reverse("federation:share", args=[cast.alice_customer.pk]))
        assert response.status_code == 302
        assert SharedGroup.objects.filter(customer=cast.alice_customer).exists()
        page = client.get(reverse("customers:detail", args=[cast.alice_customer.pk])).content.decode()
    assert "share-with-hq" not in page and "已与集团公司共享" in page


def test_a_manager_cannot_share_and_a_hidden_customer_is_not_found(cast, client_as):
    with as_province():
        assert client_as(cast.alice).post(reverse("federation:share", args=[cast.alice_customer.pk])).status_code == 403
        assert (
            client_as(cast.carol).post(reverse("federation:share", args=[cast.zhejiang_customer.pk])).status_code == 404
        )
    assert not SharedGroup.objects.exists()


def test_a_single_instance_has_no_panel_and_no_sharing(cast, client_as):
    client = client_as(cast.carol)
    page = client.get(reverse("customers:detail", args=[cast.alice_customer.pk])).content.decode()
    assert "federation-panel" not in page
    assert client.post(reverse("federation:share", args=[cast.alice_customer.pk])).status_code == 404
