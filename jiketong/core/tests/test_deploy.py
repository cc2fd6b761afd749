"""Production settings pass Django's deployment checks with nothing to report."""

import os
import secrets
import subprocess
import sys


def test_check_deploy_reports_nothing_in_production(tmp_path):
    env = {
        **os.environ,
        "JIKETONG_PRODUCTION": "1",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "crm.example.cn",
        "JIKETONG_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "jiketong.settings",
    }
    for name in ("DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL"):  # set by other tests, not by a deployment
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-m", "jiketong", "check", "--deploy", "--fail-level", "WARNING"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
