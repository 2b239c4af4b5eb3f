"""Print locust's per-endpoint figures and fail when a request failed or a p95 is over 500 ms."""

import csv
import sys

P95_LIMIT_MS = 500
# Signing in hashes the password on purpose slowly (PBKDF2, ~0.3 s of CPU): it is printed, but a
# page-speed limit does not apply to it.
NO_LIMIT = {"/login/ (post)"}


def main(path: str) -> int:
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    print(
        f"{'endpoint':<42} {'requests':>9} {'fails':>6} {'p50':>6} {'p95':>6} {'p99':>6} {'rps':>7}"
    )
    problems = []
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "ALL"
        p50, p95, p99 = (int(float(row[f"{p}%"] or 0)) for p in ("50", "95", "99"))
        fails = int(row["Failure Count"])
        print(
            f"{(row['Type'] + ' ' + name)[:42]:<42} {int(row['Request Count']):>9} {fails:>6} "
            f"{p50:>6} {p95:>6} {p99:>6} {float(row['Requests/s']):>7.1f}"
        )
        if fails:
            problems.append(f"{name}: {fails} failed requests")
        if name not in ("ALL", *NO_LIMIT) and p95 > P95_LIMIT_MS:
            problems.append(f"{name}: p95 {p95} ms > {P95_LIMIT_MS} ms")
    for problem in problems:
        print("FAIL", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
