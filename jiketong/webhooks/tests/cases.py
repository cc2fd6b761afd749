"""Generated tests (jiketong/testing_views.py) for webhooks: administrators' configuration, not customer data
(unscoped); every route answers 403 to anyone without the admin role."""

from jiketong.testing_views import Case, Write
from jiketong.webhooks.models import Delivery, Endpoint

ENDPOINT = {"name": "经分数据仓库", "url": "https://dw.example.com/hook", "events": ["*"]}

CASES = [
    Case(
        Endpoint,
        kinds=("endpoint",),
        unscoped=lambda: Endpoint.objects.order_by("pk").first().pk,
        list="webhooks:list",
        detail="webhooks:detail",
        api_list="/api/v1/webhooks/endpoints",
        api_detail="/api/v1/webhooks/endpoints/{id}",
        reader="frank",
        create=Write("webhooks:create", data=ENDPOINT | {"events": ["order.completed"]}, invalid={"url": "ftp://x"}),
        edit=Write(
            "webhooks:edit",
            data={"name": "经分数据仓库（备）"},
            invalid={"url": "ftp://x"},
            changed=lambda endpoint: endpoint.name == "经分数据仓库（备）",
        ),
        delete=Write("webhooks:delete"),
        api_create=Write("/api/v1/webhooks/endpoints", data=ENDPOINT, invalid=ENDPOINT | {"url": "ftp://x"}),
        api_edit=Write(
            "/api/v1/webhooks/endpoints/{id}",
            data={"name": "经分数据仓库（备）"},
            invalid={"url": "ftp://x"},
            changed=lambda endpoint: endpoint.name == "经分数据仓库（备）",
        ),
        writer="frank",
        not_writer="carol",
    ),
    Case(
        Delivery,
        kinds=("delivery",),
        unscoped=lambda: Delivery.objects.order_by("pk").first().pk,
        detail="webhooks:delivery",
        api_detail="/api/v1/webhooks/deliveries/{id}",
        reader="frank",
    ),
]
OTHER_ROUTES = {"webhooks:create"}
