import pytest

from playbooks.enrolment import enrol_accounts, holdout_draw, unenrol
from playbooks.models import Enrolment, EnrolmentStatus
from tests.factories import AccountFactory, PlaybookFactory, StageFactory, TaskFactory


def test_the_holdout_draw_is_reproducible_by_seed():
    ids = list(range(1, 201))
    first = holdout_draw(ids, share=0.1, seed=7)
    assert len(first) == 20
    assert holdout_draw(list(reversed(ids)), share=0.1, seed=7) == first
    assert holdout_draw(ids, share=0.1, seed=8) != first


@pytest.mark.django_db
def test_enrolment_holds_out_the_configured_share_and_enters_the_first_stage(maria):
    playbook = PlaybookFactory(holdout_share=0.25)
    second = StageFactory(playbook=playbook, order=1, name="Nurture")
    first = StageFactory(playbook=playbook, order=0, name="Find")
    accounts = [AccountFactory() for _ in range(8)]

    result = enrol_accounts(
        playbook=playbook, account_ids=[a.pk for a in accounts], by=maria, seed=3
    )

    assert (result.enrolled, result.holdout, result.already) == (6, 2, 0)
    enrolments = Enrolment.objects.filter(playbook=playbook)
    assert enrolments.filter(status=EnrolmentStatus.HOLDOUT).count() == 2
    assert set(enrolments.values_list("current_stage", flat=True)) == {first.pk}
    assert second.pk not in set(enrolments.values_list("current_stage", flat=True))
    held = set(enrolments.filter(status="holdout").values_list("account_id", flat=True))
    assert held == holdout_draw([a.pk for a in accounts], share=0.25, seed=3)
    assert all(e.stage_changes.count() == 1 for e in enrolments)


@pytest.mark.django_db
def test_enrolling_again_skips_accounts_already_in_the_playbook():
    playbook = PlaybookFactory(holdout_share=0)
    accounts = [AccountFactory() for _ in range(3)]
    enrol_accounts(playbook=playbook, account_ids=[a.pk for a in accounts[:2]], seed=1)
    result = enrol_accounts(playbook=playbook, account_ids=[a.pk for a in accounts], seed=1)
    assert (result.enrolled, result.already) == (1, 2)
    assert Enrolment.objects.filter(playbook=playbook).count() == 3


@pytest.mark.django_db
def test_an_account_can_be_in_several_playbooks():
    account = AccountFactory()
    for playbook in (PlaybookFactory(holdout_share=0), PlaybookFactory(holdout_share=0)):
        enrol_accounts(playbook=playbook, account_ids=[account.pk], seed=1)
    assert account.enrolments.count() == 2


@pytest.mark.django_db
def test_unenrolling_skips_open_tasks_and_keeps_done_ones():
    task = TaskFactory()
    done = TaskFactory(enrolment=task.enrolment, status="done")
    unenrol(enrolment=task.enrolment)
    task.refresh_from_db()
    done.refresh_from_db()
    assert (task.status, done.status) == ("skipped", "done")
    assert task.enrolment.status == "exited"
