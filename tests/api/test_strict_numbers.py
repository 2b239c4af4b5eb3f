"""A number in a JSON body is a JSON number, as the schema says (issue 17: schemathesis ST201)."""

import pytest

from tests.api.api_calls import error_of

PLAYBOOKS = "/api/playbooks/"


@pytest.mark.parametrize("share", ["0.1", True, None])
def test_a_holdout_share_that_is_not_a_number_is_a_400(api, maria, share):
    response = api(maria).post(PLAYBOOKS, {"name": "X", "holdout_share": share}, format="json")

    assert "holdout_share" in error_of(response, 400)["fields"]


@pytest.mark.parametrize("share", [0, 0.25])
def test_a_holdout_share_given_as_a_number_is_kept(api, maria, share):
    response = api(maria).post(PLAYBOOKS, {"name": "X", "holdout_share": share}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["holdout_share"] == share
