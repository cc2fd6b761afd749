"""Demo data of the churn app: none of its own. The demo command's morning run of the daily jobs scores the
demo customers (and raises their first warnings); `demo --reset` empties the scores with the customers."""

from .models import ChurnScore

RESET_MODELS = [ChurnScore]


def generate(builder) -> None:
    """Nothing to write: scores are the nightly job's (run by the demo command after loading)."""
