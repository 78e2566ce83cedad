"""The real price files, read into the shapes the C++ price pipeline works on.

Spot observations become price steps exactly as the service makes them:
sef::Bucketize (src/pricing/sef.cc) then ledger::StepsFrom (src/ledger/ledger.cc).
Prices are integer micro-dollars per hour and times integer microseconds since the
epoch (UTC), as in the library, so nothing here rounds.
"""

import bisect
import datetime
import gzip
import json

BUCKET_US = 300 * 1_000_000  # sef::Options' default bucket


def parse_price(text):
    """A decimal string ("0.290700") as exact micro-dollars, as Money::ParsePrice."""
    whole, _, frac = text.partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()) or len(frac) > 6:
        raise ValueError(f"not a price with at most 6 decimals: {text!r}")
    micros = int(whole) * 1_000_000 + int(frac.ljust(6, "0"))
    if micros <= 0:
        raise ValueError(f"not a positive price: {text!r}")
    return micros


def parse_time_us(text):
    """An ISO-8601 timestamp with an offset, as microseconds since the epoch."""
    t = datetime.datetime.fromisoformat(text)
    if t.utcoffset() is None:
        raise ValueError(f"timestamp without an offset: {text!r}")
    delta = t - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def format_time(us):
    """Microseconds since the epoch as the manifest spells a time."""
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=us)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class Series:
    """One pool's observations, ordered by (time, seq) as Bucketize sorts them."""

    def __init__(self, observations):
        # observations: (observed_us, seq, price_micros); seq is unique, so the order
        # is total and matches sef's SampleLess.
        observations = sorted(observations)
        self.times = [o[0] for o in observations]
        self.prices = [o[2] for o in observations]

    def window(self, first_us, last_us):
        """The observations with first_us <= observed <= last_us, as (times, prices)."""
        lo = bisect.bisect_left(self.times, first_us)
        hi = bisect.bisect_right(self.times, last_us)
        return self.times[lo:hi], self.prices[lo:hi]


def bucketize(times, prices):
    """sef::Bucketize for one series of one source, already in (time, seq) order: per
    UTC bucket (floor) its earliest observation, as (observed_us, price_micros)."""
    out = []
    last_bucket = None
    for t, p in zip(times, prices):
        bucket = t // BUCKET_US  # floor, also before 1970, as sef::BucketStart
        if bucket != last_bucket:
            out.append((t, p))
            last_bucket = bucket
    return out


def steps_from(buckets):
    """ledger::StepsFrom: each bucket's price from when it was observed; a price equal
    to the previous step's is dropped. [(from_us, price_micros)]."""
    steps = []
    for t, p in buckets:
        if steps and steps[-1][1] == p:
            continue
        steps.append((t, p))
    return steps


def read_spot_history(paths):
    """{(instance_type, az): Series} from AWS spot price history dumps (text output of
    DescribeSpotPriceHistory). Dumps that overlap repeat rows byte for byte: a line
    seen before is the same observation and is read once. seq numbers the remaining
    lines in file order, as an import would insert them."""
    seen = set()
    pools = {}
    seq = 0
    for path in paths:
        with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
            for line in f:
                line = line.rstrip("\n").rstrip("\r")
                if not line or line in seen:
                    continue
                seen.add(line)
                tag, price, at, instance_type, product, az = line.split("\t")
                if tag != "SPOTINSTANCEPRICE" or product != "Linux/UNIX":
                    raise ValueError(f"{path}: not a Linux/UNIX spot price row: {line!r}")
                pools.setdefault((instance_type, az), []).append(
                    (parse_time_us(at), seq, parse_price(price)))
                seq += 1
    return {pool: Series(obs) for pool, obs in pools.items()}


def read_on_demand(path, region):
    """{instance_type: price_micros} of one region from the on-demand CSV."""
    out = {}
    with open(path, encoding="utf-8") as f:
        next(f)  # header
        for line in f:
            cols = line.rstrip("\n").split(",")
            if cols[0] == region:
                out[cols[1]] = parse_price(cols[2])
    return out


def read_advisor(path, region, os_name):
    """{instance_type: (band_index, savings_percent)} of one (region, OS) of a Spot
    Advisor feed; the band index is the entry's "r", as AdvisorFeed::Parse reads it."""
    with open(path, encoding="utf-8") as f:
        feed = json.load(f)
    entries = feed["spot_advisor"].get(region, {}).get(os_name, {})
    return {t: (int(e["r"]), int(e["s"])) for t, e in entries.items()}
