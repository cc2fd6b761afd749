"""Demo campaigns: the 广州 city supervisor's two campaigns over the demo archive.

- 异网成员策反 (members on another network, 打线), built and launched: each manager of 广州 has a task, and the
  first few targets have a response (contacted, interested with a lead, declined) so the results show figures;
- 校讯通进校园 (教育 customers without 校讯通), built and left ready to launch.
Built through the services, like a person would (the list by INSERT … SELECT). The cross-sell offers come from the
morning's daily jobs, which the demo command runs after loading.
"""

from datetime import timedelta

from django.utils import timezone

from jiketong.catalog.models import Product
from jiketong.org.models import Staff

from . import services
from .models import (
    Audience,
    Campaign,
    CampaignAssignment,
    CampaignResponse,
    CampaignTarget,
    CrossSellOffer,
    MemberRule,
    PeerShare,
)

RESET_MODELS = [CampaignResponse, CampaignAssignment, CampaignTarget, Campaign.products.through, Campaign,
                CrossSellOffer, PeerShare]  # fmt: skip
OUTCOMES = [("contacted", False), ("interested", True), ("declined", False), ("contacted", False)]


def generate(builder) -> None:
    supervisor = Staff.objects.filter(user__username="supervisor").select_related("user").first()
    if supervisor is None:
        return
    actor, today = supervisor.user, timezone.localdate()
    products = {p.code: p for p in Product.objects.filter(code__in=["CRBT", "SCHOOL"])}
    members = services.campaign_create(
        actor=actor, name="异网成员策反", goal="把异网成员迁回本网，并开通集团彩铃",
        starts_on=today - timedelta(days=10),
        ends_on=today + timedelta(days=50), budget=20000, audience=Audience.MEMBERS,
        criteria={"member_rule": MemberRule.OFF_NET}, products=[p for c, p in products.items() if c == "CRBT"],
    )  # fmt: skip
    _build(members)
    members.refresh_from_db()
    if members.targets_count:
        services.campaign_launch(actor=actor, campaign=members)
        for target, (outcome, lead) in zip(
            CampaignTarget.objects.filter(campaign=members).select_related("manager__user")[: len(OUTCOMES)],
            OUTCOMES,
            strict=False,
        ):
            worker = target.manager.user if target.manager_id else actor
            services.response_record(actor=worker, target=target, outcome=outcome, make_lead=lead, note="演示反馈")
    schools = services.campaign_create(
        actor=actor, name="校讯通进校园", goal="向未开通校讯通的教育客户推荐家校互动", starts_on=today,
        ends_on=today + timedelta(days=60), budget=8000, criteria={"industry": "education", **(
            {"lacks": products["SCHOOL"].pk} if "SCHOOL" in products else {})},
        products=[p for c, p in products.items() if c == "SCHOOL"],
    )  # fmt: skip
    _build(schools)
    builder.progress("campaigns: 2")


def _build(campaign: Campaign) -> None:
    """The list built here and now, whatever its size (the demo has no task worker running yet)."""
    Campaign.objects.filter(pk=campaign.pk).update(status="building")
    services.run_build(campaign.pk)
