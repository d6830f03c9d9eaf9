"""The people of bench/school_day.py's school day, for locust (that script runs it; it is not meant to run alone).

Offices keep the board open: it polls /board/live/ every 3 s with the ETag of what it shows, as htmx does in the
browser. Staff ask for a visit through the request form (the child picker's search and the family's needs as the
page fetches them), check out, arrive, leave and return through the field page's forms, and write the Home Visit
Form (two autosaves, then submit), visit after visit. DSLs open the dashboard and the approvals queue and decide the
oldest request. Each signs in with the server-side session the runner made (the file named by SCHOOL_DAY_PEOPLE).

Any answer but the one the page gives a person whose action worked (a 200, the redirect after a form, a 304 for an
unchanged board) is a failure named after the page, with its status: a form that came back with its errors, a
sign-in page, a 400, 403 or 500 alike.
"""

import datetime
import itertools
import json
import os
import re
import time
import uuid
from html import unescape
from html.parser import HTMLParser
from http.cookiejar import Cookie
from pathlib import Path
from urllib.parse import urlencode

from locust import FastHttpUser, between, constant_pacing, events, task

PEOPLE = json.loads(Path(os.environ["SCHOOL_DAY_PEOPLE"]).read_text())
POLL_SECONDS = 3

# Every request as (start, page, ms, status, error), and when the last user had started, for the runner's figures
# (locust's own CSV files keep neither the status codes of what succeeded nor the time of each request).
TIMINGS: dict = {"requests": [], "all_started_at": None}


@events.request.add_listener
def keep_timing(request_type, name, response_time, response=None, exception=None, start_time=None, **kwargs):
    status = getattr(response, "status_code", 0) if response is not None else 0
    error = f"{type(exception).__name__}: {exception}"[:240] if exception else ""
    TIMINGS["requests"].append((start_time or time.time(), f"{request_type} {name}", response_time, status, error))


@events.spawning_complete.add_listener
def keep_all_started(user_count, **kwargs):
    TIMINGS["all_started_at"] = time.time()


@events.quitting.add_listener
def write_timings(environment, **kwargs):
    Path(os.environ["SCHOOL_DAY_TIMINGS"]).write_text(json.dumps(TIMINGS))


def think(variable: str, default: str):
    low, high = (float(x) for x in os.environ.get(variable, default).split(","))
    return between(low, high)


class Forms(HTMLParser):
    """Every form on a page as a browser would submit it untouched: [(name, value)] of its fields (ticked boxes
    and radios only, each select's chosen option, each textarea's text), and its action."""

    def __init__(self, html: str):
        super().__init__()
        self.forms, self._form, self._select, self._textarea, self._first_option = [], None, None, None, None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action") or "", "fields": [], "names": set()}
            self.forms.append(self._form)
        elif self._form is None or not a.get("name") and tag in ("input", "select", "textarea"):
            return
        if tag in ("input", "select", "textarea"):
            self._form["names"].add(a["name"])
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._form["fields"].append((a["name"], a.get("value", "on" if kind in ("checkbox", "radio") else "")))
        elif tag == "select":
            self._select, self._first_option = [a["name"], None], None
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in a:
                self._select[1] = value
        elif tag == "textarea":
            self._textarea = [a["name"], ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            name, value = self._select
            self._form["fields"].append((name, value if value is not None else self._first_option or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self._form["fields"].append((self._textarea[0], unescape(self._textarea[1]).lstrip("\n")))
            self._textarea = None

    def having(self, field: str, value: str | None = None) -> dict:
        """The first form with a field of this name (an unticked box's counts), holding `value` if given."""
        for form in self.forms:
            if field in form["names"] and (value is None or (field, value) in form["fields"]):
                return form
        raise LookupError(field)


def filled(form: dict, **values) -> list[tuple[str, str]]:
    """The form's fields with some answered: a list value replaces every field of that name."""
    fields = [(n, v) for n, v in form["fields"] if n not in values]
    for name, value in values.items():
        for each in value if isinstance(value, list) else [value]:
            fields.append((name, str(each)))
    return fields


def problems(html: str) -> str:
    """What a page that refused a form says is wrong (its error summary, field errors or alerts), shortened."""
    found = re.findall(r'class="(?:invalid-feedback|alert alert-danger|errorlist)[^"]*"[^>]*>(.*?)</', html, re.S)
    words = " | ".join(" ".join(re.sub(r"<[^>]+>", " ", unescape(f)).split()) for f in found if f.strip())
    return words[:160] or "no message on the page"


class Person(FastHttpUser):
    abstract = True
    role = ""
    _taken = None

    def on_start(self):
        self.me = PEOPLE[self.role][next(type(self)._taken)]
        host = "127.0.0.1"
        for name, value in self.me["cookies"].items():
            self.client.cookiejar.set_cookie(
                Cookie(0, name, value, None, False, host, False, False, "/", True, False, None, True, None, None, {})
            )

    def call(self, method, path, name, *, expect=(200,), data=None, headers=None):
        """One request, not following redirects (the browser's next request is counted on its own page); a
        failure unless the status is expected, and a redirect to the sign-in or second-factor pages is one."""
        headers = dict(headers or {})
        body = None
        if data is not None:
            body = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        with self.client.request(
            method, path, name=name, data=body, headers=headers, allow_redirects=False, catch_response=True
        ) as response:
            status = response.status_code
            location = response.headers.get("Location", "") if response.headers else ""
            if not status:  # no answer: what locust's client met instead (a time-out, a refused connection)
                error = getattr(response, "error", None)
                cause = re.search(r"original=(.+)$", str(error))  # geventhttpclient's retries wrap it
                response.failure(f"no answer: {cause.group(1) if cause else f'{type(error).__name__}: {error}'}"[:200])
            elif status not in expect:
                detail = problems(response.text or "") if status in (200, 400) else ""
                response.failure(f"{status} (expected {'/'.join(map(str, expect))}) {detail}".strip())
            elif "/accounts/" in location or (response.headers and response.headers.get("HX-Redirect")):
                response.failure(f"{status} sent to {location or response.headers.get('HX-Redirect')}")
            else:
                response.success()
            return response

    def missing(self, name, what):
        """A page that lacked what the person came for (a form, a button): a failure of that page."""
        self.environment.events.request.fire(
            request_type="PAGE", name=name, response_time=0, response_length=0, exception=LookupError(what)
        )

    def form_on(self, response, name, field, value=None, what=""):
        """The form a page answered with; None (a failure of that page if it answered but lacked it) otherwise.
        A page that did not answer is already counted: what the person meant to do next is given up."""
        if response.status_code != 200:
            return None
        try:
            return Forms(response.text or "").having(field, value)
        except LookupError:
            self.missing(name, what or f"no form with {field}")
            return None

    def page(self, path, name, **kwargs):
        return self.call("GET", path, name, **kwargs)

    def post(self, path, name, data, **kwargs):
        return self.call("POST", path, name, expect=(302,), data=data, **kwargs)

    def follow(self, response, name):
        """The page a redirect leads to, as the browser fetches it next."""
        location = response.headers.get("Location", "") if response.status_code == 302 else ""
        if location.startswith("/"):
            return self.page(location, name)
        return None


class Office(Person):
    """Reception: the board open all day, polled every 3 s."""

    role = "office"
    fixed_count = len(PEOPLE["office"])
    _taken = itertools.count()
    wait_time = constant_pacing(POLL_SECONDS)

    def on_start(self):
        super().on_start()
        self.etag = None
        self.page("/board/", "/board/")

    @task
    def poll(self):
        headers = {"HX-Request": "true", "HX-Target": "board-live", "HX-Current-URL": "/board/"}
        if self.etag:
            headers["If-None-Match"] = self.etag
        response = self.page("/board/live/", "/board/live/ (poll)", expect=(200, 304), headers=headers)
        if response.headers and response.headers.get("ETag"):
            self.etag = response.headers["ETag"]


class Staff(Person):
    """A member of staff: asks for a visit, goes out on the day's next one (check-ins on the field page), comes
    back and writes its Home Visit Form; once the day's visits are done, asks for more."""

    role = "staff"
    fixed_count = len(PEOPLE["staff"])
    _taken = itertools.count()
    wait_time = think("SCHOOL_DAY_STAFF_THINK", "15,45")

    def on_start(self):
        super().on_start()
        self.requested = 0
        self.steps = self.day()

    @task
    def next_step(self):
        next(self.steps)

    def day(self):
        for visit in self.me["visits"]:
            yield from self.ask_for_a_visit()
            if (yield from self.go_out(visit)):
                yield from self.write_the_form(visit)
        while True:
            yield from self.ask_for_a_visit()

    def ask_for_a_visit(self):
        response = self.page("/visits/new/", "/visits/new/")
        yield
        query = urlencode({"q": self.me["child_surname"]})
        self.page(f"/visits/children/search/?{query}", "/visits/children/search/", headers={"HX-Request": "true"})
        self.page(
            f"/visits/new/household-needs/?children={self.me['child']}",
            "/visits/new/household-needs/",
            headers={"HX-Request": "true"},
        )
        yield
        form = self.form_on(response, "/visits/new/", "lead_mobile", what="no request form")
        if form is None:
            return
        # Each request on a later day; each colleague at their own hour, so nobody is booked twice.
        self.requested += 1
        day = datetime.date.today() + datetime.timedelta(days=self.requested)
        answers = filled(
            form,
            children=[self.me["child"]],
            purpose="attendance",
            reason="Absent for five days without contact.",
            outcome_wanted="See the child and agree a return date.",
            announced="yes",
            visit_date=day.isoformat(),
            start_time=f"{9 + self.me['slot']:02d}:00",
            expected_duration_minutes="30",
            return_time="",
            second_visitor=self.me["colleague"],
            travel="",
            action="Submit for authorisation",
        )
        sent = self.post("/visits/new/", "/visits/new/ (submit)", answers)
        self.follow(sent, "/visits/[id]/")

    def go_out(self, visit):
        """Check out, arrive, leave and come back; False if any tap did not go through."""
        path = f"/visits/{visit}/field/"
        response = self.page(path, "/visits/[id]/field/")
        for kind in ("checked_out", "arrived", "left", "returned"):
            yield
            form = self.form_on(response, "/visits/[id]/field/", "kind", kind, f"no {kind} button")
            if form is None:
                return False
            # What the page's script adds to the tap's form (field-offline.js), with signal.
            answers = filled(form, client_id=uuid.uuid4(), phone_at=datetime.datetime.now(datetime.UTC).isoformat())
            sent = self.post(path, f"/visits/[id]/field/ ({kind})", answers)
            if sent.status_code != 302:
                return False
            response = self.follow(sent, "/visits/[id]/field/")
            if response is None:
                return False
        return True

    def write_the_form(self, visit):
        path = f"/visits/{visit}/report/"
        response = self.page(path, "/visits/[id]/report/")
        form = self.form_on(response, "/visits/[id]/report/", "parent_summary", what="no Home Visit Form")
        if form is None:
            return
        answers = {
            "outcome": "seen",
            "child_seen": "yes",
            "staff_went_in": "no",
            "present-0-name": "Rowan Pellingham",
            "present-0-relationship": "mother",
            "present-0-parental_responsibility": "on",
        }
        yield
        autosave = f"/visits/{visit}/report/autosave/"
        hx = {"HX-Request": "true"}
        self.call("POST", autosave, "/visits/[id]/report/autosave/", data=filled(form, **answers), headers=hx)
        yield
        answers["parent_summary"] = "We talked about mornings and agreed a plan for getting to school on time."
        self.call("POST", autosave, "/visits/[id]/report/autosave/", data=filled(form, **answers), headers=hx)
        yield
        sent = self.post(path, "/visits/[id]/report/ (submit)", filled(form, action="submit", **answers))
        self.follow(sent, "/visits/[id]/")


class Dsl(Person):
    """A DSL between other work: the dashboard, the approvals queue, and a decision on the oldest request."""

    role = "dsl"
    fixed_count = len(PEOPLE["dsl"])
    _taken = itertools.count()
    wait_time = think("SCHOOL_DAY_DSL_THINK", "15,45")

    def on_start(self):
        super().on_start()
        self.steps = self.rounds()

    @task
    def next_step(self):
        next(self.steps)

    def rounds(self):
        while True:
            self.page("/dashboard/", "/dashboard/")
            yield
            queue = self.page("/approvals/", "/approvals/")
            waiting = re.findall(r'href="/approvals/(\d+)/"', queue.text or "") if queue.status_code == 200 else []
            if not waiting:
                yield
                continue
            yield
            path = f"/approvals/{waiting[0]}/"
            response = self.page(path, "/approvals/[id]/")
            yield
            form = self.form_on(response, "/approvals/[id]/", "decision", what="no decision form")
            if form is None:
                continue
            answers = {"decision": "approved", "conditions": "Ring the office on arrival."}
            if "unfamiliar_pair_reason" in form["names"]:
                answers["unfamiliar_pair_reason"] = "The family asked for these two: they met them at the fair."
            sent = self.post(path, "/approvals/[id]/ (decide)", filled(form, **answers))
            self.follow(sent, "/approvals/")
            yield
