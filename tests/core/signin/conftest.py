import pytest

from core.roles import Role
from tests.factories import SchoolFactory, TrustFactory, make_member


@pytest.fixture
def other_trust_member(cast):
    trust = TrustFactory(name="Another Trust", slug="another")
    school = SchoolFactory(trust=trust, name="Far Away School", slug="far")
    return make_member("faraway", school, Role.STAFF)
