"""Assertions the API tests share: the error shape, and list pages."""


def error_of(response, status: int) -> dict:
    """The ``error`` object of a response that must have failed with ``status``."""
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["message"]
    return error


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]
