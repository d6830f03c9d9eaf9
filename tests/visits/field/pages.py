"""The field page and the visit's timeline as the tests read them."""

import re


def tap(client, user, visit, kind, **data):
    client.force_login(user)
    return client.post(f"/visits/{visit.pk}/field/", {"kind": kind, **data})


def shown(html: str) -> str:
    """The page as it reads, without the data its script carries for when there is no signal (the steps that
    follow each status, every one named)."""
    return re.sub(r'<script id="field-offline-data" type="application/json">.*?</script>', "", html, flags=re.S)


def page(client, user, visit) -> str:
    client.force_login(user)
    response = client.get(f"/visits/{visit.pk}/field/")
    assert response.status_code == 200
    return shown(response.content.decode())


def primary_buttons(html: str) -> list[str]:
    """The words on every btn-primary button, link or summary of the page."""
    found = re.findall(r'<(?:button|a|summary)[^>]*class="[^"]*\bbtn-primary\b[^"]*"[^>]*>(.*?)</', html, re.S)
    return [" ".join(text.split()) for text in found]


def timeline(client, user, visit) -> str:
    client.force_login(user)
    html = client.get(f"/visits/{visit.pk}/").content.decode()
    return html[html.index('id="timeline"') :]
