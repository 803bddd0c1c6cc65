"""Pages of activities, tasks and the calendar (included in the "customers" namespace)."""

from django.urls import path

from . import views

urlpatterns = [
    path(
        "contacts/<int:pk>/timeline/", views.RecordTimelineView.as_view(model_name="contact"), name="contact_timeline"
    ),
    path(
        "companies/<int:pk>/timeline/", views.RecordTimelineView.as_view(model_name="company"), name="company_timeline"
    ),
    path("activities/", views.ActivityListView.as_view(), name="activity_list"),
    path("activities/new/", views.ActivityFormView.as_view(), name="activity_create"),
    path("activities/<int:pk>/", views.ActivityDetailView.as_view(), name="activity_detail"),
    path("activities/<int:pk>/edit/", views.ActivityFormView.as_view(), name="activity_edit"),
    path("activities/<int:pk>/delete/", views.ActivityDeleteView.as_view(), name="activity_delete"),
    path("tasks/", views.TaskListView.as_view(), name="task_list"),
    path("tasks/new/", views.TaskFormView.as_view(), name="task_create"),
    path("tasks/<int:pk>/", views.TaskDetailView.as_view(), name="task_detail"),
    path("tasks/<int:pk>/edit/", views.TaskFormView.as_view(), name="task_edit"),
    path("tasks/<int:pk>/delete/", views.TaskDeleteView.as_view(), name="task_delete"),
    path("tasks/<int:pk>/complete/", views.TaskStatusView.as_view(complete=True), name="task_complete"),
    path("tasks/<int:pk>/reopen/", views.TaskStatusView.as_view(complete=False), name="task_reopen"),
    path("calendar/", views.CalendarView.as_view(), name="calendar"),
    path("calendar/feed/new/", views.CalendarFeedCreateView.as_view(), name="calendar_feed_create"),
    path("calendar/feed/revoke/", views.CalendarFeedRevokeView.as_view(), name="calendar_feed_revoke"),
    path("calendar/feed/<str:secret>.ics", views.calendar_feed, name="calendar_feed"),
]
