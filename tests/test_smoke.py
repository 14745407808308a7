"""The app builds from the repository's specs and answers."""


def test_app_loads_every_shipped_spec(app):
    catalogue = app.extensions["motcua"].catalogue
    assert catalogue.problems == []
    assert catalogue.get("1.001193") is not None


def test_security_headers(client):
    response = client.get("/does-not-exist")
    assert response.status_code == 404
    assert response.headers["X-Content-Type-Options"] == "nosniff"
