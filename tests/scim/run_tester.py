#!/usr/bin/env python3
"""Run the scim2-tester SCIM 2.0 compliance checks against a server's Users and Groups.

Usage:
    python tests/scim/run_tester.py BASE_URL [TOKEN] [--verbose] [--allow-deviations]

BASE_URL is the SCIM root (for Marcus: https://host/scim/v2); TOKEN is a tenant's bearer
token, or leave it out and set SCIM_TOKEN (other users of the machine can read command
lines). Every check is printed with its status and reason. The exit status is 0 when no
check failed, 1 when one did (ERROR, CRITICAL, or DEVIATION unless --allow-deviations),
2 when the tester could not run.

Install the pinned tester first, in its own environment:
    python3 -m venv tests/scim/.venv && tests/scim/.venv/bin/pip install -r tests/scim/requirements.txt
"""

import argparse
import os
import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status
from scim2_tester import check_server

PASSING = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="the SCIM root, e.g. https://host/scim/v2")
    parser.add_argument("token", nargs="?", default=os.environ.get("SCIM_TOKEN"), help="bearer token (default: $SCIM_TOKEN)")
    parser.add_argument("--verbose", action="store_true", help="print each check's data too")
    parser.add_argument("--allow-deviations", action="store_true", help="do not fail on SHOULD-level deviations")
    parser.add_argument("--resource-type", action="append", dest="resource_types", help="check only these (default: User and Group)")
    args = parser.parse_args()
    if not args.token:
        parser.error("no token: pass it or set SCIM_TOKEN")

    http = Client(base_url=args.base_url.rstrip("/"), headers={"Authorization": f"Bearer {args.token}"}, timeout=30)
    client = SyncSCIMClient(http)
    try:
        results = check_server(client, resource_types=args.resource_types or ["User", "Group"])
    except Exception as exc:  # the tester itself failed, e.g. the server is unreachable
        print(f"the tester could not run: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2

    failing = {Status.ERROR, Status.CRITICAL} | (set() if args.allow_deviations else {Status.DEVIATION})
    passed = failed = skipped = 0
    print(f"SCIM compliance checks against {args.base_url}")
    for r in results:
        where = f"[{r.resource_type}] " if r.resource_type else ""
        print(f"{r.status.name:<10} {where}{r.title or ''}")
        if r.reason:
            for line in str(r.reason).splitlines():
                print(f"           {line}")
        if args.verbose and r.data is not None:
            print(f"           data: {r.data!r}")
        if r.status in failing:
            failed += 1
        elif r.status == Status.SKIPPED:
            skipped += 1
        else:
            passed += 1
    if not results:
        print("no check ran")
        return 2
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
