from hypothesis import given
from hypothesis import strategies as st

from jiketong.core.trees import ALPHABET, _upper_bound, subtree
from jiketong.customers.models import Customer
from jiketong.testing import make_customer

paths = st.text(alphabet=ALPHABET, min_size=1, max_size=12)


def test_upper_bound_carries_past_the_last_letter():
    assert _upper_bound("0001") == "0002"
    assert _upper_bound("000Z") == "001"
    assert _upper_bound("ZZZZ") is None


@given(prefix=paths, other=paths)
def test_a_path_is_in_the_range_exactly_when_it_starts_with_the_prefix(prefix, other):
    upper = _upper_bound(prefix)
    in_range = other >= prefix and (upper is None or other < upper)
    assert in_range == other.startswith(prefix)


def test_subtree_finds_the_group_and_only_the_group(org):
    group = make_customer(org_unit=org["440106"], name="中国平安保险（集团）股份有限公司")
    branch = make_customer(org_unit=org["330106"], parent=group, name="平安银行杭州分行")
    sub_branch = make_customer(org_unit=org["330106"], parent=branch, name="平安银行西湖支行")
    make_customer(org_unit=org["440106"], name="广州地铁集团有限公司")
    found = set(Customer.objects.filter(subtree(group.path)).values_list("pk", flat=True))
    assert found == {group.pk, branch.pk, sub_branch.pk}
