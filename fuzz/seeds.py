#!/usr/bin/env python3
"""Seeds for the fuzz targets, taken from the inputs the test suites use.

Reads every string literal of tests/ (raw strings, concatenated literals, fmt
templates with their {} filled in) and the real data under ../shared/data, and
writes each input a target can use as a file of OUT/<target>/, named by its hash:

  JSON objects          config_patch, capi (the entry point its keys belong to) and
                        protocol (a request to the route its keys belong to)
  JSON price lists      capi (prices_import)
  advisor feeds         advisor, capi (advisor_load); the real feed cut to a few entries
  price file lines      price_files, with a few lines of each real file

The committed seeds (fuzz/corpus/) cover what the tests cannot give: whole protocol
sessions and the GET routes, and the records of a database (codec: a row of each
table of the database examples/fleet_sim's smoke test writes, plus the record kinds
it does not write).

Usage: seeds.py OUT
"""
import gzip
import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"

# A body's route: the first key of this table that the body has.
PROTOCOL_ROUTES = [
    ("region", "POST /api/agents/register"),
    ("pricing", "POST /api/agents/@AGENT@/pricing-report"),
    ("prices", "POST /api/agents/@AGENT@/pricing-report"),
    ("old_instance", "POST /api/agents/@AGENT@/switch-report"),
    ("signal_type", "POST /api/agents/@AGENT@/create-emergency-replica"),
    ("termination_time", "POST /api/agents/@AGENT@/termination-imminent"),
    ("snapshots", "POST /api/agents/@AGENT@/cleanup-report"),
    ("amis", "POST /api/agents/@AGENT@/cleanup-report"),
    ("parent_instance_id", "POST /api/agents/@AGENT@/replicas"),
    ("sync_started_at", "POST /api/agents/@AGENT@/replicas/@REPLICA@/status"),
    ("sync_completed_at", "POST /api/agents/@AGENT@/replicas/@REPLICA@/status"),
    ("error_message", "POST /api/agents/@AGENT@/replicas/@REPLICA@/status"),
    ("success", "POST /api/agents/@AGENT@/commands/@COMMAND@/executed"),
    ("instance_id", "PUT /api/agents/@AGENT@/replicas/@REPLICA@"),
]
DEFAULT_ROUTE = "POST /api/agents/@AGENT@/heartbeat"

# A capi request's entry points, by the first of these keys it has.
CAPI_ENTRIES = [
    ("target_mode", ["enqueue_switch"]),
    ("pool_id", ["enqueue_create_replica", "replica_request"]),
    ("replica_type", ["enqueue_create_replica", "replica_request"]),
    ("requested_by", ["enqueue_create_replica", "replica_request"]),
    ("action", ["host_decision"]),
]

LITERAL = re.compile(
    r'//[^\n]*|/\*.*?\*/'                     # comments
    r'|R"(?P<delim>[^(\s]*)\((?P<raw>.*?)\)(?P=delim)"'  # raw strings
    r'|"(?P<str>(?:[^"\\\n]|\\.)*)"'          # ordinary strings
    r"|'(?:[^'\\\n]|\\.)*'",                  # characters (skipped)
    re.S)
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", '"': '"', "\\": "\\", "'": "'"}


def unescape(s):
    def one(m):
        e = m.group(1)
        if e[0] == "x":
            return chr(int(e[1:], 16))
        return ESCAPES.get(e, e)
    return re.sub(r"\\(x[0-9a-fA-F]{1,2}|.)", one, s)


def literals(text):
    """The string literals of a C or C++ file, adjacent ones joined."""
    out, last_end = [], None
    for m in LITERAL.finditer(text):
        if m.group("raw") is not None:
            value = m.group("raw")
        elif m.group("str") is not None:
            value = unescape(m.group("str"))
        else:
            last_end = None
            continue
        if last_end is not None and text[last_end:m.start()].strip() == "":
            out[-1] += value
        else:
            out.append(value)
        last_end = m.end()
    return out


def fmt_filled(s):
    """A fmt template as it would print: {{ }} unescaped, {} filled with an id."""
    s = re.sub(r"(?<!\{)\{\d*\}(?!\})", "i-0a1b2c3d4e0000001", s)
    return s.replace("{{", "{").replace("}}", "}")


def as_json(s):
    for candidate in (s, fmt_filled(s)):
        try:
            return json.loads(candidate), candidate
        except ValueError:
            pass
    return None, None


def first_match(table, keys, default):
    return next((value for key, value in table if key in keys), default)


def request(line, body):
    return f"{line}\nAuthorization: Bearer @TOKEN@\nContent-Type: application/json\n\n{body}"


def trimmed_feed(path, types=4):
    """The real advisor feed with its ranges and a few entries of each region's OSes."""
    feed = json.loads(path.read_text())
    advisor = {}
    for region in list(feed["spot_advisor"])[:2]:
        advisor[region] = {os: dict(list(by_type.items())[:types])
                           for os, by_type in feed["spot_advisor"][region].items()}
    return json.dumps({"ranges": feed["ranges"], "spot_advisor": advisor})


def head(path, lines):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as f:
        return [next(f, "").rstrip("\n") for _ in range(lines)]


def main(out):
    seeds = {}

    def add(target, text):
        data = text.encode("utf-8", "surrogateescape")
        seeds.setdefault(target, {})[hashlib.sha1(data).hexdigest()] = data

    for path in sorted(ROOT.glob("tests/**/*.c*")):
        for lit in literals(path.read_text()):
            if "SPOTINSTANCEPRICE" in lit or re.match(r"[a-z]+-[a-z]+-\d,[a-z0-9.]+,", lit):
                add("price_files", lit)
                continue
            value, text = as_json(lit)
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                add("capi", "prices_import\n" + text)
            if not isinstance(value, dict):
                continue
            if "ranges" in value or "spot_advisor" in value:
                add("advisor", text)
                add("capi", "advisor_load\n" + text)
                continue
            add("config_patch", text)
            for entry in first_match(CAPI_ENTRIES, value, ["config_update 0"]):
                add("capi", f"{entry}\n{text}")
            add("protocol", request(first_match(PROTOCOL_ROUTES, value, DEFAULT_ROUTE), text))

    if DATA.is_dir():
        for feed in sorted(DATA.glob("aws-spot-advisor/*.json")):
            add("advisor", trimmed_feed(feed))
        for prices in sorted(DATA.glob("aws-spot-price-history/*.tsv*")):
            add("price_files", "\n".join(head(prices, 4)))
        add("price_files", "\n".join(head(DATA / "ondemand-linux.csv", 4)))

    for target, files in seeds.items():
        folder = Path(out) / target
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)
        print(f"{target}: {len(files)} seeds from the tests")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
