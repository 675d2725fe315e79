#!/usr/bin/env bash
# Compare our broker with RabbitMQ (Debian's rabbitmq-server) on this machine, scenario by
# scenario, alternating between the two, with the same client (scripts/bench.ts: its own minimal
# wire client for producers and consumers, @cloudamqp/amqp-client for topology and scenarios 7-8).
#
#   bash scripts/compare-rabbitmq.sh [--rounds N] [--duration S] [--scenarios "7 8 1 2 3 4 5 6"]
#                                    [--rmq-port P] [--our-port P] [--out FILE.jsonl]
#
# Each round starts both brokers fresh (temp data dirs), runs every scenario against both
# (which one goes first alternates per round), then stops both. At the end it prints machine
# info and a table of medians per scenario with the ratio ours/RabbitMQ. Everything runs on
# 127.0.0.1; RabbitMQ is started as RABBITMQ-LOCAL.md describes (no systemd, private HOME and
# node name, its own ports; 5700 belongs to another reference instance and is left alone).
set -euo pipefail

ROUNDS=3
DURATION=5
SCENARIOS="7 8 1 2 3 4 5 6"
RMQ_PORT=5740
OUR_PORT=5741
OUT=""

while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --scenarios) SCENARIOS="$2"; shift 2 ;;
    --rmq-port) RMQ_PORT="$2"; shift 2 ;;
    --our-port) OUR_PORT="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 64 ;;
  esac
done
if [ "$RMQ_PORT" = 5700 ] || [ "$OUR_PORT" = 5700 ]; then
  echo "port 5700 belongs to the reference RabbitMQ instance; pick another" >&2
  exit 64
fi

cd "$(dirname "$0")/.."
ROOT=$(pwd)

# --- prerequisites ---------------------------------------------------------------------------
RMQ_BIN=/usr/lib/rabbitmq/bin/rabbitmq-server
if [ ! -x "$RMQ_BIN" ]; then
  echo "installing rabbitmq-server from Debian…" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
fi

# The real deno binary, so that SIGTERM reaches the broker (the npm launcher may be a wrapper).
DENO=$(readlink -f "$(command -v deno)")
if ! head -c 4 "$DENO" | grep -q ELF; then
  for cand in "$(dirname "$DENO")/node_modules/@deno/linux-x64-glibc/deno" \
    "$ROOT/node_modules/@deno/linux-x64-glibc/deno"; do
    if [ -x "$cand" ]; then DENO="$cand"; break; fi
  done
fi

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$RMQ_PORT" "$((RMQ_PORT + 20000))" "$OUR_PORT" "$((OUR_PORT + 10000))" \
  "$((OUR_PORT + 10001))"; do
  if port_open "$p"; then
    echo "port $p is already in use; choose other ports with --rmq-port / --our-port" >&2
    exit 1
  fi
done

TMP=$(mktemp -d /tmp/compare-rabbitmq.XXXXXX)
RESULTS=${OUT:-$TMP/results.jsonl}
: >"$RESULTS"
RMQ_PID=""
OUR_PID=""

# --- RabbitMQ --------------------------------------------------------------------------------
start_rmq() {
  local d="$TMP/rmq"
  rm -rf "$d"
  mkdir -p "$d/home" "$d/mnesia" "$d/log"
  echo '[].' >"$d/enabled_plugins"
  env -i PATH="$PATH" LANG=C.UTF-8 \
    HOME="$d/home" \
    RABBITMQ_NODENAME=bench@localhost \
    RABBITMQ_NODE_PORT="$RMQ_PORT" \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    RABBITMQ_DIST_PORT="$((RMQ_PORT + 20000))" \
    RABBITMQ_MNESIA_BASE="$d/mnesia" \
    RABBITMQ_LOG_BASE="$d/log" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins" \
    RABBITMQ_CONF_ENV_FILE="$d/does-not-exist.conf" \
    setsid "$RMQ_BIN" >"$d/stdout.log" 2>&1 </dev/null &
  local launcher=$!
  local i
  for i in $(seq 1 600); do
    if port_open "$RMQ_PORT"; then break; fi
    if ! kill -0 "$launcher" 2>/dev/null; then
      echo "RabbitMQ exited during startup; see $d/stdout.log" >&2
      tail -20 "$d/stdout.log" >&2
      return 1
    fi
    sleep 0.1
  done
  port_open "$RMQ_PORT" || { echo "RabbitMQ did not open port $RMQ_PORT" >&2; return 1; }
  # The node name is not on beam.smp's command line; its HOME is, and ours is unique.
  RMQ_PID=""
  local p
  for p in $(pgrep -x beam.smp || true); do
    if tr '\0' ' ' <"/proc/$p/cmdline" | grep -q -- "-home $d/home "; then RMQ_PID=$p; fi
  done
  [ -n "$RMQ_PID" ] || { echo "cannot find RabbitMQ's beam.smp" >&2; return 1; }
}

# Resumes (it may be paused), asks to stop (SIGTERM), waits up to 30 s, then kills.
stop_pid() {
  local pid=$1 i
  [ -n "$pid" ] || return 0
  kill -CONT "$pid" 2>/dev/null || true
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

stop_rmq() {
  stop_pid "$RMQ_PID"
  RMQ_PID=""
}

# --- our broker ------------------------------------------------------------------------------
start_ours() {
  local d="$TMP/ours"
  rm -rf "$d"
  mkdir -p "$d/data"
  setsid "$DENO" run -A --v8-flags=--expose-gc "$ROOT/main.ts" serve --port "$OUR_PORT" --bind 127.0.0.1 \
    --admin-port "$((OUR_PORT + 10000))" --admin-bind 127.0.0.1 \
    --metrics-port "$((OUR_PORT + 10001))" --metrics-bind 127.0.0.1 \
    --data-dir "$d/data" --log-level warn \
    >>"$TMP/ours.log" 2>&1 </dev/null &
  OUR_PID=$!
  local i
  for i in $(seq 1 300); do
    if port_open "$OUR_PORT"; then return 0; fi
    if ! kill -0 "$OUR_PID" 2>/dev/null; then
      echo "our broker exited during startup; see $TMP/ours.log" >&2
      tail -20 "$TMP/ours.log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "our broker did not open port $OUR_PORT" >&2
  return 1
}

stop_ours() {
  stop_pid "$OUR_PID"
  OUR_PID=""
}

cleanup() {
  stop_ours
  stop_rmq
  if [ -z "$OUT" ]; then cp "$RESULTS" "/tmp/compare-rabbitmq-last.jsonl" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- one benchmark run -----------------------------------------------------------------------
run_one() { # target round scenario
  local target=$1 round=$2 scenario=$3 port pid other line rc
  if [ "$target" = ours ]; then port=$OUR_PORT pid=$OUR_PID other=$RMQ_PID; else
    port=$RMQ_PORT pid=$RMQ_PID other=$OUR_PID
  fi
  # The other broker is paused (SIGSTOP) while this one is measured: each runs alone on the
  # machine's cores (an Erlang VM keeps its schedulers spinning for a while after work).
  [ -n "$other" ] && kill -STOP "$other" 2>/dev/null
  set +e
  line=$(timeout 420 "$DENO" run -A "$ROOT/scripts/bench.ts" \
    --uri "amqp://guest:guest@127.0.0.1:$port/" --scenario "$scenario" \
    --duration "$DURATION" --broker-pid "$pid" --json --label "$target/$round" \
    2>>"$TMP/bench-stderr.log")
  rc=$?
  [ -n "$other" ] && kill -CONT "$other" 2>/dev/null
  set -e
  if [ -n "$line" ] && [ "$rc" -ne 1 ]; then
    echo "$line" >>"$RESULTS"
  else
    printf '{"label":"%s/%s","scenario":"%s","failed":"bench exit %s: %s"}\n' "$target" "$round" \
      "$scenario" "$rc" "$(tail -1 "$TMP/bench-stderr.log" | tr -d '"\\')" >>"$RESULTS"
  fi
  printf '  round %s  %-8s scenario %s  exit %s\n' "$round" "$target" "$scenario" "$rc" >&2
  # A broker that died is reported and restarted, so the remaining runs still happen.
  if ! kill -0 "$pid" 2>/dev/null; then
    printf '{"label":"%s/%s","scenario":"%s","failed":"broker process died"}\n' "$target" \
      "$round" "$scenario" >>"$RESULTS"
    echo "  !! $target broker died during scenario $scenario; restarting" >&2
    if [ "$target" = ours ]; then start_ours; else start_rmq; fi
  fi
}

START=$(date +%s)
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round/$ROUNDS: starting both brokers" >&2
  start_ours
  start_rmq
  for s in $SCENARIOS; do
    if [ $((round % 2)) -eq 1 ]; then
      run_one ours "$round" "$s"
      run_one rabbitmq "$round" "$s"
    else
      run_one rabbitmq "$round" "$s"
      run_one ours "$round" "$s"
    fi
  done
  stop_ours
  stop_rmq
done

# --- report ----------------------------------------------------------------------------------
echo
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "memory:  $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo); kernel $(uname -r)"
echo "date:    $(date -u '+%Y-%m-%d %H:%M:%S UTC'); took $(($(date +%s) - START)) s"
echo "ours:    $("$DENO" --version | head -1), main.ts serve, commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "rabbitmq: $(dpkg-query -W -f '${Version}' rabbitmq-server 2>/dev/null || echo '?') (Debian), erlang $(dpkg-query -W -f '${Version}' erlang-base 2>/dev/null || echo '?')"
echo "runs:    $ROUNDS round(s) × scenarios [$SCENARIOS], $DURATION s each, alternating order; results $RESULTS"
echo
"$DENO" run -A "$ROOT/scripts/bench/summarize.ts" "$RESULTS"
