from django.urls import path

from . import views

# Under /board/ (homevisits/urls.py).
urlpatterns = [
    path("", views.board, name="board"),
    path("live/", views.board_live, name="board-live"),
    path("timetable/", views.timetable, name="board-timetable"),
    path("alerts/<int:pk>/acknowledge/", views.acknowledge, name="board-acknowledge"),
    path("visits/<int:pk>/code-word/", views.office_duress, name="board-duress"),
]
