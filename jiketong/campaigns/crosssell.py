"""Cross-sell (DOMAIN §12 "which in-service customers lack what similar customers hold"), computed nightly.

Similar customers are the in-service customers (在网 or 预警) of the same industry and size band (bands.py).
For each such peer group and product on sale, `PeerShare` keeps how many peers there are and how many hold the
product (an in-service subscription). A customer's offers are the products it lacks whose share in its group
is at least CROSSSELL_MIN_SHARE, in a group of at least CROSSSELL_MIN_PEERS customers (fewer says nothing),
ranked by that share (ties: product id), at most CROSSSELL_MAX_OFFERS each. Both tables are rewritten whole,
set-based: two GROUP BYs, then one INSERT … SELECT with a window function, so the 360 panel reads a few rows
by its (customer, rank) key and no page computes a share.
"""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count

from jiketong.catalog.models import Product, Subscription, SubscriptionStatus
from jiketong.customers.models import Customer

from .bands import SIZE_BANDS, UNKNOWN_SIZE, size_band_expression
from .models import CrossSellOffer, PeerShare
from .targeting import IN_SERVICE


def min_share() -> Decimal:
    return Decimal(str(getattr(settings, "CROSSSELL_MIN_SHARE", "0.20")))


def min_peers() -> int:
    return getattr(settings, "CROSSSELL_MIN_PEERS", 5)


def max_offers() -> int:
    return getattr(settings, "CROSSSELL_MAX_OFFERS", 5)


def _band_sql(column: str) -> str:
    """bands.size_band in plain SQL (constants only, no user input)."""
    whens = []
    for code, _label, low, high in SIZE_BANDS:
        upper = f" AND {column} < {int(high)}" if high is not None else ""
        whens.append(f"WHEN {column} >= {int(low)}{upper} THEN '{code}'")
    return f"(CASE {' '.join(whens)} ELSE '{UNKNOWN_SIZE}' END)"


def peer_shares() -> list[PeerShare]:
    """The peer groups' shares, from two GROUP BYs over the in-service customers and their subscriptions."""
    peers = {
        (row["industry_id"], row["band"]): row["n"]
        for row in Customer.objects.filter(status__in=IN_SERVICE)
        .order_by()
        .annotate(band=size_band_expression())
        .values("industry_id", "band")
        .annotate(n=Count("pk"))
    }
    holders = (
        Subscription.objects.filter(
            status=SubscriptionStatus.ACTIVE, customer__status__in=IN_SERVICE, product__is_active=True
        )
        .order_by()
        .annotate(band=size_band_expression("customer__size"))
        .values("customer__industry_id", "band", "product_id")
        .annotate(n=Count("customer_id", distinct=True))
    )
    rows = []
    for row in holders:
        total = peers.get((row["customer__industry_id"], row["band"]), 0)
        if total:
            rows.append(
                PeerShare(
                    industry_id=row["customer__industry_id"],
                    size_band=row["band"],
                    product_id=row["product_id"],
                    peers=total,
                    holders=row["n"],
                    share=(Decimal(row["n"]) / total).quantize(Decimal("0.0001")),
                )  # fmt: skip
            )
    return rows


@transaction.atomic
def refresh(today: date) -> tuple[int, int]:
    """Rewrite the peer shares and every in-service customer's offers. Idempotent. Answers (groups, offers)."""
    shares = peer_shares()
    PeerShare.objects.all().delete()
    PeerShare.objects.bulk_create(shares, batch_size=2000)
    CrossSellOffer.objects.all().delete()
    offer, peer = CrossSellOffer._meta.db_table, PeerShare._meta.db_table
    customer, subscription = Customer._meta.db_table, Subscription._meta.db_table
    statuses = ", ".join(["%s"] * len(IN_SERVICE))
    sql = f"""
        INSERT INTO {offer} (customer_id, product_id, rank, industry_id, size_band, peers, holders, share, computed_on)
        SELECT customer_id, product_id, rnk, industry_id, size_band, peers, holders, share, %s FROM (
            SELECT c.id AS customer_id, p.product_id, c.industry_id, p.size_band, p.peers, p.holders, p.share,
                   ROW_NUMBER() OVER (PARTITION BY c.id ORDER BY p.share DESC, p.product_id) AS rnk
            FROM {customer} c
            JOIN {peer} p ON p.industry_id = c.industry_id AND p.size_band = {_band_sql("c.size")}
            WHERE c.status IN ({statuses}) AND p.share >= %s AND p.peers >= %s
              AND NOT EXISTS (
                  SELECT 1 FROM {subscription} s
                  WHERE s.customer_id = c.id AND s.product_id = p.product_id AND s.status = %s
              )
        ) ranked
        WHERE rnk <= %s
    """
    params = [today, *IN_SERVICE, min_share(), min_peers(), SubscriptionStatus.ACTIVE, max_offers()]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        written = cursor.rowcount
    return len(shares), max(written, 0)


def whitespace_products():
    """The products a whitespace list may be asked for: those on sale."""
    return Product.objects.filter(is_active=True).order_by("category", "code")
