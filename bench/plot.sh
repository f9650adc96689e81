#!/usr/bin/env bash
# Renders the benchmark figures as PNG with gnuplot (Debian: gnuplot-nox, which
# scripts/setup.sh installs): latency under load and throughput by connection
# count, one line per label (hydrofoil, the baseline, a peer...).
#
# Usage: bench/plot.sh [DATA] [OUTDIR]
#   DATA    the table below (default bench/results/plot.dat)
#   OUTDIR  where latency.png and throughput.png go (default bench/results)
#   HF_GNUPLOT  the gnuplot to run (default: gnuplot on PATH)
#
# DATA is a whitespace table, one row per line; '#' starts a comment, blank
# lines are ignored. The first word says what the row is:
#
#   title       TEXT...                            a subtitle for both plots (the last one wins)
#   latency     LABEL LOAD_PCT P50_US P99_US       one point of latency.png
#   throughput  LABEL CONNECTIONS REQ_PER_S        one point of throughput.png
#
#   LABEL        one word naming a series; '_' is shown as a space
#   LOAD_PCT     offered load in % of the best closed-loop rate (x; the open-loop --rate)
#   P50_US, P99_US  latency percentiles in microseconds (> 0: the y axis is logarithmic)
#   CONNECTIONS  concurrent connections (x, logarithmic base 2)
#   REQ_PER_S    requests per second
#
# Numbers are plain decimals (1e3 notation allowed); rows of a series may come
# in any order (they are sorted by x). Example:
#
#   title hf-loadgen over net_memif, 2 cores, 2026-12-01
#   latency     hydrofoil   10  11.2  40.1
#   latency     hydrofoil   50  12.9  88.0
#   latency     loadgen_baseline 10 6.0 20.5
#   throughput  hydrofoil   16  512000
#   throughput  hydrofoil   64  530000
#
# A malformed row is reported (file:line) and skipped; a plot with no rows is
# skipped with a message. Without gnuplot, or without DATA, nothing is drawn:
# the script says so and exits 0 (a benchmark run does not fail on a plot).
# It exits 1 only when gnuplot itself fails.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${1:-$ROOT/bench/results/plot.dat}
OUT=${2:-$ROOT/bench/results}
GNUPLOT=${HF_GNUPLOT:-gnuplot}

say() { echo "plot.sh: $*" >&2; }

if ! command -v "$GNUPLOT" >/dev/null 2>&1; then
	say "gnuplot not found (apt-get install gnuplot-nox, or scripts/setup.sh): no PNGs drawn"
	exit 0
fi
if [ ! -r "$DATA" ]; then
	say "no data at $DATA: no PNGs drawn"
	exit 0
fi
T=$(mktemp -d /tmp/hf-plot.XXXXXX)
trap 'rm -rf "$T"' EXIT

# Split DATA into one file per (kind, label), numbered in order of appearance:
# T/latency.N (x p50 p99), T/throughput.N (x req/s), the names in T/KIND.labels.
awk -v dir="$T" -v src="$DATA" '
function num(s) { return s ~ /^[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$/ || s ~ /^\.[0-9]+$/ }
function bad(why) { printf "plot.sh: %s:%d: skipped (%s): %s\n", src, FNR, why, $0 > "/dev/stderr" }
function series(kind, label,   k) {
	k = kind SUBSEP label
	if (!(k in idx)) {
		idx[k] = ++n[kind]
		print label > (dir "/" kind ".labels")
	}
	return dir "/" kind "." idx[k]
}
{ sub(/#.*/, "") }
NF == 0 { next }
$1 == "title" { t = $0; sub(/^[ \t]*title[ \t]+/, "", t); title = t; next }
$1 == "latency" {
	if (NF != 5) { bad("latency takes LABEL LOAD_PCT P50_US P99_US"); next }
	if (!num($3) || !num($4) || !num($5)) { bad("not a number"); next }
	if ($4 + 0 <= 0 || $5 + 0 <= 0) { bad("latency must be > 0 on a log scale"); next }
	print $3, $4, $5 > series("latency", $2)
	next
}
$1 == "throughput" {
	if (NF != 4) { bad("throughput takes LABEL CONNECTIONS REQ_PER_S"); next }
	if (!num($3) || !num($4)) { bad("not a number"); next }
	if ($3 + 0 <= 0) { bad("connections must be > 0 on a log scale"); next }
	print $3, $4 > series("throughput", $2)
	next
}
{ bad("unknown row kind \"" $1 "\"") }
END { if (title != "") print title > (dir "/title") }
' "$DATA"

# gnuplot quoting: inside '...' only a quote needs doubling.
gq() { printf "'%s'" "${1//\'/\'\'}"; }
if "$GNUPLOT" -e 'set terminal pngcairo' </dev/null >/dev/null 2>&1; then
	TERM_LINE="set terminal pngcairo size 960,600 noenhanced font 'sans,10'"
else
	TERM_LINE="set terminal png size 960,600 noenhanced"
fi
SUB=""
[ -s "$T/title" ] && SUB=$(head -1 "$T/title")

# plot KIND OUTFILE TITLE XLABEL YLABEL SETUP COLUMNS...: one PNG, a line per
# label and per y column (COLUMNS: "2:p50:1" = column 2, titled LABEL p50, dash 1).
plot() {
	local kind=$1 png=$2 title=$3 xlabel=$4 ylabel=$5 setup=$6
	shift 6
	local i=0 label cmd="" spec col name dash
	if [ ! -s "$T/$kind.labels" ]; then
		say "no $kind rows in $DATA: $png not drawn"
		return 0
	fi
	while IFS= read -r label; do
		i=$((i + 1))
		sort -g -k1,1 "$T/$kind.$i" > "$T/$kind.$i.sorted"
		for spec in "$@"; do
			IFS=: read -r col name dash <<<"$spec"
			cmd+="${cmd:+, }$(gq "$T/$kind.$i.sorted") using 1:$col with linespoints"
			cmd+=" lc $i dt $dash pt $((6 + i)) lw 1.5 title $(gq "${label//_/ }${name:+ $name}")"
		done
	done < "$T/$kind.labels"
	[ -n "$SUB" ] && title+="\\n$SUB"
	if ! "$GNUPLOT" > "$T/gnuplot.log" 2>&1 <<GP; then
$TERM_LINE
set output $(gq "$T/out.png")
set title "${title//\"/\\\"}"
set xlabel $(gq "$xlabel")
set ylabel $(gq "$ylabel")
set grid
set key outside right top
$setup
plot $cmd
GP
		say "gnuplot failed on $png:"
		sed 's/^/  /' "$T/gnuplot.log" >&2
		return 1
	fi
	mv -f "$T/out.png" "$OUT/$png"
	echo "plot.sh: wrote $OUT/$png"
}

mkdir -p "$OUT" || exit 1
rc=0
plot latency latency.png "Latency under open-loop load" \
	"offered load (% of the best closed-loop rate)" "latency (µs, log scale)" \
	"set logscale y; set offsets graph 0.02, graph 0.02, 0, 0; set mytics 10" \
	"2:p50:1" "3:p99:2" || rc=1
plot throughput throughput.png "Throughput by concurrent connections" \
	"connections (log scale)" "requests/s" \
	"set logscale x 2; set offsets graph 0.05, graph 0.05, 0, 0; set yrange [0:*]; set format y '%.0s%c'" \
	"2::1" || rc=1
exit $rc
