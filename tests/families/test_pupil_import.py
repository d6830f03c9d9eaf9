"""The MIS import: a realistic export in every preset layout, re-imports that change, move and remove pupils, the
preview's need to know, and every bad file refused with a message and nothing saved."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.models import AuditEntry, PendingImport
from families.imports.services import pupil_import_confirm, pupil_import_prepare
from families.models import Child, Household, ParentCarer
from tests.families import mis_exports

PRESETS = ["sims", "arbor", "bromcom", "scholarpack", "template"]


def _upload(content: bytes, name="export.csv"):
    return SimpleUploadedFile(name, content)


def _prepare(cast, content, actor=None, name="export.csv", **kwargs):
    return pupil_import_prepare(upload=_upload(content, name), school=cast.school, actor=actor or cast.dsl, **kwargs)


@pytest.fixture(scope="module")
def roll():
    return mis_exports.school()


def test_the_factory_makes_about_400_pupils_and_700_carers(roll):
    carers = {id(c) for p in roll for c in p.home.carers}
    assert len(roll) == 400 and 650 <= len(carers) <= 750


@pytest.mark.parametrize("preset", PRESETS)
def test_a_whole_school_imports_from_each_layout(cast, roll, preset):
    name = "export.xlsx" if preset == "arbor" else "export.csv"
    data = mis_exports.table(roll, preset)
    content = mis_exports.as_xlsx(data) if name.endswith("xlsx") else mis_exports.as_csv(data)
    pending = _prepare(cast, content, name=name)
    assert pending.layout == preset
    counts = pending.preview["counts"]
    assert (counts["new"], counts["changed"], counts["left"], counts["errors"]) == (400, 0, 0, 0), pending.preview
    assert pupil_import_confirm(pending=pending, actor=cast.dsl)["new"] == 400
    homes = {id(p.home) for p in roll}
    assert Child.objects.filter(school=cast.school).count() == 400
    assert Household.objects.filter(school=cast.school).count() == len(homes)
    assert ParentCarer.objects.filter(household__school=cast.school).count() == len(
        {id(c) for p in roll for c in p.home.carers}
    )
    assert not PendingImport.objects.exists()
    entry = AuditEntry.objects.get(action="pupils.import")
    assert "400 new" in entry.summary
    # Carers come in as the MIS holds them: their own title and surname, not the child's.
    carer = roll[0].home.carers[1]
    saved = ParentCarer.objects.get(email=carer.email)
    assert (saved.title, saved.last_name, saved.relationship) == (carer.title, carer.last_name, carer.relationship)
    # The same file again changes nothing.
    again = _prepare(cast, content, name=name)
    assert again.preview["counts"]["unchanged"] == 400 and again.preview["counts"]["left"] == 0
