"""The opt-out list: a number on it receives nothing more. POST /messages refuses it, the
opt-out fails what was queued for it in the same transaction, the sender checks again when it
claims, and every change is kept with who made it and why (`textingctl optouts`)."""
import contextlib
import os
import threading
import time

from conftest import Api, count, create_api_key, new_number, run_sender, running_sender, textingctl, wait_for

LATER = lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))  # noqa: E731


def opt_out(number, reason="complaint by phone"):
    result = textingctl("optouts", "add", number, reason)
    assert result.returncode == 0, result.stderr
    return result.stdout


def opt_in(number, reason="asked to receive again"):
    result = textingctl("optouts", "remove", number, reason)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_an_opted_out_number_is_refused_and_nothing_is_stored(api, db):
    number = new_number()
    assert "opted out" in opt_out(number)
    before = count(db, "SELECT count(*) FROM messages")
    response = api.post_message(number, "Hello")
    assert response.status_code == 422, response.text
    problem = response.json()
    assert (problem["code"], problem["field"]) == ("recipient_opted_out", "to_number")
    assert count(db, "SELECT count(*) FROM messages") == before
    # Written another way, it is the same number.
    assert api.post_message(number[2:5] + "-" + number[5:]).status_code == 422
    # Opted in again: accepted.
    assert "opted in" in opt_in(number)
    assert api.post_message(number, "Hello again").status_code == 201


def test_opting_out_fails_the_queued_messages_in_the_same_change_and_each_key_hears_it(api, db, empty_queue):
    number = new_number()
    other = Api(create_api_key("opt-out-other"))
    queued = [api.post_message(number, f"Later {i}", send_at=LATER()).json()["id"] for i in range(3)]
    theirs = other.post_message(number, "Theirs", send_at=LATER()).json()["id"]
    elsewhere = api.post_message(new_number(), "Elsewhere", send_at=LATER()).json()["id"]

    assert "4 queued messages failed" in opt_out(number)
    for message_id in queued:
        message = api.get_message(message_id).json()
        assert (message["status"], message["error"]["code"]) == ("failed", "recipient_opted_out"), message
    assert other.get_message(theirs).json()["error"]["code"] == "recipient_opted_out"
    assert api.status_of(elsewhere) == "queued"
    assert count(db, """SELECT count(*) FROM jobs j JOIN messages m ON m.id = j.message_id
                        JOIN phone_numbers p ON p.id = m.phone_number_id WHERE p.number = %s""", number) == 0
    # Events: each failed message, and the opt-out once for every key that texted the number.
    for client in (api, other):
        events = client.raw("GET", "/events?type=phone_number.opted_out").json()["events"]
        assert [e["data"]["phone_number"] for e in events] == [{"number": number, "opted_out": True}], events
    failed = api.raw("GET", "/events?type=message.failed&limit=100").json()["events"]
    assert {e["data"]["message"]["id"] for e in failed} >= set(queued)
    # Opting out twice changes nothing and records nothing.
    assert "already opted out" in opt_out(number)
    assert count(db, """SELECT count(*) FROM opt_out_changes c JOIN phone_numbers p ON p.id = c.phone_number_id
                        WHERE p.number = %s""", number) == 1


def test_the_sender_checks_the_list_when_it_claims(api, db, mocks, empty_queue):
    """A message queued before the number went on the list by another path (here the row is
    set directly, as if the opt-out committed after the message was accepted but the queue
    had not been swept) is failed at claim time and never reaches a provider."""
    number = new_number()
    message_id = api.post_message(number, "Claimed after the opt-out").json()["id"]
    db.execute("UPDATE phone_numbers SET opted_out_at = now() WHERE number = %s", (number,))
    run_sender()
    message = api.get_message(message_id).json()
    assert (message["status"], message["error"]["code"], message["attempts"]) == ("failed", "recipient_opted_out", 0), message
    assert mocks.accepted_by_key()[message_id] == 0


def opt_out_committed_at(db, number):
    """When the number's last opt-out committed (Unix seconds): the stack's PostgreSQL tracks
    commit timestamps."""
    return float(db.execute("""SELECT extract(epoch FROM pg_xact_commit_timestamp(c.xmin)) FROM opt_out_changes c
                               JOIN phone_numbers p ON p.id = c.phone_number_id
                               WHERE p.number = %s AND c.action = 'opt_out' ORDER BY c.id DESC LIMIT 1""", (number,)).fetchone()[0])


def waiting_for_sends_to(db):
    """Whether some transaction waits for the hold of sends in flight (an advisory lock)."""
    return count(db, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") > 0


@contextlib.contextmanager
def send_in_flight(api, mocks, number, latency_ms):
    """A message to `number` on its way to a provider that answers after `latency_ms`, with a
    sender running for the block; yields the message's id once the provider has it."""
    for name in ("p1", "p2"):
        mocks.configure(name, latency_ms=latency_ms, callback_delay_ms=-1)
    first = api.post_message(number, "On its way").json()["id"]
    with running_sender(TEXTING_SENDER_RUN_SECONDS=30):
        wait_for(lambda: number in mocks.sends_by_number()[0], what="the send to reach the provider")
        yield first


def test_an_opt_out_waits_for_the_send_in_flight_and_no_send_starts_meanwhile(api, db, mocks, empty_queue):
    """Claimed and on its way to the provider when the opt-out comes, a message still reaches
    it, and is recorded as sent: the opt-out commits only once the provider answered. A
    message accepted while the opt-out waits is not sent (its recipient is held by the opt-out
    when the sender looks: tried again shortly, by then failed with the opt-out). The mock
    provider got one send, before the opt-out committed."""
    number = new_number()
    with send_in_flight(api, mocks, number, latency_ms=3000) as first:
        stopped = {}
        operator = threading.Thread(target=lambda: stopped.update(out=opt_out(number)))
        operator.start()
        wait_for(lambda: waiting_for_sends_to(db), what="the opt-out to wait for the send in flight")
        second = api.post_message(number, "Accepted while the opt-out waits")
        assert second.status_code == 201, second.text
        operator.join(30)
        assert not operator.is_alive() and "opted out" in stopped["out"]
        wait_for(lambda: api.status_of(second.json()["id"]) == "failed", what="the second message to fail")
    assert api.status_of(first) == "sent"
    message = api.get_message(second.json()["id"]).json()
    assert message["error"]["code"] == "recipient_opted_out", message
    sends, _ = mocks.sends_by_number()
    assert [message_id for _, _, message_id in sends[number]] == [first], sends[number]
    # Not only arrived: accepted by the provider before the opt-out committed.
    assert sends[number][0][1] < opt_out_committed_at(db, number)


def test_a_stop_reply_waits_for_the_send_in_flight(api, db, mocks, empty_queue):
    """The recipient's STOP takes the same way: it commits after the provider answered the
    send in flight, which stays sent; only the confirmation follows."""
    number = new_number()
    with send_in_flight(api, mocks, number, latency_ms=2000) as first:
        relayed = mocks.relay_inbound("p1", number, "STOP")
        assert relayed["status"] == 200, relayed
        wait_for(lambda: len(mocks.sends_by_number()[0][number]) == 2, what="the opt-out confirmation")
    assert api.status_of(first) == "sent"
    sends = mocks.sends_by_number()[0][number]
    assert sends[0][2] == first and sends[0][1] < opt_out_committed_at(db, number) < sends[1][0], sends
    assert count(db, """SELECT count(*) FROM messages m JOIN phone_numbers p ON p.id = m.phone_number_id
                        WHERE p.number = %s AND m.public_id::text = %s AND m.kind = 'opt_out_reply'""", number, sends[1][2]) == 1


def test_every_change_is_kept_with_who_when_and_why(api, db):
    number = new_number()
    opt_out(number, "asked by e-mail")
    listed = textingctl("optouts", "list")
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split("\t") == ["number", "since", "source", "actor", "reason"]
    mine = [row.split("\t") for row in rows if row.startswith(number + "\t")]
    operator = os.environ.get("SUDO_USER") or os.environ.get("USER") or os.environ.get("LOGNAME") or "operator"
    assert len(mine) == 1 and mine[0][2:] == ["operator", operator, "asked by e-mail"], mine
    opt_in(number, "asked to come back")
    assert not any(row.startswith(number + "\t") for row in textingctl("optouts", "list").stdout.splitlines())
    history = db.execute("""SELECT c.action, c.source, c.reason FROM opt_out_changes c JOIN phone_numbers p ON p.id = c.phone_number_id
                            WHERE p.number = %s ORDER BY c.id""", (number,)).fetchall()
    assert history == [("opt_out", "operator", "asked by e-mail"), ("opt_in", "operator", "asked to come back")]


def test_an_opt_out_is_not_an_invalid_number_and_both_hold(api, db):
    number = new_number()
    assert api.post_message(number, "Hi").status_code == 201
    db.execute("UPDATE phone_numbers SET status = 'inactive', inactivated_at = now() WHERE number = %s", (number,))
    opt_out(number)
    # Reactivated (a provider's verdict undone), it is still opted out.
    assert textingctl("numbers", "reactivate", number).returncode == 0
    assert api.post_message(number, "Hi").json()["code"] == "recipient_opted_out"
    opt_in(number)
    assert api.post_message(number, "Hi").status_code == 201


def test_malformed_operator_commands_change_nothing(db):
    assert textingctl("optouts", "add", "12", "why").returncode == 2
    assert textingctl("optouts", "add", new_number()).returncode == 2  # a reason is required
    assert count(db, "SELECT count(*) FROM opt_out_changes c JOIN phone_numbers p ON p.id = c.phone_number_id WHERE p.number = '12'") == 0
