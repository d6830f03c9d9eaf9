"""The field page and the visit's timeline as the tests read them."""

import re


def tap(client, user, visit, kind, **data):
    client.force_login(user)
    return client.post(f"/visits/{visit.pk}/field/", {"kind": kind, **data})


def page(client, user, visit) -> str:
    client.force_login(user)
    response = client.get(f"/visits/{visit.pk}/field/")
    assert response.status_code == 200
    return response.content.decode()


def primary_buttons(html: str) -> list[str]:
    """The words on every btn-primary button, link or summary of the page."""
    found = re.findall(r'<(?:button|a|summary)[^>]*class="[^"]*\bbtn-primary\b[^"]*"[^>]*>(.*?)</', html, re.S)
    return [" ".join(text.split()) for text in found]


def timeline(client, user, visit) -> str:
    client.force_login(user)
    html = client.get(f"/visits/{visit.pk}/").content.decode()
    return html[html.index('id="timeline"') :]
