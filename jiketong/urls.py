from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from jiketong.api import api
from jiketong.core import views as core_views
from jiketong.work import views as work_views

urlpatterns = [
    path("", work_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("customers/", include("jiketong.customers.urls")),
    path("catalog/", include("jiketong.catalog.urls")),
    path("audit/", include("jiketong.customers.audit_urls")),
    path("events/", include("jiketong.core.event_urls")),
    path("exports/", include("jiketong.core.export_urls")),
    path("sales/", include("jiketong.sales.urls")),
    path("deals/", include("jiketong.deals.urls")),
    path("work/", include("jiketong.work.urls")),
    path("service/", include("jiketong.service.urls")),
    path("billing/", include("jiketong.billing.urls")),
    path("analytics/", include("jiketong.analytics.urls")),
    path("churn/", include("jiketong.churn.urls")),
    path("campaigns/", include("jiketong.campaigns.urls")),
    path("defence/", include("jiketong.defence.urls")),
    path("assessment/", include("jiketong.assessment.urls")),
    path("webhooks/", include("jiketong.webhooks.urls")),
    path("federation/", include("jiketong.federation.urls")),
    path("org/", include("jiketong.org.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]
