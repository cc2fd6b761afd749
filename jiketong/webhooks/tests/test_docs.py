"""docs/api.md's webhook examples work: the sample message verifies, and the Python and shell verifiers accept
what the sender really sends."""

import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from jiketong.webhooks import services

DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"
EXAMPLE_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def section() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text[text.index("## Webhooks") :]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section(), flags=re.S)


def test_the_sample_message_is_signed_with_the_example_secret():
    request = blocks("http")[0]
    head, body = request.split("\n\n", 1)
    headers = dict(line.split(": ", 1) for line in head.splitlines()[1:])
    sent_at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    expected = Webhook(EXAMPLE_SECRET).sign(headers["webhook-id"], sent_at, body.strip())
    assert headers["webhook-signature"] == expected
    assert EXAMPLE_SECRET in section()


@pytest.fixture
def delivered(cast, receiver, emit):
    endpoint = services.endpoint_create(actor=cast.frank.user, name="数仓", url=receiver.url, events=["*"])
    emit()
    return endpoint, receiver.requests[0]


def test_the_python_examples_verify_a_real_message(delivered):
    endpoint, request = delivered
    with_package, standard_library = blocks("python")
    namespace: dict = {}
    exec(with_package.replace("whsec_…", endpoint.secret), namespace)  # noqa: S102 - our own documentation
    assert namespace["receive"](request.body, request.headers)["type"] == "order.completed"
    namespace = {}
    exec(standard_library, namespace)  # noqa: S102
    assert namespace["verify"](endpoint.secret, request.body, request.headers)["type"] == "order.completed"
    with pytest.raises(ValueError):
        namespace["verify"](endpoint.secret, request.body + b" ", request.headers)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl on this machine")
def test_the_shell_example_prints_the_signature_header(delivered, tmp_path):
    endpoint, request = delivered
    script = blocks("sh")[0]
    script = (
        script.replace("whsec_…", endpoint.secret)
        .replace("ID='4711'", f"ID='{request.headers['webhook-id']}'")
        .replace("TS='1767225600'", f"TS='{request.headers['webhook-timestamp']}'")
    )
    (tmp_path / "body.json").write_bytes(request.body)
    printed = subprocess.run(["sh", "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert printed.strip() == request.headers["webhook-signature"]
