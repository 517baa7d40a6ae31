from tests.returns.conftest import catalogue, q1, q2  # noqa: F401
from tests.world import as_person, fast_password_hashing, icbs, world  # noqa: F401
