"""Money as people write it: the yuan sign after a minus, two decimals, thousands separated."""

from decimal import Decimal

from jiketong.core.money import format_yuan


def test_money_shows_two_decimals_and_thousands():
    assert format_yuan(Decimal("1234567.5")) == "¥1,234,567.50"
    assert format_yuan(Decimal("0")) == "¥0.00"


def test_a_negative_amount_puts_the_minus_before_the_yuan_sign():
    assert format_yuan(Decimal("-900")) == "-¥900.00"


def test_no_amount_shows_nothing():
    assert format_yuan(None) == ""
