#!/usr/bin/env python3
"""Checks a boundary --audit-file (JSON lines, DESIGN.md section 5).

usage: auditcheck.py FILE [--count N] [--match REGEX]... [--rule RULE]...

Always checked: every line is a JSON object with event_time (RFC 3339),
session_id (UUIDv4, the same on every line), sequence (0, 1, 2, ... in file
order, no gaps), decision (allow|deny), http_method, http_url
(scheme://host...) and host; an allow has a non-empty matched_rule and no
reason; a deny has a non-empty reason and no matched_rule.
--count N     exactly N records.
--match RE    the REs, in the order given, match records in increasing
              sequence order (a subsequence; re.search on the raw line).
--rule RULE   the --allow rules of the run: every matched_rule is one of them.
Prints what is wrong and exits 1, or exits 0 silently.
"""
import json
import re
import sys

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?"
                     r"(Z|[+-]\d\d:\d\d)$")
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}"
                   r"-[0-9a-f]{12}$")
URL = re.compile(r"^(http|https|ws|wss)://[^/\s]+(/\S*)?$")


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    path = argv[1]
    count, matches, rules = None, [], []
    i = 2
    while i < len(argv):
        opt, val = argv[i], argv[i + 1]
        if opt == "--count":
            count = int(val)
        elif opt == "--match":
            matches.append(val)
        elif opt == "--rule":
            rules.append(val)
        else:
            print("auditcheck: unknown option %s" % opt, file=sys.stderr)
            return 2
        i += 2
    errs = []
    try:
        with open(path, encoding="utf-8") as f:
            raw = f.read()
    except OSError as e:
        print("audit: cannot read %s: %s" % (path, e))
        return 1
    if raw and not raw.endswith("\n"):
        errs.append("the last line is not terminated (record cut short?)")
    lines = raw.splitlines()
    sessions = set()
    for n, line in enumerate(lines):
        where = "audit line %d" % (n + 1)
        try:
            r = json.loads(line)
        except ValueError as e:
            errs.append("%s: not JSON (%s): %s" % (where, e, line[:200]))
            continue
        if not isinstance(r, dict):
            errs.append("%s: not an object" % where)
            continue
        for k in ("event_time", "session_id", "sequence", "decision",
                  "http_method", "http_url", "host"):
            if k not in r:
                errs.append("%s: no %s" % (where, k))
        if not RFC3339.match(str(r.get("event_time", ""))):
            errs.append("%s: event_time %r is not RFC 3339" %
                        (where, r.get("event_time")))
        if not UUID4.match(str(r.get("session_id", ""))):
            errs.append("%s: session_id %r is not a UUIDv4" %
                        (where, r.get("session_id")))
        sessions.add(r.get("session_id"))
        if r.get("sequence") != n or type(r.get("sequence")) is not int:
            errs.append("%s: sequence %r, want %d (dense, in order)" %
                        (where, r.get("sequence"), n))
        if not URL.match(str(r.get("http_url", ""))):
            errs.append("%s: http_url %r is not scheme://host/path" %
                        (where, r.get("http_url")))
        d = r.get("decision")
        if d == "allow":
            if not r.get("matched_rule"):
                errs.append("%s: allow without matched_rule" % where)
            elif rules and r["matched_rule"] not in rules:
                errs.append("%s: matched_rule %r is none of %r" %
                            (where, r["matched_rule"], rules))
            if r.get("reason"):
                errs.append("%s: allow with a reason" % where)
        elif d == "deny":
            if not r.get("reason"):
                errs.append("%s: deny without reason" % where)
            if r.get("matched_rule"):
                errs.append("%s: deny with a matched_rule" % where)
        else:
            errs.append("%s: decision %r" % (where, d))
    if len(sessions) > 1:
        errs.append("%d different session_ids" % len(sessions))
    if count is not None and len(lines) != count:
        errs.append("%d records, want %d" % (len(lines), count))
    pos = 0
    for rx in matches:
        c = re.compile(rx)
        while pos < len(lines) and not c.search(lines[pos]):
            pos += 1
        if pos == len(lines):
            errs.append("no record (in order) matches %s" % rx)
            break
        pos += 1
    for e in errs:
        print("audit: %s" % e)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
