from django.urls import path

from . import views

app_name = "service"

urlpatterns = [
    path("tickets/", views.ticket_list, name="ticket_list"),
    path("tickets/<int:pk>/", views.ticket_detail, name="ticket_detail"),
    path("tickets/<int:pk>/edit/", views.ticket_edit, name="ticket_edit"),
    path("customers/<int:customer_pk>/tickets/new/", views.ticket_create, name="ticket_create"),
    *[
        path(f"tickets/<int:pk>/{action}/", views.ticket_action, {"action": action}, name=f"ticket_{action}")
        for action in views.ACTIONS
    ],
    path("breaches/", views.breach_board, name="breach_board"),
    path("surveys/", views.survey_list, name="survey_list"),
    path("surveys/<int:pk>/", views.survey_detail, name="survey_detail"),
    path("customers/<int:customer_pk>/surveys/new/", views.survey_create, name="survey_create"),
    path("satisfaction/quadrant/", views.quadrant, name="quadrant"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/days/new/", views.calendar_day_add, name="calendar_day_add"),
    path("calendar/days/<int:pk>/remove/", views.calendar_day_remove, name="calendar_day_remove"),
    path("calendar/sla/<int:pk>/", views.sla_policy_edit, name="sla_policy_edit"),
]
