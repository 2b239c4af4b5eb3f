from celery import shared_task

from dashboards.figure_warming import WARM_TASK, warm_director_figures


@shared_task(name=WARM_TASK, ignore_result=True)
def warm_figures() -> bool:
    """Idempotent: the figures of the stored data as of now, found or built once."""
    return warm_director_figures()
