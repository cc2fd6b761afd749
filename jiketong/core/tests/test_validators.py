"""统一社会信用代码 (GB 32100-2015), mainland mobile numbers, and masking."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from jiketong.core.validators import (
    USCC_CHARSET,
    mask_email,
    mask_mobile,
    normalize_mobile,
    normalize_uscc,
    uscc_check_digit,
)

# Published codes of well-known companies: 华为技术有限公司, 深圳市腾讯计算机系统有限公司.
HUAWEI = "914403001922038216"
TENCENT = "9144030071526726XG"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def with_check(first17: str) -> str:
    return first17 + uscc_check_digit(first17)


def uscc_error(value: str) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        normalize_uscc(value)
    return info.value


# --- 统一社会信用代码 ------------------------------------------------------------------------------
@pytest.mark.parametrize("authority", ["1", "5", "9", "A", "N", "Y"])
def test_uscc_with_any_authority_code_and_right_check_digit_is_valid(authority):
    code = with_check(f"{authority}1440106MA5CXXX01")
    assert normalize_uscc(code) == code


@pytest.mark.parametrize("code", [HUAWEI, TENCENT])
def test_real_world_uscc_is_valid(code):
    assert normalize_uscc(code) == code


def test_uscc_with_wrong_check_digit_names_the_expected_digit():
    wrong = HUAWEI[:17] + "7"
    error = uscc_error(wrong)
    assert error.code == "uscc_checksum"
    assert error.messages == ["The check digit is wrong: the last character should be 6, not 7."]


@pytest.mark.parametrize("value, n", [(HUAWEI[:17], 17), (HUAWEI + "0", 19), ("", 0)])
def test_uscc_of_wrong_length_is_rejected_with_its_length(value, n):
    error = uscc_error(value)
    assert error.code == "uscc_length"
    assert error.messages == [f"A unified social credit code has 18 characters; this one has {n}."]


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_uscc_with_forbidden_letter_is_rejected(letter):
    code = HUAWEI[:10] + letter + HUAWEI[11:]
    error = uscc_error(code)
    assert error.code == "uscc_charset"
    assert error.messages == [f"The code contains characters not allowed in a unified social credit code: {letter}."]


@pytest.mark.parametrize("authority", ["0", "J", "X"])
def test_uscc_with_unknown_registration_authority_is_rejected(authority):
    error = uscc_error(with_check(authority + HUAWEI[1:17]))
    assert error.code == "uscc_authority"
    assert error.messages == [
        f"The first character (registration authority) {authority} is not a valid authority code."
    ]


def test_uscc_with_letter_in_division_code_is_rejected():
    assert uscc_error(with_check("9144A300192203821")).code == "uscc_region"


def test_uscc_organisation_type_zero_is_rejected():
    assert uscc_error(with_check("90" + HUAWEI[2:17])).code == "uscc_type"


@pytest.mark.parametrize(
    "typed",
    [
        "9144030071526726xg",  # lowercase
        "９１４４０３００７１５２６７２６ＸＧ",  # full-width
        " 91 4403 0071 5267 26XG ",  # spaces
        "91-440300-715267-26XG",  # dashes
    ],
)
def test_uscc_input_is_normalised(typed):
    assert normalize_uscc(typed) == TENCENT


first17 = st.builds(
    lambda authority, kind, region, rest: authority + kind + region + rest,
    st.sampled_from(sorted("123456789ABCDEFGHNY")),
    st.sampled_from("123456789"),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.text(alphabet=USCC_CHARSET, min_size=9, max_size=9),
)


@given(prefix=first17, last=st.sampled_from(USCC_CHARSET))
def test_uscc_property_only_the_computed_check_character_passes(prefix, last):
    code = prefix + last
    if last == uscc_check_digit(prefix):
        assert normalize_uscc(code) == code
    else:
        with pytest.raises(ValidationError) as info:
            normalize_uscc(code)
        assert info.value.code == "uscc_checksum"


# --- mobiles ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "typed",
    ["13812345678", "+86 138-1234-5678", "0086 13812345678", "１３８１２３４５６７８", "+86１３８ １２３４ ５６７８"],
)
def test_mobile_input_is_normalised_to_eleven_digits(typed):
    assert normalize_mobile(typed) == "13812345678"


@pytest.mark.parametrize(
    "typed",
    [
        "12345678901",  # no such mobile prefix
        "1381234567",  # 10 digits
        "138123456789",  # 12 digits
        "23812345678",  # does not start with 1
        "02012345678",  # a Guangzhou landline
        "+1 415 555 2671",  # not mainland China
    ],
)
def test_non_mobile_numbers_are_rejected_with_the_message(typed):
    with pytest.raises(ValidationError) as info:
        normalize_mobile(typed)
    assert info.value.code == "mobile_invalid"
    assert info.value.messages == [f"{typed} is not a valid mainland China mobile number (11 digits, starting with 1)."]


def test_empty_mobile_asks_for_one():
    with pytest.raises(ValidationError) as info:
        normalize_mobile(" - ")
    assert info.value.messages == ["Enter a mobile number."]


# --- masking ------------------------------------------------------------------------------------
def test_mobile_is_masked_to_first_three_and_last_four():
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_mobile("") == ""


def test_email_is_masked_to_first_letter_and_domain():
    assert mask_email("zhangsan@example.com.cn") == "z***@example.com.cn"
    assert mask_email("") == ""
