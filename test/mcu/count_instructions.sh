#!/usr/bin/env bash
#===- count_instructions.sh - Executed instructions per kernel (QEMU) -----===#
# SPDX-License-Identifier: Apache-2.0
#
# Counts the instructions a kernel call executes on a Cortex-M core emulated
# by qemu-system-arm. The program (test/mcu/bench.c) brackets each call with
# marker functions kiln_bench_begin_<layer> and kiln_bench_end; QEMU runs it
# with `-singlestep -d exec,nochain`, which logs one "Trace" line per executed
# instruction ending with the symbol of its function, and awk counts the
# lines after the begin marker returns until kiln_bench_end is entered
# (this includes the handful of instructions that set up the call). The
# trace streams through a FIFO, so no multi-gigabyte log is written.
#
# Usage:
#   count_instructions.sh [--machine M] ELF
#       prints "<layer> <instructions>" per layer of one program; the machine
#       defaults from the ELF name (_m4_ -> mps2-an386, _m7_ -> mps2-an500,
#       _m55_ -> mps3-an547).
#   count_instructions.sh --table DIR [--cpus "m4 m7 m55"] [--min-ratio R]
#       runs DIR/kiln_bench_<cpu>_{dsp,portable}.elf for each cpu,
#       checks that both paths print the same output checksums, and prints a
#       table of portable / DSP instruction ratios. With --min-ratio, exits 1
#       if a conv layer (conv1x1, conv3x3) has a smaller ratio.
#===----------------------------------------------------------------------===#
set -euo pipefail

QEMU="${QEMU:-qemu-system-arm}"

die() {
  echo "count_instructions.sh: $*" >&2
  exit 2
}

# Prints the QEMU machine of an ELF from its file name.
machine_for() {
  case "$(basename "$1")" in
  *_m4_* | *_m4.elf) echo mps2-an386 ;;
  *_m7_* | *_m7.elf) echo mps2-an500 ;;
  *_m55_* | *_m55.elf) echo mps3-an547 ;;
  *) die "cannot tell the machine of '$1': pass --machine" ;;
  esac
}

# Runs ELF $1 on machine $2; writes "<layer> <count>" lines to $3 and the
# program's console output to $4. Returns QEMU's exit status.
run_traced() {
  local elf="$1" machine="$2" counts="$3" console="$4"
  local tmp
  tmp="$(mktemp -d)"
  mkfifo "$tmp/trace"
  awk '
    { sym = $NF }
    sym ~ /^kiln_bench_begin_/ { layer = substr(sym, 18); counting = 1; n = 0; next }
    sym == "kiln_bench_end" { if (counting) print layer, n; counting = 0; next }
    counting && /^Trace / { n++ }
  ' <"$tmp/trace" >"$counts" &
  local awk_pid=$!
  local status=0
  timeout 600 "$QEMU" -M "$machine" -nographic -semihosting -kernel "$elf" \
    -singlestep -d exec,nochain -D "$tmp/trace" >"$console" 2>&1 || status=$?
  wait "$awk_pid"
  rm -rf "$tmp"
  return "$status"
}

table_mode() {
  local dir="$1" min_ratio="$2" cpus="$3"
  local failed=0 tmp
  tmp="$(mktemp -d)"
  printf '%-5s %-8s %12s %12s %7s\n' cpu layer portable dsp ratio
  for cpu in $cpus; do
    local machine
    machine="$(machine_for "kiln_bench_${cpu}_dsp.elf")"
    for path in portable dsp; do
      local elf="$dir/kiln_bench_${cpu}_${path}.elf"
      [[ -f "$elf" ]] || die "missing $elf (build the mcu targets first)"
      if ! run_traced "$elf" "$machine" "$tmp/$cpu.$path.counts" \
        "$tmp/$cpu.$path.console"; then
        cat "$tmp/$cpu.$path.console" >&2
        die "$elf failed under QEMU"
      fi
    done
    if ! diff <(grep checksum "$tmp/$cpu.portable.console") \
      <(grep checksum "$tmp/$cpu.dsp.console") >/dev/null; then
      echo "$cpu: DSP and portable outputs differ:" >&2
      paste "$tmp/$cpu.portable.console" "$tmp/$cpu.dsp.console" >&2
      failed=1
    fi
    while read -r layer portable; do
      local dsp
      dsp="$(awk -v l="$layer" '$1 == l { print $2 }' "$tmp/$cpu.dsp.counts")"
      local ratio
      ratio="$(awk -v p="$portable" -v d="$dsp" 'BEGIN { printf "%.2f", p / d }')"
      printf '%-5s %-8s %12d %12d %7s\n' "$cpu" "$layer" "$portable" "$dsp" \
        "$ratio"
      if [[ -n "$min_ratio" && ("$layer" == conv1x1 || "$layer" == conv3x3) ]] &&
        awk -v r="$ratio" -v m="$min_ratio" 'BEGIN { exit !(r < m) }'; then
        echo "$cpu $layer: ratio $ratio is below $min_ratio" >&2
        failed=1
      fi
    done <"$tmp/$cpu.portable.counts"
  done
  rm -rf "$tmp"
  return "$failed"
}

main() {
  local machine="" table="" min_ratio="" elf="" cpus="m4 m7 m55"
  while [[ $# -gt 0 ]]; do
    case "$1" in
    --machine) machine="$2"; shift 2 ;;
    --table) table="$2"; shift 2 ;;
    --min-ratio) min_ratio="$2"; shift 2 ;;
    --cpus) cpus="$2"; shift 2 ;;
    -h | --help) sed -n '2,26p' "$0"; exit 0 ;;
    *) elf="$1"; shift ;;
    esac
  done
  command -v "$QEMU" >/dev/null || die "$QEMU not found"
  if [[ -n "$table" ]]; then
    table_mode "$table" "$min_ratio" "$cpus"
    return
  fi
  [[ -n "$elf" ]] || die "expected an ELF or --table DIR (see --help)"
  [[ -n "$machine" ]] || machine="$(machine_for "$elf")"
  local tmp
  tmp="$(mktemp -d)"
  if ! run_traced "$elf" "$machine" "$tmp/counts" "$tmp/console"; then
    cat "$tmp/console" >&2
    die "$elf failed under QEMU"
  fi
  cat "$tmp/counts"
  rm -rf "$tmp"
}

main "$@"
