"""POST /messages/inbound: recipients' replies, relayed by providers on their signed URLs;
stored once per provider id, threaded to the last message, and acted on when the whole reply
is a keyword (STOP, START, HELP and their kin)."""
import time
import uuid

import pytest
import requests
import standardwebhooks

from conftest import BASE_URL, MOCK_BASE, Api, count, create_api_key, new_number, run_sender, textingctl
from texting_support.receiver import Receiver

LATER = lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))  # noqa: E731


@pytest.fixture(scope="module")
def inbound_urls():
    """Each provider's inbound URL as `textingctl providers inbound-url` prints it."""
    result = textingctl("providers", "inbound-url")
    assert result.returncode == 0, result.stderr
    urls = dict(line.split("\t") for line in result.stdout.splitlines())
    assert set(urls) == {"p1", "p2"}, urls
    return urls


def reply(urls, number, text, provider="p1", provider_message_id=None, to="+15550009999"):
    url = urls[provider].replace(urls[provider].split("/messages/")[0], BASE_URL)  # the stack's own address
    return requests.post(url, json={"from": number, "to": to, "message": text,
                                    "provider_message_id": provider_message_id or str(uuid.uuid4())}, timeout=10)


def replies_to(db, number):
    """The service's own messages to the number: (kind, status) in order."""
    return db.execute("""SELECT m.kind, m.status::text FROM messages m JOIN phone_numbers p ON p.id = m.phone_number_id
                         WHERE p.number = %s AND m.api_key_id IS NULL ORDER BY m.id""", (number,)).fetchall()


@pytest.mark.parametrize("text", ["STOP", "stop", " Stop. ", "STOP!", "unsubscribe", "Cancel", "END", "QUIT", "REVOKE", "OPTOUT", "STOPALL"])
def test_every_opt_out_keyword_opts_out_and_fails_what_was_queued(api, db, inbound_urls, text):
    number = new_number()
    queued = api.post_message(number, "Later", send_at=LATER()).json()["id"]
    response = reply(inbound_urls, number, text)
    assert response.status_code == 200, response.text
    assert response.json()["keyword"] == "opt_out" and response.json()["duplicate"] is False
    assert api.get_message(queued).json()["error"]["code"] == "recipient_opted_out"
    assert api.post_message(number, "After").json()["code"] == "recipient_opted_out"
    # The one confirmation that may still reach it is queued; who and why are kept.
    assert replies_to(db, number) == [("opt_out_reply", "queued")]
    assert db.execute("""SELECT c.source, c.actor FROM opt_out_changes c JOIN phone_numbers p ON p.id = c.phone_number_id
                         WHERE p.number = %s""", (number,)).fetchall() == [("keyword", "p1")]


@pytest.mark.parametrize("text", ["stop it", "STOP STOP", "please stop", "\"STOP\"", "STOP-", "HELP me"])
def test_a_near_miss_is_a_message_not_a_keyword(api, db, inbound_urls, text):
    number = new_number()
    assert api.post_message(number, "Hi").status_code == 201
    response = reply(inbound_urls, number, text)
    assert response.status_code == 200 and response.json()["keyword"] is None, response.text
    assert api.post_message(number, "Still fine").status_code == 201
    assert replies_to(db, number) == []


@pytest.mark.parametrize("text", ["start", "UNSTOP", "Yes"])
def test_each_opt_in_keyword_takes_the_number_off_the_list(api, db, inbound_urls, text):
    number = new_number()
    reply(inbound_urls, number, "STOP")
    assert reply(inbound_urls, number, text).json()["keyword"] == "opt_in"
    assert api.post_message(number, "Welcome back").status_code == 201
    assert [kind for kind, _ in replies_to(db, number)] == ["opt_out_reply", "opt_in_reply"]


def test_stop_start_stop_before_any_send_leaves_one_confirmation(api, db, inbound_urls):
    number = new_number()
    for text in ("STOP", "START", "STOP"):
        reply(inbound_urls, number, text)
    # The first confirmation, not yet sent, is not the one the rules allow any more.
    assert replies_to(db, number) == [("opt_out_reply", "failed"), ("opt_in_reply", "failed"), ("opt_out_reply", "queued")]


def test_start_restores_and_help_answers_but_not_while_opted_out(api, db, inbound_urls):
    number = new_number()
    assert reply(inbound_urls, number, "HELP").json()["keyword"] == "help"
    reply(inbound_urls, number, "STOP")
    reply(inbound_urls, number, "INFO")      # opted out: no help text goes to it
    reply(inbound_urls, number, "STOP")      # already opted out: no second confirmation
    assert api.post_message(number, "Refused").status_code == 422
    assert reply(inbound_urls, number, "start").json()["keyword"] == "opt_in"
    assert api.post_message(number, "Accepted again").status_code == 201
    assert [kind for kind, _ in replies_to(db, number)] == ["help_reply", "opt_out_reply", "opt_in_reply"]


def test_the_confirmation_of_an_opt_out_is_the_one_message_sent_to_the_number(api, db, mocks, inbound_urls, empty_queue):
    number = new_number()
    reply(inbound_urls, number, "STOP")
    run_sender()
    [(kind, status)] = replies_to(db, number)
    assert kind == "opt_out_reply" and status in ("sent", "delivered"), (kind, status)


def test_a_reply_is_stored_once_and_threaded_to_the_last_message_its_key_sent(db, inbound_urls):
    number = new_number()
    first_key, second_key = Api(create_api_key("inbound-first")), Api(create_api_key("inbound-second"))
    first_key.post_message(number, "One", send_at=LATER())
    last = second_key.post_message(number, "Two", send_at=LATER()).json()["id"]
    provider_id = "prov-" + str(uuid.uuid4())
    stored = reply(inbound_urls, number, "Yes, see you at 5", provider_message_id=provider_id)
    assert stored.status_code == 200 and stored.json()["duplicate"] is False
    again = reply(inbound_urls, number, "Yes, see you at 5", provider_message_id=provider_id)
    assert again.json() == {"id": stored.json()["id"], "keyword": None, "duplicate": True}
    assert count(db, "SELECT count(*) FROM inbound_messages WHERE provider_message_id = %s", provider_id) == 1
    # The same id from another provider is another reply.
    assert reply(inbound_urls, number, "Yes", provider="p2", provider_message_id=provider_id).json()["duplicate"] is False
    # The key that texted last hears it, threaded to its message; the other does not.
    events = second_key.raw("GET", "/events?type=message.received").json()["events"]
    assert len(events) == 2, events
    received = events[0]["data"]["inbound_message"]
    assert (received["from"], received["message"], received["in_reply_to"], received["keyword"]) == (number, "Yes, see you at 5", last, None)
    assert first_key.raw("GET", "/events?type=message.received").json()["events"] == []


def test_an_unsigned_or_forged_reply_changes_nothing(api, db, inbound_urls):
    number = new_number()
    body = {"from": number, "to": "+15550009999", "message": "STOP", "provider_message_id": "forged-1"}
    signed = inbound_urls["p1"].split("?")[1]
    forged = signed.replace("prv=p1", "prv=p2")
    for query in ["", "?prv=p1", "?" + forged, "?prv=p1&sig=" + "0" * 64]:
        response = requests.post(f"{BASE_URL}/messages/inbound{query}", json=body, timeout=10)
        assert response.status_code == 401 and response.json()["code"] == "invalid_signature", (query, response.text)
    assert count(db, "SELECT count(*) FROM inbound_messages WHERE provider_message_id = 'forged-1'") == 0
    assert api.post_message(number, "Still reachable").status_code == 201


def test_a_malformed_reply_is_refused_with_the_field_at_fault(inbound_urls):
    url = inbound_urls["p1"].replace(inbound_urls["p1"].split("/messages/")[0], BASE_URL)
    good = {"from": new_number(), "to": "12345", "message": "Hi", "provider_message_id": "m-1"}
    for change, code, field in [
        ({"from": "12"}, "invalid_phone_number", "from"),
        ({"message": ""}, "message_empty", "message"),
        ({"to": "a b"}, "invalid_parameter", "to"),
        ({"provider_message_id": "a\u0000b"}, "invalid_parameter", "provider_message_id"),
        ({"message": 7}, "wrong_type", "message"),
    ]:
        response = requests.post(url, json={**good, **change}, timeout=10)
        assert response.status_code == 422, (change, response.text)
        assert (response.json()["code"], response.json()["field"]) == (code, field)
    missing = {k: v for k, v in good.items() if k != "from"}
    assert requests.post(url, json=missing, timeout=10).json()["code"] == "missing_field"
    assert requests.get(url, timeout=10).status_code == 405


def test_the_mock_provider_plays_the_recipient(api, db):
    """`POST /_mock/inbound` relays a reply as the provider would, on its own signed URL (the
    stack gives each mock its URL), so tests and `make run` users can reply STOP."""
    number = new_number()
    assert api.post_message(number, "Hi").status_code == 201
    relayed = requests.post(f"{MOCK_BASE['p2']}/_mock/inbound", json={"from": number, "message": "stop"}, timeout=15)
    assert relayed.status_code == 200, relayed.text
    assert relayed.json()["status"] == 200 and relayed.json()["answer"]["keyword"] == "opt_out", relayed.text
    assert api.post_message(number, "Refused").json()["code"] == "recipient_opted_out"
    assert db.execute("""SELECT i.provider, c.actor FROM inbound_messages i JOIN opt_out_changes c ON c.phone_number_id = i.phone_number_id
                         JOIN phone_numbers p ON p.id = i.phone_number_id WHERE p.number = %s""", (number,)).fetchall() == [("p2", "p2")]


def _key_with_sender(name, sender):
    """A new key allowed to send from `sender` (its default), and its API client."""
    secret = create_api_key(name)
    key_id = next(line.split("\t")[0] for line in textingctl("keys", "list").stdout.splitlines() if line.split("\t")[2] == secret[:10] + "…")
    added = textingctl("keys", "senders", "add", key_id, sender, "--default")
    assert added.returncode == 0, added.stderr
    return Api(secret)


def test_a_reply_belongs_to_the_conversation_it_answers(db, inbound_urls):
    """With sender identities, the number a recipient wrote to says whose conversation it is."""
    suffix = str(uuid.uuid4().int % 10**6).zfill(6)
    first_from, second_from, third_from = f"+1555201{suffix}", f"+1555202{suffix}", f"+1555203{suffix}"
    first = _key_with_sender("inbound-first-sender", first_from)
    second = _key_with_sender("inbound-second-sender", second_from)
    third = _key_with_sender("inbound-third-sender", third_from)
    plain = Api(create_api_key("inbound-no-sender"))
    number = new_number()
    first_message = first.post_message(number, "From the first", send_at=LATER()).json()["id"]
    second_message = second.post_message(number, "From the second", send_at=LATER()).json()["id"]
    plain_message = plain.post_message(number, "From nobody in particular", send_at=LATER()).json()["id"]

    def heard(api, text):
        events = [e["data"]["inbound_message"] for e in api.raw("GET", "/events?type=message.received").json()["events"]]
        return [(e["in_reply_to"], e["to"]) for e in events if e["message"] == text]

    # To the first key's number: the first key's conversation, though others texted since.
    reply(inbound_urls, number, "Answer one", to=first_from)
    assert heard(first, "Answer one") == [(first_message, first_from)]
    assert heard(second, "Answer one") == [] and heard(plain, "Answer one") == []
    # A provider writing the number without its +: the same number.
    reply(inbound_urls, number, "Answer two", to=second_from[1:])
    assert heard(second, "Answer two") == [(second_message, second_from[1:])]
    # To a number only the third key may use, which never texted this recipient: the third key's.
    reply(inbound_urls, number, "Answer three", to=third_from)
    assert heard(third, "Answer three") == [(None, third_from)]
    # To a number no key sends from: the key that texted last, as without senders.
    reply(inbound_urls, number, "Answer four", to="+15550009999")
    assert heard(plain, "Answer four") == [(plain_message, "+15550009999")]
    assert heard(first, "Answer four") == []


def test_the_answer_to_a_keyword_goes_from_the_number_it_was_sent_to(db, mocks, inbound_urls, empty_queue):
    stopping, helped = new_number(), new_number()
    reply(inbound_urls, stopping, "STOP", to="15550007777")  # as a provider may write +15550007777
    reply(inbound_urls, helped, "HELP", to="ACME")
    run_sender()
    sent_from = mocks.sent_from()
    answers = db.execute(
        """SELECT p.number, m.public_id::text, m.status::text FROM messages m JOIN phone_numbers p ON p.id = m.phone_number_id
           WHERE p.number IN (%s, %s) AND m.api_key_id IS NULL""", (stopping, helped)).fetchall()
    assert all(status in ("sent", "delivered") for _, _, status in answers), answers
    assert {number: sent_from.get(public_id) for number, public_id, _ in answers} == {stopping: "+15550007777", helped: "ACME"}


def test_a_reply_reaches_the_owners_webhook_signed(api, inbound_urls, empty_queue):
    number = new_number()
    sent = api.post_message(number, "Are you coming?", send_at=LATER()).json()["id"]
    with Receiver() as receiver:
        created = api.raw("POST", "/webhook_endpoints", json={"url": receiver.url(), "event_types": ["message.received"]})
        assert created.status_code == 201, created.text
        reply(inbound_urls, number, "Yes, at 5")
        deadline = time.monotonic() + 20
        while not receiver.requests():
            assert time.monotonic() < deadline, "the reply's webhook never came"
            run_sender()
        [delivery] = receiver.requests()
        event = standardwebhooks.Webhook(created.json()["secret"]).verify(delivery.body, delivery.headers)
    assert event["type"] == "message.received"
    received = event["data"]["inbound_message"]
    assert (received["from"], received["message"], received["in_reply_to"]) == (number, "Yes, at 5", sent)
