"""The embedded broker (abm/lib/file_broker.py): whole messages in a folder, through kombu."""

import os

import kombu
import pytest

import abm.celery  # noqa: F401 (registers the abmfs:// scheme)


def connection(folder):
    return kombu.Connection(
        "abmfs://localhost/",
        transport_options={
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "control_folder": str(folder / "control"),
        },
    )


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "queue").mkdir()
    return tmp_path


def test_a_message_is_one_whole_file_and_comes_back_once(folder):
    queue = kombu.Queue("jobs", routing_key="jobs")
    with connection(folder) as conn:
        conn.Producer().publish({"run": 7}, routing_key="jobs", declare=[queue])
        files = os.listdir(folder / "queue")
        assert len(files) == 1
        assert files[0].endswith(".jobs.msg")  # no hidden partial file is left behind

        with conn.SimpleQueue(queue) as simple:
            message = simple.get(timeout=2)
            assert message.payload == {"run": 7}
            message.ack()
    assert os.listdir(folder / "queue") == []


def test_a_removed_folder_is_made_again(tmp_path):
    queue = kombu.Queue("jobs", routing_key="jobs")
    with connection(tmp_path) as conn:
        conn.Producer().publish({"run": 8}, routing_key="jobs", declare=[queue])
        with conn.SimpleQueue(queue) as simple:
            assert simple.get(timeout=2).payload == {"run": 8}
    assert (tmp_path / "queue").is_dir()


def test_an_unwritable_folder_is_a_broker_error_the_outbox_waits_out(tmp_path):
    from abm.job_sending import BROKER_DOWN

    (tmp_path / "queue").write_text("a file where the folder should be")
    queue = kombu.Queue("jobs", routing_key="jobs")
    with connection(tmp_path) as conn, pytest.raises(BROKER_DOWN):
        conn.Producer().publish({"run": 9}, routing_key="jobs", declare=[queue])
