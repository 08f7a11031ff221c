from texting_support import stats


def test_median_of_an_odd_and_an_even_count_and_of_nothing():
    assert stats.median([3, 1, 2]) == 2
    assert stats.median([4, 1, 3, 2]) == 2.5
    assert stats.median([]) is None


def test_percentiles_interpolate_as_postgresql_percentile_cont_does():
    values = [40, 10, 30, 20]
    assert stats.percentile(values, 0.5) == 25
    assert stats.percentile(values, 0.0) == 10
    assert stats.percentile(values, 1.0) == 40
    assert abs(stats.percentile(values, 0.99) - 39.7) < 1e-9
    assert stats.percentile([7], 0.99) == 7
    assert stats.percentile([None, float("nan")], 0.5) is None


def test_a_failed_measurement_is_left_out_not_counted_as_zero():
    assert stats.median([10, None, 30, float("nan")]) == 20
    assert stats.median([None, None]) is None
    assert stats.maximum([1, None, 7.5]) == 7.5
    assert stats.maximum([None]) is None


def test_ratio_and_targets_say_what_a_reader_needs():
    assert stats.ratio(870, 1000) == "87 %"
    assert stats.ratio(None, 1000) == "n/a"
    assert stats.ratio(5, 0) == "n/a"
    assert stats.target_ratio(1000, 1000) == "met"
    assert stats.target_ratio(999, 1000) == "**not met**"
    assert stats.target_ratio(None, 1000) == "not measured"
    assert stats.aim_ratio(2000, 1000) == "reached"
    assert stats.aim_ratio(1, 1000) == "**not reached**"
    assert stats.aim_ratio(1, None) == "not measured"
    assert stats.target_below(99.9, 100) == "met"
    assert stats.target_below(100, 100) == "**not met**"
    assert stats.target_below(None, 100) == "not measured"


def test_numbers_are_shown_whole_with_separators_and_memory_in_mib():
    assert stats.whole(1234567.6) == "1,234,568"
    assert stats.whole(12) == "12"
    assert stats.whole(None) == "n/a"
    assert stats.mib(2048) == "2.0 MiB"
    assert stats.mib(None) == "n/a"


def test_per_second_needs_time_to_have_passed():
    assert stats.per_second(500, 2.0) == 250
    assert stats.per_second(500, 0) is None


def test_raw_values_are_listed_in_order():
    assert stats.joined([1.5, None, 3]) == "1.5, n/a, 3"
    assert stats.joined([1.25, 2], digits=1) == "1.2, 2.0"
