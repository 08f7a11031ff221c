"""Sender identities: `from` on a message, limited to the senders an operator allowed the key
(`textingctl keys senders`), a default per key, a pool in which each recipient keeps its
sender; the sender reaches the provider and is shown with the message and its events."""
import collections

from conftest import Api, BASE_URL, count, create_api_key, new_number, run_sender, textingctl, wait_for


def _key(name):
    secret = create_api_key(name)
    key_id = next(line.split("\t")[0] for line in textingctl("keys", "list").stdout.splitlines() if f"\t{name}\t" in line)
    return Api(secret), key_id


def _senders(key_id, *arguments):
    result = textingctl("keys", "senders", *arguments[:1], key_id, *arguments[1:]) if arguments else textingctl("keys", "senders", key_id)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_key_sends_only_from_the_senders_it_was_allowed(db):
    api, key_id = _key("senders")
    # No sender allowed yet: a message without `from` goes out with the provider's own.
    plain = api.post_message(new_number(), "no sender")
    assert plain.status_code == 201 and plain.json()["from"] is None
    refused = api.post_message(new_number(), "hi", **{"from": "+15555550199"})
    assert refused.status_code == 422, refused.text
    assert (refused.json()["code"], refused.json()["field"]) == ("sender_not_allowed", "from")

    listed = _senders(key_id, "add", "+15555550199")
    assert "+15555550199\t-\t-\t" in listed
    _senders(key_id, "add", "ACME Ltd")
    _senders(key_id, "add", "55555")
    for sender in ("+15555550199", "ACME Ltd", "55555"):
        answer = api.post_message(new_number(), "hi", **{"from": sender})
        assert answer.status_code == 201, answer.text
        assert answer.json()["from"] == sender
        assert api.get_message(answer.json()["id"]).json()["from"] == sender
    # Another key's sender is not this key's.
    other, _ = _key("senders-other")
    assert other.post_message(new_number(), "hi", **{"from": "ACME Ltd"}).json()["code"] == "sender_not_allowed"
    # Removed, it is refused again; nothing was stored for refusals.
    assert "removed 55555" in _senders(key_id, "remove", "55555")
    assert api.post_message(new_number(), "hi", **{"from": "55555"}).status_code == 422
    assert count(db, "SELECT count(*) FROM messages m JOIN api_keys k ON k.id = m.api_key_id WHERE k.name = 'senders' AND m.sender IS NULL") == 1


def test_a_sender_that_cannot_be_one_is_refused_before_anything_else():
    api, _ = _key("senders-bad")
    for bad in ["", "ACME Limited Co", "12", "+0123456789", "+12", "AC/ME", " ACME", "123456789", "ÄCME"]:
        answer = api.post_message(new_number(), "hi", **{"from": bad})
        assert answer.status_code == 422 and answer.json()["code"] == "invalid_sender", (bad, answer.text)
    assert api.post_message(new_number(), "hi", **{"from": 5}).json()["code"] == "wrong_type"
    bad_add = textingctl("keys", "senders", "add", "whatever", "ACME Limited Co")
    assert bad_add.returncode == 2 and "alphanumeric sender id" in bad_add.stderr


def test_the_default_sender_goes_out_to_the_provider(mocks):
    api, key_id = _key("senders-default")
    _senders(key_id, "add", "+15555550111")
    _senders(key_id, "add", "ACME", "--default")
    assert "ACME\t-\tdefault" in _senders(key_id)
    number = new_number()
    message = api.post_message(number, "from the default").json()
    assert message["from"] == "ACME"
    explicit = api.post_message(new_number(), "explicit", **{"from": "+15555550111"}).json()
    # A new default replaces the old one.
    _senders(key_id, "add", "+15555550111", "--default")
    assert "ACME\t-\t-" in _senders(key_id)
    assert api.post_message(new_number(), "new default").json()["from"] == "+15555550111"

    run_sender()
    wait_for(lambda: api.status_of(message["id"]) == "delivered", what="the message delivered")
    sent_from = mocks.sent_from()
    assert sent_from[message["id"]] == "ACME"
    assert sent_from[explicit["id"]] == "+15555550111"
    # The message's events carry it too.
    events = api.raw("GET", "/events").json()["events"]
    delivered = next(e for e in events if e["type"] == "message.delivered" and e["data"]["message"]["id"] == message["id"])
    assert delivered["data"]["message"]["from"] == "ACME"


def test_each_recipient_keeps_its_pooled_sender():
    api, key_id = _key("senders-pool")
    pool = ["+15555550121", "+15555550122", "+15555550123"]
    for sender in pool:
        _senders(key_id, "add", sender, "--pool")
    numbers = [new_number() for _ in range(60)]
    first = {n: api.post_message(n, "one").json()["from"] for n in numbers}
    assert set(first.values()) <= set(pool)
    # Spread over the pool, not all on one.
    assert len(set(first.values())) == 3, collections.Counter(first.values())
    assert all(api.post_message(n, "two").json()["from"] == first[n] for n in numbers[:20])
    # A sender added to the pool takes only the recipients it now wins; the others keep theirs.
    _senders(key_id, "add", "+15555550124", "--pool")
    after = {n: api.post_message(n, "three").json()["from"] for n in numbers}
    moved = [n for n in numbers if after[n] != first[n]]
    assert all(after[n] == "+15555550124" for n in moved)
    assert len(moved) < len(numbers) // 2
    # A removed one's recipients move; nobody else does.
    _senders(key_id, "remove", "+15555550121")
    last = {n: api.post_message(n, "four").json()["from"] for n in numbers}
    assert all(last[n] == after[n] for n in numbers if after[n] != "+15555550121")
    assert "+15555550121" not in last.values()
    # `from` may still name any allowed sender, pooled or not.
    assert api.post_message(numbers[0], "explicit", **{"from": "+15555550122"}).json()["from"] == "+15555550122"


def test_batch_messages_take_a_sender_from_their_defaults():
    api, key_id = _key("senders-batch")
    _senders(key_id, "add", "ACME")
    body = {"defaults": {"message": "hi", "from": "ACME"},
            "messages": [{"to_number": new_number()}, {"to_number": new_number(), "from": "OTHER"}]}
    document = api.session.post(f"{BASE_URL}/messages/batch", json=body).json()
    assert [r["status"] for r in document["results"]] == [201, 422]
    assert document["results"][0]["message"]["from"] == "ACME"
    assert document["results"][1]["problem"]["code"] == "sender_not_allowed"
