"""Demo data of the churn app: none of its own. The demo command's morning run of the daily jobs scores the
demo customers (and raises their first warnings) and runs the risk-alert detector over the billing demo's last
two months, the key persons marked as left and the complaints and competitors recorded (so 风险提醒 has real
alerts); `demo --reset` empties the scores and alerts with the customers."""

from .models import ChurnScore, RiskAlert

RESET_MODELS = [RiskAlert, ChurnScore]


def generate(builder) -> None:
    """Nothing to write: scores and alerts are the nightly job's (run by the demo command after loading)."""
