import pytest


@pytest.mark.django_db
def test_healthz_answers_while_the_process_lives(client):
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_ready_with_database_and_broker_reachable(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_readyz_answers_503_naming_the_broker_when_it_is_unreachable(client, broker_unreachable):
    # A port on loopback where nothing listens: the connection is refused at once.
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["broker"]
    assert "broker" in body["message"]
