"""docs/openapi.yaml is the API's contract: it is a valid OpenAPI 3.1 document, it names every
problem code the service and nginx can answer, and the running service, through nginx,
answers every request schemathesis makes exactly as the document says."""
import datetime
import os
import re
import subprocess
import sys
import textwrap

import jsonschema
import pytest
import requests
import yaml
from openapi_spec_validator import validate

from conftest import BASE_URL, STACK_ENV, Api, create_api_key, new_number

PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCUMENT = os.path.join(PROJECT, "docs", "openapi.yaml")
HOOKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "openapi_hooks.py")

# Bounds: a fixed number of examples per operation, generated deterministically (the same
# requests every run), and a hard limit on the whole run (about 25 s on a 2-core machine).
# One worker: with two, Python 3.11's ast module (which hypothesis uses) fails at random.
MAX_EXAMPLES = 100
RUN_TIMEOUT_SECONDS = 150

# Every check schemathesis has, but `positive_data_acceptance`: the document cannot express
# every rule (a `send_at` at most 35 days ahead, +1 numbers of exactly 11 digits, a cursor
# from a previous page, an Idempotency-Key already used with another body), so a request the
# document allows may rightly get a documented 422. A 5xx is a failure unless it is the 503
# the document describes. TRACE, which nginx answers itself, is among the undeclared methods.
SCHEMATHESIS_CONFIG = textwrap.dedent(f"""\
    workers = 1
    [generation]
    max-examples = {MAX_EXAMPLES}
    deterministic = true
    database = "none"
    [checks]
    enabled = true
    positive_data_acceptance.enabled = false
    not_a_server_error.expected-statuses = ["2xx", "3xx", "4xx", "503"]
    [phases.coverage]
    unexpected-methods = ["get", "put", "post", "delete", "options", "patch", "query", "trace"]
    """)


def _load_document():
    with open(DOCUMENT, encoding="utf-8") as f:
        return yaml.safe_load(f)


def test_document_is_a_valid_openapi_3_1_document():
    document = _load_document()
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_document_names_every_problem_code_of_the_service_and_of_nginx():
    with open(os.path.join(PROJECT, "Sources", "Common", "TextingFastCGI", "HTTP", "ProblemCode.swift"), encoding="utf-8") as f:
        service_codes = set(re.findall(r'^\s*case \w+ = "(\w+)"', f.read(), re.MULTILINE))
    with open(os.path.join(PROJECT, "deploy", "nginx.conf"), encoding="utf-8") as f:
        nginx_codes = set(re.findall(r'"code":"(\w+)"', f.read()))
    assert service_codes and nginx_codes
    documented = set(_load_document()["components"]["schemas"]["Problem"]["properties"]["code"]["enum"])
    assert service_codes | nginx_codes == documented


def _assert_documented(response, path, method):
    """The answer is one the document gives for this operation: status, media type, required
    headers and, for a JSON body, its schema."""
    document = _load_document()
    answers = document["paths"][path][method]["responses"]
    assert str(response.status_code) in answers, (response.status_code, response.text)
    answer = answers[str(response.status_code)]
    while "$ref" in answer:
        answer = document["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    for name, header in answer.get("headers", {}).items():
        header = document["components"]["headers"][header["$ref"].rsplit("/", 1)[1]] if "$ref" in header else header
        if header.get("required"):
            assert name in response.headers, (name, response.headers)
    media_type = response.headers["Content-Type"].split(";")[0].strip()
    assert media_type in answer["content"], (media_type, list(answer["content"]))
    schema = {**answer["content"][media_type]["schema"], "components": document["components"]}
    jsonschema.Draft202012Validator(schema).validate(response.json())


@pytest.mark.parametrize("method, path, operation, request_options, status", [
    ("POST", "/messages", "/messages", {"json": {"to_number": "+15555550100", "message": "x" * 20000}}, 413),
    ("POST", "/messages/delivery_status?mid=x", "/messages/delivery_status", {"json": {"message_id": "x" * 20000}}, 413),
    ("GET", "/messages?after=" + "a" * 9000, "/messages", {}, 414),
    ("GET", "/healthz?" + "a" * 9000, "/healthz", {}, 414),
    ("GET", "/messages", "/messages", {"headers": {"Authorization": "Bearer " + "a" * 10000}}, 400),
])
def test_errors_nginx_answers_itself_are_as_documented(api, method, path, operation, request_options, status):
    """Oversized requests schemathesis does not make: nginx refuses them before any FastCGI
    process sees them, with its own problem documents."""
    response = api.raw(method, path, **request_options)
    assert response.status_code == status, response.text
    _assert_documented(response, operation, method.lower())


@pytest.mark.parametrize("spell", [
    lambda at: at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    lambda at: at.strftime("%Y-%m-%dt%H:%M:%Sz"),  # RFC 3339 allows lower case `t` and `z`
    lambda at: at.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
    lambda at: at.astimezone(datetime.timezone(datetime.timedelta(hours=-5))).isoformat(),
], ids=["Z", "lower-case", "fraction", "offset"])
def test_send_at_takes_the_rfc_3339_times_the_document_allows(api, spell):
    # `format: date-time` is RFC 3339. schemathesis cannot hold the service to it (a time it
    # refused would be a documented 422), so each spelling is checked here.
    at = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).replace(microsecond=0)
    response = api.post_message(new_number(), send_at=spell(at))
    assert response.status_code == 201, response.text
    assert response.json()["send_at"] == at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_trace_gets_a_405_problem_document_with_allow():
    response = requests.request("TRACE", f"{BASE_URL}/messages")
    assert response.status_code == 405
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers.get("Allow")


def test_service_answers_as_the_document_says(tmp_path):
    """schemathesis (examples, coverage, fuzzing and stateful phases) against nginx with a
    fresh API key. openapi_hooks.py signs the delivery callbacks whose query the document
    allows, so that operation is tested past its signature check too."""
    key = create_api_key("openapi-contract")
    client = Api(key)
    message_ids = []
    for _ in range(3):
        response = client.post_message(new_number())
        assert response.status_code == 201, response.text
        message_ids.append(response.json()["id"])
    (tmp_path / "schemathesis.toml").write_text(SCHEMATHESIS_CONFIG)
    env = {**os.environ,
           "SCHEMATHESIS_HOOKS": HOOKS,
           "TEXTING_CALLBACK_SECRET": STACK_ENV["TEXTING_CALLBACK_SECRET"],
           "OPENAPI_TEST_MESSAGE_IDS": ",".join(message_ids),
           "OPENAPI_TEST_CALLS": str(tmp_path / "calls")}
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(tmp_path / "schemathesis.toml"),
               "run", DOCUMENT, "--url", BASE_URL, "--header", f"Authorization: Bearer {key}",
               "--continue-on-failure", "--no-color"]
    try:
        # cwd: schemathesis keeps caches in the working directory; not in the project.
        result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                                timeout=RUN_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired as timeout:
        pytest.fail(f"schemathesis ran longer than {RUN_TIMEOUT_SECONDS} s:\n{timeout.stdout or ''}{timeout.stderr or ''}")
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"schemathesis found the service and docs/openapi.yaml disagreeing:\n\n{output}"
    # A run that tested nothing also exits 0: make sure every operation and phase ran.
    operations = len([None for item in _load_document()["paths"].values() for method in item
                      if method in ("get", "head", "put", "post", "delete", "patch")])
    assert re.search(rf"Tested: {operations}\b", output), output
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert re.search(rf"✅ {phase}\b", output), f"phase {phase} did not pass:\n{output}"
    # The webhook endpoints' operations were reached past a made endpoint, not only refused.
    calls = (tmp_path / "calls").read_text().splitlines()
    for call in ("POST /webhook_endpoints 201", "GET /webhook_endpoints/{id} 200", "DELETE /webhook_endpoints/{id} 204"):
        assert call in calls, f"schemathesis never got {call}"
    print(output[output.rfind("API Operations:"):])  # shown with `pytest -rP`
