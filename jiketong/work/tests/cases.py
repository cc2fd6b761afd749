"""Generated tests (jiketong/testing_views.py) for visits, tasks and the inbox; the world is tests/scope.py's."""

from jiketong.core.models import Notification
from jiketong.testing_views import Case, Write
from jiketong.work.models import Activity, Task

CASES = [
    Case(
        Activity,
        kinds=("activity",),
        find=lambda customer: Activity.objects.filter(customer=customer).first().pk,
        list="work:activity_list",
        detail="work:activity_detail",
        api_list="/api/v1/activities",
        api_detail="/api/v1/activities/{id}",
        create=Write(
            "work:activity_create",
            data={"kind": "visit", "happened_at": "2026-11-30 10:00", "subject": "年度回访"},
            invalid={"happened_at": "昨天"},
        ),
        not_writer="grace",
    ),
    Case(
        Task,
        kinds=("task",),
        find=lambda customer: Task.objects.filter(customer=customer).first().pk,
        list="work:task_list",
        detail="work:task_detail",
        api_list="/api/v1/tasks",
        api_detail="/api/v1/tasks/{id}",
        create=Write("work:task_create", data={"title": "回访客户", "due_on": "2026-12-31"}, invalid={"title": ""}),
        api_create=Write(
            "/api/v1/tasks", data={"title": "回访客户", "due_on": "2026-12-31"}, invalid={"due_on": "明天"}
        ),
        not_writer="grace",
    ),
    # Inbox entries belong to their recipient; only the recipient may mark one read (POST only).
    Case(
        Notification,
        kinds=("notification",),
        find=lambda customer: Notification.objects.filter(customer_id=customer.pk).first().pk,
        list="work:notifications",
        api_list="/api/v1/notifications",
        label=lambda notification: notification.title,
    ),
]
OTHER_ROUTES = {
    "home", "work:task_create", "work:agenda", "work:notification_read_all", "work:coverage", "work:follow_ups",
    "work:follow_ups_export", "work:absent_users", "work:absent_users_export", "work:handovers",
    "work:handover_create", "work:orphans", "/api/v1/agenda", "/api/v1/notifications/read-all",
    "/api/v1/compliance/coverage", "/api/v1/compliance/follow-ups", "/api/v1/compliance/logins", "/api/v1/handovers",
    "/api/v1/handovers/orphans",
}  # fmt: skip
