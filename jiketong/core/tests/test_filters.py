"""List filters (core.filters): an id past 64 bits is the filter's error on the page, never a 500."""

import pytest

from jiketong.core.filters import INT64_MAX, fits_int64

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    "url",
    [
        f"/customers/?owner={HUGE}",
        f"/customers/?parent={HUGE}",
        f"/customers/?owner=-{HUGE}",
        f"/sales/leads/?owner={HUGE}",
        f"/sales/opportunities/?owner={HUGE}",
        f"/sales/opportunities/?stage={HUGE}",
        f"/sales/opportunities/?customer={HUGE}",
        f"/service/tickets/?customer={HUGE}",
        f"/service/surveys/?customer={HUGE}",
    ],
)
def test_a_list_given_an_id_past_64_bits_answers_the_page(cast, client_as, url):
    answer = client_as(cast.carol).get(url)
    assert answer.status_code == 200


def test_the_refused_filter_is_shown_as_its_error_and_the_list_is_not_filtered_by_it(cast, client_as):
    answer = client_as(cast.carol).get(f"/customers/?owner={HUGE}")
    assert "owner" in answer.context["filter"].errors
    assert cast.alice_customer.name in answer.content.decode()


def test_ids_within_64_bits_still_filter(cast, client_as):
    answer = client_as(cast.carol).get(f"/customers/?owner={cast.bob.pk}")
    page = answer.content.decode()
    assert cast.bob_customer.name in page and cast.alice_customer.name not in page
    assert client_as(cast.carol).get(f"/sales/opportunities/?customer={INT64_MAX}").status_code == 200


def test_the_bound_is_the_64_bit_signed_range():
    assert fits_int64(INT64_MAX) and fits_int64(-INT64_MAX) and fits_int64("abc")
    assert not fits_int64(INT64_MAX + 1) and not fits_int64(f" {HUGE} ")
