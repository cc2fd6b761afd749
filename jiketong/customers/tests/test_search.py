"""Finding a customer by name, short name, USCC, customer number, full pinyin or pinyin initials."""

import pytest

from jiketong import testing
from jiketong.customers.queries import customer_list
from jiketong.customers.search import build_search_text, initials_variants
from jiketong.customers.services import customer_update


def found(user, text) -> set[str]:
    _filter, rows = customer_list(user, {"search": text})
    return {c.name for c in rows}


@pytest.mark.parametrize(
    "query",
    ["gzdt", "GZDT", "ｇｚｄｔ", "guangzhouditie", "广州地铁", "地铁集团", "gzdtjt", " gz dt "],
)
def test_ways_of_typing_find_guangzhou_metro(cast, query):
    assert found(cast.frank.user, query) == {"广州地铁集团有限公司"}


def test_search_by_uscc_in_any_case(cast):
    assert found(cast.frank.user, cast.alice_customer.uscc.lower()) == {"广州地铁集团有限公司"}


def test_search_by_customer_number(cast):
    assert found(cast.frank.user, cast.alice_customer.number) == {"广州地铁集团有限公司"}


@pytest.mark.parametrize("query", ["cqyh", "zqyh"])
def test_every_reading_of_a_heteronym_finds_the_customer(cast, query):
    testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice, name="重庆银行广州分行")
    assert found(cast.alice.user, query) == {"重庆银行广州分行"}


@pytest.mark.parametrize("query", ["sxrmyy", "dxrmyy"])
def test_surname_reading_of_shan_finds_the_customer(cast, query):
    testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice, name="单县人民医院")
    assert found(cast.alice.user, query) == {"单县人民医院"}


def test_initials_variants_put_the_phrase_reading_first():
    variants = initials_variants("长沙银行")
    assert variants[0] == "csyh"
    assert "zsyh" in variants
    assert len(variants) == len(set(variants))


def test_long_names_keep_single_character_alternatives():
    variants = initials_variants("中国长城科技集团股份有限公司")
    assert variants[0] == "zgcckjjtgfyxgs"
    assert "zgzckjjtgfyxgs" in variants
    assert len(variants) <= 16


def test_search_text_holds_every_searchable_form():
    text = build_search_text(
        name="广州地铁集团有限公司", short_name="广州地铁", number="4401X", uscc="914403001922038216"
    )
    for part in ["广州地铁集团有限公司", "4401x", "914403001922038216", "guangzhouditie", "gzdt", "gzdtjtyxgs"]:
        assert part in text.split()


def test_search_follows_renames(cast):
    customer_update(actor=cast.alice.user, customer=cast.alice_customer, name="广州市轨道交通集团")
    assert found(cast.alice.user, "gzsgdjt") == {"广州市轨道交通集团"}
    assert found(cast.alice.user, "gzdtjt") == set()


def test_search_never_reaches_outside_scope(cast):
    assert found(cast.alice.user, "天河软件园") == set()
    assert found(cast.bob.user, "天河软件园") == {"天河软件园管理委员会"}
    assert found(cast.dave.user, "gzdt") == set()


def test_empty_search_lists_the_whole_scope(cast):
    assert found(cast.alice.user, "  ") == {"广州地铁集团有限公司", "越秀区人民医院"}
