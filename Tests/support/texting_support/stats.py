"""The benchmark's statistics and the words its report uses for them: pure functions over
numbers that may be missing (None: a measurement that failed, left out and reported as a
problem where it happened)."""
import math


def _present(values):
    return [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]


def median(values):
    """The median of the values that were measured; None when none was."""
    present = sorted(_present(values))
    if not present:
        return None
    middle = len(present) // 2
    return present[middle] if len(present) % 2 else (present[middle - 1] + present[middle]) / 2


def percentile(values, q):
    """The q-quantile (0 to 1) of the measured values, interpolated between the nearest ranks
    as PostgreSQL's percentile_cont does; None when none was measured."""
    present = sorted(_present(values))
    if not present:
        return None
    position = q * (len(present) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(present) - 1)
    return present[lower] + (present[upper] - present[lower]) * (position - lower)


def maximum(values):
    present = _present(values)
    return max(present) if present else None


def per_second(count, seconds):
    """`count` over `seconds`, None when no time passed."""
    return count / seconds if seconds and seconds > 0 else None


def whole(value):
    """A whole number with thousands separators: 12,345; n/a when not measured."""
    return "n/a" if value is None else f"{round(value):,}"


def ratio(value, ceiling):
    """`value` as a percentage of `ceiling`: "87 %"; n/a without both."""
    if value is None or ceiling is None or ceiling <= 0:
        return "n/a"
    return f"{100 * value / ceiling:.0f} %"


def target_ratio(value, ceiling, at_least=1.0):
    """Whether `value` reaches `at_least` times `ceiling` (by default, a ratio of 100 %)."""
    if value is None or ceiling is None or ceiling <= 0:
        return "not measured"
    return "met" if value / ceiling >= at_least else "**not met**"


def aim_ratio(value, ceiling):
    """Like `target_ratio`, for an aim past the target: reached or not."""
    return {"met": "reached", "**not met**": "**not reached**"}.get(target_ratio(value, ceiling), "not measured")


def target_below(value, limit):
    """Whether `value` stays under `limit`."""
    if value is None:
        return "not measured"
    return "met" if value < limit else "**not met**"


def mib(kib):
    """KiB as MiB with one decimal: "12.3 MiB"; n/a when not measured."""
    return "n/a" if kib is None else f"{kib / 1024:.1f} MiB"


def joined(values, digits=None):
    """The raw values in order, comma-separated, as measured (n/a for a failed one)."""
    def shown(value):
        if value is None:
            return "n/a"
        if digits is None:
            return f"{value:g}" if isinstance(value, float) else str(value)
        return f"{value:.{digits}f}"
    return ", ".join(shown(v) for v in values)
