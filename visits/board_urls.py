from django.urls import path

from . import board_views

urlpatterns = [
    path("", board_views.board, name="board"),
    path("live/", board_views.board_live, name="board-live"),
    path("timetable/", board_views.timetable, name="board-timetable"),
    path("alerts/<int:pk>/acknowledge/", board_views.acknowledge, name="board-acknowledge"),
    path("visits/<int:pk>/code-word/", board_views.office_duress, name="board-duress"),
]
