"""What the imports share (core.imports): the model's rules without a query per row give full_clean's answers,
the fast paths for codes give the validators' answers, snapshots are masked as the audit trail masks them."""

import random
from datetime import date

import pytest
from django.core.exceptions import ValidationError

from jiketong.core.imports import FieldRules, Snapshot, choice_words, fast_mobile, fast_uscc, parse_date
from jiketong.core.validators import USCC_CHARSET, normalize_mobile, normalize_uscc, uscc_check_digit
from jiketong.customers.models import Contact, Customer, Member, PaidBy
from jiketong.sales.models import Lead

BAD_AND_GOOD = {
    "name": ["", "天" * 101, "天河\x01城", "天河\u202e城", "天河城", "  ", "a\tb"],
    "source": ["visit", "朋友圈", ""],
    "grade_hint": ["", "A1", "Z9", "a1"],
    "expected_size": [None, 0, 300, -1, 2**40],
    "contact_name": ["张三", "张" * 41, ""],
    "contact_mobile": ["13800138000", "138001380001", ""],
    "need": ["云专线\n第二行", "x\x00y", ""],
    "uscc": ["", "91440106MA59XXXX"],
}


def full_clean_errors(model, values: dict) -> dict:
    record = model(**values)
    try:
        record.full_clean(
            exclude=[f.name for f in model._meta.fields if f.name not in values],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as exc:
        return exc.message_dict
    return {}


@pytest.mark.parametrize("field", sorted(BAD_AND_GOOD))
def test_field_rules_answer_as_full_clean(db, field):
    rules = FieldRules(Lead, [field])
    for value in BAD_AND_GOOD[field]:
        assert rules.errors({field: value}) == full_clean_errors(Lead, {field: value}), (field, value)


def test_field_rules_cover_customers_contacts_and_members(db):
    cases = [
        (Customer, {"type": "外星人", "grade": "Z", "size": -3, "note": "ok", "name": "x" * 101}),
        (Contact, {"email": "not-an-email", "closeness": 9, "birthday": date(1980, 1, 1), "name": ""}),
        (Member, {"paid_by": "统付", "network": "on_net", "short_number": "123456789", "joined_on": date(2024, 1, 1)}),
    ]
    for model, values in cases:
        rules = FieldRules(model, list(values))
        assert rules.errors(values) == full_clean_errors(model, values), model


def test_field_rules_refuse_references():
    with pytest.raises(ValueError):
        FieldRules(Lead, ["org_unit"])


def test_fast_mobile_answers_as_normalize_mobile():
    rng = random.Random(7)
    samples = [f"1{rng.randint(0, 9_999_999_999):010d}" for _ in range(3000)]
    samples += [
        "+86 138 0013 8000",
        "１３８００１３８０００",
        "0086-13800138000",
        "12345678901",
        "17951234567",
        "10086",
    ]
    for value in samples:
        try:
            expected = normalize_mobile(value)
        except ValidationError as exc:
            with pytest.raises(ValidationError) as info:
                fast_mobile(value)
            assert info.value.messages == exc.messages
        else:
            assert fast_mobile(value) == expected, value


def test_fast_uscc_answers_as_normalize_uscc():
    rng = random.Random(11)
    samples = []
    for _ in range(3000):
        first17 = rng.choice("19ANY") + rng.choice("0123456789") + f"{rng.randint(0, 999999):06d}"
        first17 += "".join(rng.choice(USCC_CHARSET + "IOSVZ") for _ in range(9))
        check = uscc_check_digit(first17) if all(ch in USCC_CHARSET for ch in first17) else "0"
        samples.append(first17 + (check if rng.random() < 0.7 else rng.choice(USCC_CHARSET)))
    samples += ["91440106ma59xxxx0x", " 91440106-MA59 ", "９１４４０１０６"]
    for value in samples:
        try:
            expected = normalize_uscc(value)
        except ValidationError as exc:
            with pytest.raises(ValidationError) as info:
                fast_uscc(value)
            assert info.value.messages == exc.messages
        else:
            assert fast_uscc(value) == expected, value


def test_a_snapshot_is_the_audit_trails_masked_snapshot(cast):
    from jiketong.core.audit import snapshot
    from jiketong.core.masking import mask_audit_values
    from jiketong.customers.services import CONTACT_FIELDS

    contact = Contact.objects.create(
        customer=cast.alice_customer,
        name="王13812345678",
        mobile="13900001111",
        email="wang@example.cn",
        birthday=date(1980, 5, 6),
        notes="call 13700002222",
    )
    assert Snapshot(Contact, CONTACT_FIELDS)(contact) == mask_audit_values(
        "customers.contact", snapshot(contact, CONTACT_FIELDS)
    )


def test_choice_words_take_codes_labels_and_aliases():
    words = choice_words(PaidBy.choices, {"统付": PaidBy.GROUP})
    assert words["group"] == words["统付"] == words["paidbythegroup"] == "group"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01", date(2024, 3, 1)),
        ("2024/3/1", date(2024, 3, 1)),
        ("2024年3月1日", date(2024, 3, 1)),
        ("20240301", date(2024, 3, 1)),
        ("2024-03", date(2024, 3, 1)),
        ("2024-03-01 08:00:00", date(2024, 3, 1)),
        ("2024-02-30", None),
        ("下周", None),
        ("", None),
    ],
)
def test_dates_as_people_type_them(text, expected):
    assert parse_date(text) == expected


def test_normalise_org_name_is_what_it_was_before_it_was_made_fast():
    import unicodedata

    from jiketong.core.names import _DROP, ORG_SUFFIXES, normalise_org_name

    def before(name: str) -> str:  # the definition the lead duplicate check had (decision 0101)
        text = unicodedata.normalize("NFKC", name or "").lower()
        key = "".join(ch for ch in text if unicodedata.category(ch) not in _DROP or ch in ".,")
        while True:
            for suffix in ORG_SUFFIXES:
                if key.endswith(suffix) and len(key) > len(suffix):
                    key = key[: -len(suffix)].rstrip(".,")
                    break
            else:
                return key.strip(".,")

    rng = random.Random(3)
    parts = [
        "广州",
        "某某",
        "科技",
        "有限公司",
        "股份有限公司",
        "集团",
        " ",
        "（",
        "）",
        "Co.,Ltd.",
        "ltd",
        ".",
        ",",
        "-",
        "Group",
        "公司",
        "分公司",
        "ＡＢＣ",
        "\t",
        "inc",
        "集团有限公司",
        "有限",
        "·",
        "—",
    ]
    for _ in range(20000):
        name = "".join(rng.choice(parts) for _ in range(rng.randint(0, 6)))
        assert normalise_org_name(name) == before(name), name


# --- progress (decision 0024) ------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_progress_tick_inside_the_writing_transaction_is_kept_on_the_run_without_a_query(settings):
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from jiketong.core.imports import Progress
    from jiketong.sales.models import LeadImportRun

    settings.IMPORT_PROGRESS_SECONDS = 0  # every tick is due: only the transaction keeps it from the database
    run = LeadImportRun.objects.create(file_name="leads.csv", file_path="/nowhere/leads.csv")
    progress = Progress(run)
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        progress.tick(0.5, rows_total=10)
        progress.tick(0.6)
    assert len(captured) == 0
    assert (run.progress, run.rows_total) == (60, 10)
    assert LeadImportRun.objects.get(pk=run.pk).progress == 0
