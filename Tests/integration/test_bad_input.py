"""Bad input gets a 4xx problem document and writes nothing."""
import pytest

from conftest import count, new_number


@pytest.fixture
def nothing_written(db):
    before = (count(db, "SELECT count(*) FROM messages"), count(db, "SELECT count(*) FROM phone_numbers"), count(db, "SELECT count(*) FROM jobs"))
    yield
    after = (count(db, "SELECT count(*) FROM messages"), count(db, "SELECT count(*) FROM phone_numbers"), count(db, "SELECT count(*) FROM jobs"))
    assert after == before


def _assert_problem(response, status, code):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    assert problem["code"] == code
    assert problem["title"] and problem["detail"]
    return problem


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("body, code", [
    ("{", "malformed_json"),
    ('{"to_number": "+15555550100", "message": "hi"', "malformed_json"),
    ("", "malformed_json"),
    ("\xff", "malformed_json"),
    # A lone UTF-16 surrogate is not a character: the text would not be valid UTF-8.
    ('{"to_number": "+15555550100", "message": "\\ud800"}', "malformed_json"),
    # RFC 8259 to the letter: no trailing comma, no second value for a key, no BOM.
    ('{"to_number": "+15555550100", "message": "hi",}', "malformed_json"),
    ('{"to_number": "+15555550100", "message": "hi", "to_number": "+15555550199"}', "malformed_json"),
    ('\xef\xbb\xbf{"to_number": "+15555550100", "message": "hi"}', "malformed_json"),
])
def test_malformed_json_is_400(api, nothing_written, body, code):
    _assert_problem(api.raw("POST", "/messages", data=body.encode("latin-1"), headers=JSON), 400, code)


@pytest.mark.parametrize("body, says", [
    (b'{"to_number": "+15555550100", "message": "hi",}', "trailing comma in object at byte 46"),
    (b'{"to_number": "+15555550100", "message": "hi", "to_number": "+15555550199"}', "duplicate key `to_number` at byte 47"),
])
def test_trailing_comma_and_duplicate_key_are_400_saying_where(api, nothing_written, body, says):
    problem = _assert_problem(api.raw("POST", "/messages", data=body, headers=JSON), 400, "malformed_json")
    assert says in problem["detail"], problem["detail"]


@pytest.mark.parametrize("body, field", [
    ({"to_number": 15555550100, "message": "hi"}, "to_number"),
    ({"to_number": "+15555550100", "message": 42}, "message"),
    ({"to_number": ["+15555550100"], "message": "hi"}, "to_number"),
    ({"to_number": "+15555550100", "message": None}, "message"),
    ({"to_number": "+15555550100", "message": "hi", "validity_period": "10"}, "validity_period"),
])
def test_wrong_types_are_422_naming_the_field(api, nothing_written, body, field):
    problem = _assert_problem(api.raw("POST", "/messages", json=body), 422, "wrong_type")
    assert problem["field"] == field


def test_top_level_array_is_422(api, nothing_written):
    _assert_problem(api.raw("POST", "/messages", json=[1, 2]), 422, "wrong_type")


@pytest.mark.parametrize("body, field", [
    ({"message": "hi"}, "to_number"),
    ({"to_number": "+15555550100"}, "message"),
    ({}, "to_number"),
])
def test_missing_fields_are_422_naming_the_field(api, nothing_written, body, field):
    problem = _assert_problem(api.raw("POST", "/messages", json=body), 422, "missing_field")
    assert problem["field"] == field


@pytest.mark.parametrize("number", ["12", "abc", "+0123456789", "+1234567890123456", "", "1-800-FLOWERS", "+1555"])
def test_invalid_phone_numbers_are_422(api, nothing_written, number):
    problem = _assert_problem(api.post_message(number), 422, "invalid_phone_number")
    assert problem["field"] == "to_number"


@pytest.mark.parametrize("message, code", [("", "message_empty"), ("x" * 1601, "message_too_long"), ("a\u0000b", "invalid_message")])
def test_bad_message_bodies_are_422(api, nothing_written, message, code):
    _assert_problem(api.post_message(new_number(), message), 422, code)


def test_message_of_exactly_1600_characters_is_accepted_in_11_segments(api):
    response = api.post_message(new_number(), "x" * 1600)
    assert response.status_code == 201, response.text
    assert response.json()["segments"] == 11  # ceil(1600 / 153)


def test_unicode_message_reports_ucs2_segments(api):
    response = api.post_message(new_number(), "Grüße 😀" * 10)
    assert response.status_code == 201, response.text
    assert response.json()["encoding"] == "UCS-2"
    assert response.json()["segments"] == 2  # 90 UTF-16 units: more than 70, within 2 x 67


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])
def test_unknown_content_type_is_415(api, nothing_written, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    _assert_problem(api.raw("POST", "/messages", data=b'{"to_number": "+15555550100", "message": "hi"}', headers=headers), 415, "unsupported_media_type")


def test_huge_body_is_413_problem_from_nginx(api, nothing_written):
    body = '{"to_number": "+15555550100", "message": "' + "x" * 20000 + '"}'
    _assert_problem(api.raw("POST", "/messages", data=body, headers=JSON), 413, "payload_too_large")


@pytest.mark.parametrize("method, path, allow", [
    ("DELETE", "/messages", "GET, POST"),
    ("PUT", "/messages", "GET, POST"),
    ("POST", "/messages/00000000-0000-4000-8000-000000000000", "GET"),
    ("PATCH", "/messages/00000000-0000-4000-8000-000000000000", "GET"),
])
def test_wrong_method_is_405_with_allow(api, nothing_written, method, path, allow):
    response = api.raw(method, path, json={})
    _assert_problem(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == allow


def test_unknown_field_is_422(api, nothing_written):
    problem = _assert_problem(api.raw("POST", "/messages", json={"to_number": "+15555550100", "message": "hi", "sender": "me"}), 422, "unknown_field")
    assert problem["field"] == "sender"


def test_a_sender_the_key_may_not_use_writes_nothing(api, nothing_written):
    # A number never seen before: refused, it must not be left behind in phone_numbers.
    problem = _assert_problem(api.raw("POST", "/messages", json={"to_number": "+15555550177", "message": "hi", "from": "me"}), 422,
                              "sender_not_allowed")
    assert problem["field"] == "from"


def test_unknown_path_is_404_problem(api):
    _assert_problem(api.raw("GET", "/nothing-here"), 404, "not_found")


def _raw_http(request_bytes):
    """Sends bytes nginx must refuse before any application sees them; returns the head and body."""
    import socket
    import urllib.parse
    from conftest import BASE_URL
    url = urllib.parse.urlparse(BASE_URL)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(request_bytes)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return head.decode("latin-1"), body


@pytest.mark.parametrize("request_bytes, code", [
    (b"POST /messages HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n", b"unsupported_transfer_coding"),
    (b"GET /healthz HTTP/2.0\r\nHost: x\r\nConnection: close\r\n\r\n", b"http_version_not_supported"),
])
def test_requests_nginx_cannot_serve_are_400_problems_not_5xx(request_bytes, code):
    head, body = _raw_http(request_bytes)
    assert head.split(" ")[1] == "400", head
    assert "application/problem+json" in head
    assert b'"code":"' + code + b'"' in body


def test_callback_message_id_with_control_characters_is_422(api, mocks, empty_queue):
    from conftest import run_sender
    message_id = api.post_message(new_number()).json()["id"]
    run_sender()
    response = api.callback(message_id, {"status": "delivered", "message_id": "abc\u0000def"})
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "message_id"


def test_listing_takes_an_unencoded_plus_in_to_number(api):
    number = new_number()
    message_id = api.post_message(number).json()["id"]
    response = api.raw("GET", f"/messages?to_number={number}")  # `+` not percent-encoded
    assert response.status_code == 200, response.text
    assert [m["id"] for m in response.json()["messages"]] == [message_id]
