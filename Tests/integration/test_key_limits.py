"""Per-key limits set by operators (`textingctl keys limits`): a rate (a token bucket) and
segment quotas per UTC day and month, enforced in the statement that stores the messages,
and every key's usage in GET /usage, `textingctl stats` and /metrics."""
import concurrent.futures
import datetime
import re
import time
import uuid

import pytest

from conftest import Api, BASE_URL, count, create_api_key, new_number, textingctl

ONE_SEGMENT = "one segment"
TWO_SEGMENTS = "x" * 200  # GSM-7: 153 characters a segment once there are several


def _key(name):
    """A new key, its API client, its public id and prefix (as `textingctl keys list` shows)."""
    secret = create_api_key(name)
    listed = textingctl("keys", "list")
    assert listed.returncode == 0, listed.stderr
    row = next(line.split("\t") for line in listed.stdout.splitlines() if line.split("\t")[2] == secret[:10] + "…")
    return Api(secret), row[0], secret[:10]


def _limits(key_id, *options):
    result = textingctl("keys", "limits", key_id, *options)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _stored(db, prefix):
    return count(db, "SELECT count(*) FROM messages m JOIN api_keys k ON k.id = m.api_key_id WHERE k.prefix = %s", prefix)


def _seconds_until(moment):
    return (moment - datetime.datetime.now(datetime.timezone.utc)).total_seconds()


def _next_utc_midnight():
    now = datetime.datetime.now(datetime.timezone.utc)
    return datetime.datetime(now.year, now.month, now.day, tzinfo=datetime.timezone.utc) + datetime.timedelta(days=1)


def _next_utc_month():
    now = datetime.datetime.now(datetime.timezone.utc)
    return datetime.datetime(now.year + (now.month == 12), now.month % 12 + 1, 1, tzinfo=datetime.timezone.utc)


def test_usage_counts_every_keys_messages_and_segments_this_utc_day_and_month():
    api, _, _ = _key("usage")
    empty = api.raw("GET", "/usage")
    assert empty.status_code == 200, empty.text
    body = empty.json()
    today = datetime.datetime.now(datetime.timezone.utc).date()
    assert body["day"] == {"start": today.isoformat(), "messages": 0, "segments": 0, "segment_quota": None, "segments_remaining": None,
                           "resets_at": _next_utc_midnight().strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert body["month"]["start"] == today.strftime("%Y-%m") and body["month"]["resets_at"] == _next_utc_month().strftime("%Y-%m-%dT%H:%M:%SZ")
    assert body["rate"] is None

    assert api.post_message(new_number(), ONE_SEGMENT).status_code == 201
    two = api.post_message(new_number(), TWO_SEGMENTS)
    assert two.status_code == 201 and two.json()["segments"] == 2
    # Refused messages count for nothing.
    assert api.post_message("not a number", ONE_SEGMENT).status_code == 422
    usage = api.raw("GET", "/usage").json()
    assert (usage["day"]["messages"], usage["day"]["segments"]) == (2, 3)
    assert (usage["month"]["messages"], usage["month"]["segments"]) == (2, 3)
    # Compaction (what every sender run and `textingctl prune` do) changes no figure.
    assert textingctl("prune").returncode == 0
    assert api.raw("GET", "/usage").json() == usage
    assert Api("txk_" + "A" * 43).raw("GET", "/usage").status_code == 401
    assert api.raw("POST", "/usage").status_code == 405


def test_a_day_quota_counts_segments_and_refuses_until_the_utc_day_ends(db):
    api, key_id, prefix = _key("day-quota")
    assert api.post_message(new_number(), ONE_SEGMENT).status_code == 201  # before the quota: counted in it
    shown = _limits(key_id, "--segments-per-day", "6")
    assert "segments_per_day: 6" in shown and "remaining=5" in shown, shown

    assert api.post_message(new_number(), TWO_SEGMENTS).status_code == 201
    assert api.post_message(new_number(), TWO_SEGMENTS).status_code == 201
    refused = api.post_message(new_number(), TWO_SEGMENTS)  # 1 + 2 + 2 + 2 > 6
    assert refused.status_code == 429, refused.text
    problem = refused.json()
    assert problem["code"] == "quota_exceeded" and "6 segments this day" in problem["detail"]
    assert refused.headers["content-type"] == "application/problem+json"
    assert abs(int(refused.headers["retry-after"]) - _seconds_until(_next_utc_midnight())) <= 5
    # What still fits is accepted.
    assert api.post_message(new_number(), ONE_SEGMENT).status_code == 201
    assert api.post_message(new_number(), ONE_SEGMENT).status_code == 429
    assert _stored(db, prefix) == 4
    usage = api.raw("GET", "/usage").json()["day"]
    assert (usage["segments"], usage["segment_quota"], usage["segments_remaining"]) == (6, 6, 0)

    # Raised, it lets the key go on; removed, there is no quota.
    _limits(key_id, "--segments-per-day", "8")
    assert api.post_message(new_number(), TWO_SEGMENTS).status_code == 201
    assert api.post_message(new_number(), ONE_SEGMENT).status_code == 429
    _limits(key_id, "--segments-per-day", "none")
    assert api.post_message(new_number(), TWO_SEGMENTS).status_code == 201
    assert api.raw("GET", "/usage").json()["day"]["segment_quota"] is None


def test_a_month_quota_is_reported_with_the_later_reset_when_both_are_spent():
    api, key_id, _ = _key("month-quota")
    _limits(key_id, "--segments-per-day", "2", "--segments-per-month", "2")
    assert api.post_message(new_number(), TWO_SEGMENTS).status_code == 201
    refused = api.post_message(new_number(), ONE_SEGMENT)
    assert refused.status_code == 429 and "2 segments this month" in refused.json()["detail"]
    assert abs(int(refused.headers["retry-after"]) - _seconds_until(_next_utc_month())) <= 5


@pytest.mark.parametrize("idempotent", [False, True])
def test_concurrent_posts_at_the_edge_of_a_quota_never_overshoot_it(db, idempotent):
    api, key_id, prefix = _key(f"quota-race-{idempotent}")
    _limits(key_id, "--segments-per-day", "50")

    def post(index):
        headers = {"Idempotency-Key": str(uuid.uuid4())} if idempotent else {}
        # Every third message is two segments: the quota counts segments, not messages.
        return api.session.post(f"{BASE_URL}/messages", headers=headers,
                                json={"to_number": new_number(), "message": TWO_SEGMENTS if index % 3 == 0 else ONE_SEGMENT})

    with concurrent.futures.ThreadPoolExecutor(max_workers=100) as pool:
        answers = list(pool.map(post, range(100)))
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {201, 429}, statuses
    accepted = [a.json() for a in answers if a.status_code == 201]
    spent = sum(m["segments"] for m in accepted)
    assert spent <= 50, f"{spent} segments accepted under a quota of 50"
    # Every refusal was for the quota, and a refusal means the message did not fit then:
    # at most a two-segment message's worth is left unspent.
    assert spent >= 49, f"only {spent} of 50 segments accepted: {statuses.count(429)} refused"
    assert all(a.json()["code"] == "quota_exceeded" for a in answers if a.status_code == 429)
    assert _stored(db, prefix) == len(accepted)
    assert api.raw("GET", "/usage").json()["day"]["segments"] == spent


def test_a_rate_refuses_past_the_burst_with_retry_after_and_refills():
    api, key_id, _ = _key("rate")
    shown = _limits(key_id, "--rate", "2/s", "--burst", "5")
    assert "rate: 2/s burst 5" in shown, shown
    started = time.monotonic()
    statuses, retry_after = [], []
    for _ in range(12):
        response = api.post_message(new_number(), ONE_SEGMENT)
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.json()["code"] == "rate_limited"
            retry_after.append(int(response.headers["retry-after"]))
    elapsed = time.monotonic() - started
    accepted = statuses.count(201)
    # The burst, and what the bucket refilled meanwhile (2 a second).
    assert 5 <= accepted <= 5 + 2 * elapsed + 1, (statuses, elapsed)
    assert statuses[:5] == [201] * 5 and 429 in statuses
    assert all(seconds >= 1 for seconds in retry_after)
    time.sleep(max(retry_after))
    assert api.post_message(new_number(), ONE_SEGMENT).status_code == 201
    assert api.raw("GET", "/usage").json()["rate"] == {"messages_per_second": 2, "burst": 5}
    # Without a burst, the burst is a second's worth; `none` removes both.
    assert "rate: 0.5/s burst 1" in _limits(key_id, "--rate", "30/min", "--burst", "1")
    assert "rate: none" in _limits(key_id, "--rate", "none")


def test_textingctl_keys_limits_checks_what_it_is_given():
    _, key_id, _ = _key("limits-cli")
    for options, message in [(["--rate", "fast"], "--rate"), (["--rate", "0/s"], "--rate"), (["--burst", "5"], "goes with a rate"),
                             (["--segments-per-day", "-1"], "--segments-per-day"), (["--color", "red"], "takes --rate"),
                             (["--segments-per-day"], "needs a value")]:
        result = textingctl("keys", "limits", key_id, *options)
        assert result.returncode == 2, (options, result.stdout)
        assert message in result.stderr, (options, result.stderr)
    unknown = textingctl("keys", "limits", str(uuid.uuid4()), "--rate", "5/s")
    assert unknown.returncode == 1 and "no active key" in unknown.stderr
    shown = _limits(key_id)
    assert re.search(r"^rate: none$", shown, re.M) and "segments_per_day: none" in shown


def test_stats_and_metrics_show_each_keys_usage_and_limits():
    api, key_id, prefix = _key("figures")
    _limits(key_id, "--segments-per-day", "100", "--rate", "50/s", "--burst", "200")
    assert api.post_message(new_number(), TWO_SEGMENTS).status_code == 201
    stats = textingctl("stats")
    assert stats.returncode == 0, stats.stderr
    line = next(line for line in stats.stdout.splitlines() if f"({prefix}…)" in line)
    assert "messages=1 segments=2 quota=100 remaining=98" in line and "rate=50/s burst=200" in line, line
    metrics = Api().raw("GET", "/metrics").text
    labels = f'key="{prefix}",name="figures",period="day"'
    assert f"texting_key_segments{{{labels}}} 2" in metrics
    assert f"texting_key_messages{{{labels}}} 1" in metrics
    assert f"texting_key_segment_quota{{{labels}}} 100" in metrics
    assert f'texting_key_rate_limit{{key="{prefix}",name="figures"}} 50' in metrics
