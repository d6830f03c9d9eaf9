"""The alert tests' clock: a winter Monday, so local time is UTC and the times read as the office would see them.
make_authorised_visit plans START to 10:50 (30 minutes plus travelling)."""

import datetime

import time_machine

UTC = datetime.UTC
START = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def when(hour, minute, second=0, day=23):
    return datetime.datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


def at(hour, minute, second=0, day=23):
    return time_machine.travel(when(hour, minute, second, day), tick=False)
