# shellcheck shell=bash
# Nested harness (x86_64): the hostile guest (tests/guests/hostile/hostile_core.c, hostile_x86_64.c)
# under the ASan+UBSan build of minivmm, inside L1 (issue 13 item 4). The
# guest writes random values to the I/O ports and MMIO windows, builds
# malformed virtqueues, floods the console and the disk and resets devices
# mid-request, round after round, until --timeout ends it.
#
# Needs (exported by test_x86.sh): HOSTILE_BUILD_DIR, the ASan build tree
# (its vmm/vmm and tests/guests/hostile_x86_64.elf); HOSTILE_TIMEOUT (the
# guest's --timeout, default 60), HOSTILE_MIN_ROUNDS (default 3).

export HOSTILE_TIMEOUT=${HOSTILE_TIMEOUT:-60}
export HOSTILE_MIN_ROUNDS=${HOSTILE_MIN_ROUNDS:-2}
# The guest's command line: its xorshift seed (fixed, so a failure replays)
# and how many I/O ports each round sweeps (all 65536 every 65536/N rounds;
# nested, a round of 8192 takes 10-30 s with the host's load).
export HOSTILE_SEED=${HOSTILE_SEED:-0x5eed1e55}
export HOSTILE_PIO=${HOSTILE_PIO:-8192}
# The guest's RAM and the bound on the VMM's peak RSS above it (the guest's
# pages it touched count in RSS too), ASan's shadow, quarantine and
# allocator caches included. Measured: 97 MiB peak with 256 MiB of guest
# memory (the guest touches ~4 MiB of it).
export HOSTILE_MEMORY_MIB=256
export HOSTILE_RSS_SLACK_MIB=${HOSTILE_RSS_SLACK_MIB:-64}

# l2_hostile TRANSPORT: one --timeout run of the hostile guest with the
# virtio devices on TRANSPORT (pci or mmio) and a 1 MiB disk. Passes when
#   - the VMM exits 6 (--timeout: it stayed up and ended the guest itself),
#   - ASan/UBSan/LSan reported nothing on its stderr,
#   - its peak RSS stays within guest memory + HOSTILE_RSS_SLACK_MIB,
#   - each device logged "needs reset" at most once,
#   - the guest completed HOSTILE_MIN_ROUNDS rounds and took no exception,
#   - the disk image kept its size (no write past its end grew it),
#   - L1's kernel log shows no access to KVM's in-kernel PIT or PIC (the
#     guest leaves them alone: kvm_owned_ports in hostile_x86_64.c says why).
l2_hostile() {
  local transport=$1 vmm=$HOSTILE_BUILD_DIR/vmm/vmm guest=$HOSTILE_BUILD_DIR/tests/guests/hostile_x86_64.elf
  local dir out err disk rc=0 fail=0 rounds rss bound line last t kvm_lines
  [ -x "$vmm" ] || { echo "l2_hostile: $vmm not built (cmake --build --preset asan)"; return 1; }
  [ -f "$guest" ] || { echo "l2_hostile: $guest not built"; return 1; }
  dir=$(mktemp -d /tmp/hostile.XXXXXX)
  out=$dir/console.log err=$dir/stderr.log disk=$dir/disk.img
  truncate -s 1M "$disk"
  # Where this run starts in L1's kernel log (what KVM says about its PIT and PIC).
  echo "l2_hostile-start $transport $dir" >/dev/kmsg
  echo "+ vmm --kernel $guest --boot linux --memory ${HOSTILE_MEMORY_MIB}M --disk $disk --virtio-transport $transport" \
    "--timeout $HOSTILE_TIMEOUT --cmdline 'hostile.seed=$HOSTILE_SEED hostile.pio=$HOSTILE_PIO'"
  # halt_on_error: the first report ends the VMM (exit code 1, not 6).
  ASAN_OPTIONS=halt_on_error=1:abort_on_error=0:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$vmm" --kernel "$guest" --boot linux --memory "${HOSTILE_MEMORY_MIB}M" --console stdio --boot-report \
    --timeout "$HOSTILE_TIMEOUT" --disk "$disk" --virtio-transport "$transport" \
    --cmdline "hostile.seed=$HOSTILE_SEED hostile.pio=$HOSTILE_PIO" >"$out" 2>"$err" </dev/null &
  local pid=$! started=$SECONDS waited=0
  # A VMM still there 20 s after its --timeout is hung: say where each of its
  # threads waits, then kill it (the step fails). Wall-clock seconds, not a
  # count of sleeps: on a starved L1 a `sleep 1` takes far longer.
  while kill -0 "$pid" 2>/dev/null && ((waited < HOSTILE_TIMEOUT + 20)); do
    sleep 1 # polls the VMM's own deadline; the verdict is its exit code
    waited=$((SECONDS - started))
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "l2_hostile: vmm still running $((waited - HOSTILE_TIMEOUT)) s after --timeout: hung; its threads:"
    for t in /proc/"$pid"/task/*; do
      echo "  thread $(cat "$t/comm" 2>/dev/null) state=$(awk '/^State/ {print $2}' "$t/status" 2>/dev/null)" \
        "wchan=$(cat "$t/wchan" 2>/dev/null) syscall=$(cut -d' ' -f1 "$t/syscall" 2>/dev/null)"
    done
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" || rc=$?
  # The console carries the random bytes the guest wrote to the UART too.
  grep -a -E '^HOSTILE (start|device)' "$out" | tr -d '\r'
  grep -a -o -E 'HOSTILE round [0-9]+ .*' "$out" | tr -d '\r' | tail -n 3
  cat "$err"
  if [ "$rc" != 6 ]; then
    echo "l2_hostile: vmm exited $rc, expected 6 (--timeout)"
    fail=1
  fi
  if grep -a -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error' "$err"; then
    echo "l2_hostile: the sanitizers reported an error"
    fail=1
  fi
  if grep -a -q 'HOSTILE-FAULT' "$out"; then
    echo "l2_hostile: the guest took an exception (its own bug: fix the guest)"
    fail=1
  fi
  rounds=$(grep -a -o -E 'HOSTILE round [0-9]+' "$out" | tail -n 1 | awk '{print $3}')
  rounds=${rounds:-0}
  if ((rounds < HOSTILE_MIN_ROUNDS)); then
    echo "l2_hostile: the guest completed $rounds rounds, fewer than $HOSTILE_MIN_ROUNDS"
    fail=1
  fi
  rss=$(sed -n 's/^ *peak RSS: *\([0-9.]*\) MiB.*/\1/p' "$err")
  bound=$((HOSTILE_MEMORY_MIB + HOSTILE_RSS_SLACK_MIB))
  if [ -z "$rss" ] || ! awk -v r="$rss" -v b="$bound" 'BEGIN {exit !(r <= b)}'; then
    echo "l2_hostile: peak RSS '${rss:-missing}' MiB above the bound of $bound MiB"
    fail=1
  fi
  # "NAME: device needs reset: ..." (PCI) or "virtio-mmio NAME: device needs reset: ...".
  while read -r count line; do
    if ((count > 1)); then
      echo "l2_hostile: $line logged 'needs reset' $count times"
      fail=1
    fi
  done < <(grep -a -o -E '[^ ]+: device needs reset' "$err" | sort | uniq -c)
  if [ "$(stat -c %s "$disk")" != 1048576 ]; then
    echo "l2_hostile: the disk image changed size to $(stat -c %s "$disk") bytes"
    fail=1
  fi
  # KVM logs (rate-limited) when a guest's periodic PIT period is below its
  # floor and when a guest uses a PIC feature it lacks.
  kvm_lines=$(dmesg 2>/dev/null | awk -v m="l2_hostile-start $transport $dir" \
    'index($0, m) {n = 0; next} /i8254 timer period limited|kvm: pic:/ {n++} END {print n + 0}')
  if ((kvm_lines > 0)); then
    echo "l2_hostile: L1's kernel log has $kvm_lines lines of KVM's in-kernel PIT or PIC for this run:" \
      "the guest reached ports it must leave alone (kvm_owned_ports, hostile_x86_64.c)"
    fail=1
  fi
  last=$(grep -a -o -E 'HOSTILE round [0-9]+ [a-z0-9= ]*' "$out" | tail -n 1 | cut -d' ' -f4-)
  echo "HOSTILE-RESULT transport=$transport rc=$rc rounds=$rounds survived=${HOSTILE_TIMEOUT}s ${last:-}" \
    "peak_rss=${rss:-?}MiB bound=${bound}MiB needs_reset_lines=$(grep -a -c 'device needs reset' "$err")"
  rm -rf "$dir"
  return "$fail"
}
