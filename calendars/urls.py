from django.urls import path

from calendars import views

app_name = "calendars"

urlpatterns = [
    path("working-days/", views.WorkingDaysView.as_view(), name="working-days"),
]
