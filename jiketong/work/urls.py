from django.urls import path

from . import views

app_name = "work"

urlpatterns = [
    path("activities/", views.activity_list, name="activity_list"),
    path("activities/<int:activity_pk>/", views.activity_detail, name="activity_detail"),
    path("customers/<int:customer_pk>/visit/", views.activity_create, name="activity_create"),
    path("leads/<int:lead_pk>/follow-up/", views.follow_up_create, name="lead_follow_up"),
    path("opportunities/<int:opportunity_pk>/follow-up/", views.follow_up_create, name="opportunity_follow_up"),
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/new/", views.task_create, name="task_create"),
    path("tasks/<int:pk>/", views.task_detail, name="task_detail"),
    path("tasks/<int:pk>/complete/", views.task_complete, name="task_complete"),
    path("tasks/<int:pk>/cancel/", views.task_cancel, name="task_cancel"),
    path("agenda/", views.agenda, name="agenda"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification_read"),
    path("notifications/read-all/", views.notification_read_all, name="notification_read_all"),
    path("compliance/coverage/", views.coverage, name="coverage"),
    path("compliance/follow-ups/", views.follow_ups, name="follow_ups"),
    path("compliance/follow-ups.xlsx", views.follow_ups_export, name="follow_ups_export"),
    path("compliance/logins/", views.absent_users, name="absent_users"),
    path("compliance/logins.xlsx", views.absent_users_export, name="absent_users_export"),
    path("handovers/", views.handover_list, name="handovers"),
    path("handovers/new/", views.handover_create, name="handover_create"),
    path("handovers/orphans/", views.orphans, name="orphans"),
]
