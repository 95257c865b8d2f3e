#!/bin/sh
# Regenerates every diagram under docs/ (see docs/traces.md). Run from the repository root:
#   sh docs/traces.sh
set -eu
cargo build --release -q -p dme-cli
dme=target/release/dme

# One space-time diagram per registered algorithm: 4 nodes, heavy load (every node asks at
# once and again as soon as it leaves), 2 requests each, constant delay 10, critical section 5.
$dme trace --every-algorithm docs --nodes 4 --requests 2

# Lamport without FIFO channels, in the simulator: n0's REPLY overtakes n0's REQUEST on the way
# to n1, and n1 enters while n0 is in the critical section.
$dme trace -a lamport --nodes 3 --requests 1 --no-fifo --delay uniform:5..15 --seed 137 \
    --out docs/trace-lamport-no-fifo.svg

# The same bug as the exhaustive checker's shortest counterexample (time = steps).
$dme trace --counterexample -a lamport --nodes 3 --requests 1 --no-fifo \
    --out docs/trace-lamport-no-fifo-checker.svg
