"""The demo shows a real day of packages and reference cases: packages in the catalog, the manager's package quotes
(one waiting for the city supervisor), and published cases whose text never names their customer."""

import pytest

from jiketong.catalog.models import SolutionPackage
from jiketong.deals.models import QuoteLine, QuoteStatus
from jiketong.demo.generator import generate
from jiketong.sales.models import ReferenceCase


@pytest.fixture
def demo(db):
    generate(groups=300, seed=7)


def test_the_demo_has_packages_package_quotes_and_reference_cases(demo):
    assert SolutionPackage.objects.filter(is_active=True).count() >= 4
    package_quotes = {line.quote for line in QuoteLine.objects.filter(package__isnull=False).select_related("quote")}
    assert {quote.status for quote in package_quotes} >= {QuoteStatus.PENDING, QuoteStatus.APPROVED}
    cases = list(ReferenceCase.objects.select_related("customer"))
    assert len(cases) >= 3
    for case in cases:
        assert case.customer.name not in case.title + case.what_won + case.public_name
        assert case.products.exists() and case.value > 0
