"""GET /api/v1/audit-events/: the organization's trail for its admins, newest first, filtered, paginated."""
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent

pytestmark = pytest.mark.django_db

URL = "/api/v1/audit-events/"


@pytest.fixture
def trail(org1, org2, admin_a, admin_b, user_s, admin_x):
    """Three Acme events a minute apart (oldest first) and one of Globex."""
    now = timezone.now()
    rows = [
        (org1, admin_a, "settings_lock.created", user_s, now - timedelta(minutes=3)),
        (org1, admin_b, "settings_lock.released", user_s, now - timedelta(minutes=2)),
        (org1, admin_a, "settings_lock.created", admin_b, now - timedelta(minutes=1)),
        (org2, admin_x, "settings_lock.created", admin_x, now),
    ]
    return [
        AuditEvent.objects.create(
            organization=org, actor=actor, actor_email=actor.email, action=action, target_type="user",
            target_id=str(target.pk), target_repr=target.email, details={"reason": ""}, created_at=when,
        )
        for org, actor, action, target, when in rows
    ]


def lock_events(body) -> list[int]:
    return [row["id"] for row in body["results"] if row["action"].startswith("settings_lock.")]


def test_an_admin_reads_their_organizations_trail_newest_first(api_as, admin_a, trail):
    body = api_as(admin_a).get(URL).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert lock_events(body) == [trail[2].pk, trail[1].pk, trail[0].pk]


def test_each_event_says_who_did_what_to_whom(api_as, admin_a, admin_b, user_s, trail):
    body = api_as(admin_a).get(URL, {"action": "settings_lock.released"}).json()
    assert body["results"] == [{
        "id": trail[1].pk,
        "created_at": body["results"][0]["created_at"],
        "action": "settings_lock.released",
        "actor": {"id": admin_b.pk, "email": "admin.b@acme.test"},
        "target": {"type": "user", "id": str(user_s.pk), "repr": "user.s@acme.test"},
        "details": {"reason": ""},
    }]


def test_it_filters_by_actor(api_as, admin_a, admin_b, trail):
    body = api_as(admin_a).get(URL, {"actor": admin_b.pk}).json()
    assert lock_events(body) == [trail[1].pk]


def test_it_filters_by_target(api_as, admin_a, admin_b, trail):
    body = api_as(admin_a).get(URL, {"target": f"user:{admin_b.pk}"}).json()
    assert lock_events(body) == [trail[2].pk]


def test_it_filters_by_several_actions(api_as, admin_a, trail):
    body = api_as(admin_a).get(URL, {"action": "settings_lock.created,settings_lock.released"}).json()
    assert body["count"] == 3


def test_a_malformed_target_filter_is_400_on_the_field(api_as, admin_a, trail):
    response = api_as(admin_a).get(URL, {"target": "user"})
    assert response.status_code == 400 and "target" in response.json()["error"]["fields"]


def test_a_malformed_actor_filter_is_400(api_as, admin_a, trail):
    response = api_as(admin_a).get(URL, {"actor": "someone"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"


@pytest.mark.parametrize("actor", [str(10**25), str(-(10**25)), "1.5"])
def test_an_actor_id_out_of_range_or_not_whole_is_400_on_the_field_not_a_500(api_as, admin_a, trail, actor):
    response = api_as(admin_a).get(URL, {"actor": actor})
    assert response.status_code == 400 and "actor" in response.json()["error"]["fields"]


def test_it_is_paginated(api_as, admin_a, trail):
    body = api_as(admin_a).get(URL, {"page_size": 2}).json()
    assert len(body["results"]) == 2 and body["next"]


def test_another_organizations_events_are_never_listed(api_as, admin_x, trail):
    body = api_as(admin_x).get(URL).json()
    assert trail[3].pk in lock_events(body)
    assert not {trail[0].pk, trail[1].pk, trail[2].pk} & set(lock_events(body))
    assert api_as(admin_x).get(URL, {"target": f"user:{trail[0].target_id}"}).json()["count"] == 0


def test_a_standard_user_may_not_read_the_trail(api_as, user_s, trail):
    response = api_as(user_s).get(URL)
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"


def test_anonymous_callers_are_401(api, trail):
    assert api.get(URL).status_code == 401


def test_operators_use_the_django_admin_not_this_list(api_as, operator, trail):
    assert api_as(operator).get(URL).status_code == 403
