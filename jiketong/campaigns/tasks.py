"""Background work of campaigns (django-tasks): a big target list is built here, never in a request."""

from django_tasks import task


@task()
def build(campaign_id: int) -> int:
    from .services import run_build

    campaign = run_build(campaign_id)
    return campaign.targets_count if campaign is not None else 0
