"""The sync API's bodies (province → HQ, HQ → province). Every payload is a closed schema: a key HQ does not
know (a phone number, a key person's mobile) is refused, so nothing personal can travel by mistake."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict

Text = Annotated[str, Field(max_length=100)]
Code = Annotated[str, Field(max_length=40)]
Count = Annotated[int, Field(ge=0, le=2**53)]
Yuan = Annotated[Decimal, Field(max_digits=18, decimal_places=2, allow_inf_nan=False)]


class Closed(Schema):
    model_config = ConfigDict(extra="forbid")


class GroupPayload(Closed):
    uscc: Annotated[str, Field(max_length=18)] = ""
    group_code: Annotated[str, Field(max_length=20)] = ""
    name: Text
    industry: Annotated[str, Field(max_length=20)] = ""


class UnitPayload(Closed):
    group: Code
    name: Text
    is_head: bool = False
    org_unit_code: Annotated[str, Field(max_length=12)]
    org_unit_name: Annotated[str, Field(max_length=60)] = ""
    owner_name: Annotated[str, Field(max_length=40)] = ""
    grade: Annotated[str, Field(max_length=2)] = ""
    status: Annotated[str, Field(max_length=10)] = ""
    products: Annotated[list[Annotated[str, Field(max_length=60)]], Field(max_length=100)] = []
    at_risk: bool = False


class UnitMonthPayload(Closed):
    group: Code
    revenue: Yuan = Decimal(0)
    members: Count = 0
    arrears: bool = False


class IndicatorPayload(Closed):
    org_unit_code: Annotated[str, Field(max_length=12)]
    org_unit_name: Annotated[str, Field(max_length=60)] = ""
    industry: Annotated[str, Field(max_length=20)]
    grade: Annotated[str, Field(max_length=2)]
    in_service: Count = 0
    new: Count = 0
    churned: Count = 0
    revenue: Yuan = Decimal(0)
    members: Count = 0
    mobile: Count = 0
    integrated: Count = 0
    categorised: Count = 0


class ContactPayload(Closed):
    """A head-office contact the province marked shareable: a name and a title only (PIPL minimum)."""

    group: Code
    name: Annotated[str, Field(max_length=40)]
    title: Annotated[str, Field(max_length=40)] = ""


class Tombstone(Closed):
    deleted: Literal[True]


PAYLOADS = {
    "group": GroupPayload,
    "unit": UnitPayload,
    "unit_month": UnitMonthPayload,
    "indicator": IndicatorPayload,
    "contact": ContactPayload,
}


class RowIn(Schema):
    seq: Annotated[int, Field(ge=1, le=2**63 - 1, description="The row's sequence number in the province.")]
    province: Annotated[str, Field(max_length=6, description="The province the row belongs to: the sender's own.")]
    kind: Literal["group", "unit", "unit_month", "indicator", "contact"]
    key: Annotated[str, Field(min_length=1, max_length=80)]
    period: Annotated[str, Field(max_length=7, pattern=r"^(\d{4}-\d{2})?$", description="YYYY-MM, or empty.")] = ""
    payload: dict[str, Any] = Field(
        description="The row's content (see docs/federation.md: a closed set of keys per kind), or "
        '`{"deleted": true}` for a row the province no longer has.'
    )


class SenderStatus(Schema):
    pending: Count = Field(0, description="Rows still waiting in the province after this batch.")
    failures: Count = Field(0, description="Failed attempts since the last success.")
    last_error: Annotated[str, Field(max_length=500)] = ""


class BatchIn(Schema):
    province: Annotated[str, Field(max_length=6)]
    rows: Annotated[list[RowIn], Field(max_length=5000)] = []
    status: SenderStatus = SenderStatus()


class BatchOut(Schema):
    province: str
    accepted: int = Field(description="Rows applied (a row older than the one HQ holds changes nothing).")
    last_seq: int = Field(description="The highest sequence number HQ has received from this province.")


class CursorOut(Schema):
    province: str
    last_seq: int
    last_batch_at: str | None


class DirectiveOut(Schema):
    seq: int
    kind: Literal["account", "target", "catalog", "discount"] = Field(
        description="account: a national account assignment; target: a national target; catalog: a national "
        "product or solution package; discount: an HQ-level discount approval rule."
    )
    province: str = Field(description="The province it is for; empty for every province.")
    key: str
    payload: dict[str, Any] = Field(
        description="AccountDirective, TargetDirective, ProductDirective / PackageDirective (`item`) or "
        "DiscountDirective (docs/federation.md)."
    )


class AccountDirective(Closed):
    group: Code
    uscc: str = ""
    group_code: str = ""
    lead_province: str
    manager_name: str
    team: list[str] = []


class TargetDirective(Closed):
    indicator: str
    period_type: Literal["month", "year"]
    period: date
    value: Decimal


Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
Price = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]


class ProductDirective(Closed):
    """A national product as HQ's catalog holds it; the province creates or changes its product of that code."""

    item: Literal["product"]
    code: Annotated[str, Field(max_length=20)]
    name: Annotated[str, Field(max_length=60)]
    category: Annotated[str, Field(max_length=20)]
    billing_unit: Annotated[str, Field(max_length=12)]
    stickiness: Annotated[str, Field(max_length=12)] = "none"
    standard_price: Price
    one_time_fee: Price = Decimal(0)
    is_basic_service: bool = False
    cost_rate: Annotated[Decimal, Field(ge=0, le=1, max_digits=4, decimal_places=3)] | None = None
    is_active: bool = True
    description: str = ""


class PackageDirective(Closed):
    """A national solution package: its products by code (sent before it) and quantities."""

    item: Literal["package"]
    code: Annotated[str, Field(max_length=20)]
    name: Annotated[str, Field(max_length=60)]
    industry: Annotated[str, Field(max_length=20)]
    price: Price
    description: str = ""
    is_active: bool = True
    items: Annotated[
        list[tuple[Annotated[str, Field(max_length=20)], Annotated[int, Field(ge=1)]]], Field(min_length=1)
    ]


class DiscountDirective(Closed):
    """An HQ-level discount approval rule: how deep each level may grant, for a category (empty: the default)."""

    category: Annotated[str, Field(max_length=20)] = ""
    manager_max: Percent
    city_max: Percent
    province_max: Percent
