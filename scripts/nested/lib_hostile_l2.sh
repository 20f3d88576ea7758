# shellcheck shell=dash
# Nested harness, every architecture: the hostile guest (tests/guests/hostile/:
# hostile_core.c, the attack they share, and hostile_<arch>.c) inside L1
# (issue 13 item 4). The guest writes random values to the MMIO windows (and
# x86's I/O ports, riscv64's SBI calls), builds malformed virtqueues, floods
# the console and the disk and resets devices mid-request, round after round,
# until --timeout ends it. POSIX sh: x86's steps run it under bash, the
# aarch64 and riscv64 L1s under busybox ash.
#
# Needs: HOSTILE_VMM and HOSTILE_GUEST (x86: derived from HOSTILE_BUILD_DIR,
# the ASan+UBSan build tree exported by test_x86.sh; the aarch64 and riscv64
# steps set them to the static cross build in L1's initramfs), and
# HOSTILE_VMM_ARGS (x86: --boot linux). Knobs: HOSTILE_TIMEOUT (the guest's
# --timeout, default 60), HOSTILE_MIN_ROUNDS (default 2).

if [ -n "${HOSTILE_BUILD_DIR:-}" ]; then
  export HOSTILE_VMM=${HOSTILE_VMM:-$HOSTILE_BUILD_DIR/vmm/vmm}
  export HOSTILE_GUEST=${HOSTILE_GUEST:-$HOSTILE_BUILD_DIR/tests/guests/hostile_x86_64.elf}
  export HOSTILE_VMM_ARGS=${HOSTILE_VMM_ARGS:---boot linux}
fi
export HOSTILE_TIMEOUT=${HOSTILE_TIMEOUT:-60}
export HOSTILE_MIN_ROUNDS=${HOSTILE_MIN_ROUNDS:-2}
# The guest's command line: its xorshift seed (fixed, so a failure replays)
# and how many I/O ports each round sweeps on x86 (all 65536 every 65536/N
# rounds; nested, a round of 8192 takes 10-30 s with the host's load).
export HOSTILE_SEED=${HOSTILE_SEED:-0x5eed1e55}
export HOSTILE_PIO=${HOSTILE_PIO:-8192}
# The guest's RAM and the bound on the VMM's peak RSS above it (the guest's
# pages it touched count in RSS too), ASan's shadow, quarantine and
# allocator caches included on x86. Measured: 97-110 MiB peak under ASan
# with 256 MiB of guest memory (the guest touches ~4 MiB of it).
export HOSTILE_MEMORY_MIB=256
export HOSTILE_RSS_SLACK_MIB=${HOSTILE_RSS_SLACK_MIB:-64}

# hostile_now: wall-clock seconds (a `sleep 1` on a starved L1 takes far longer).
hostile_now() { date +%s; }

# hostile_kmsg_forbidden: what in L1's kernel log means the guest reached a
# device it must leave alone, per L1 architecture. x86: KVM logs
# (rate-limited) when a guest's periodic PIT period is below its floor and
# when a guest uses a PIC feature it lacks (kvm_owned_ports in
# hostile_x86_64.c says why those ports are left alone). The arm64 and
# riscv64 guests leave KVM's devices (the vGIC) alone by address, and KVM
# logs nothing for them to match.
hostile_kmsg_forbidden() {
  case $(uname -m) in
    x86_64) echo 'i8254 timer period limited|kvm: pic:' ;;
    *) echo '' ;;
  esac
}

# l2_hostile TRANSPORT: one --timeout run of the hostile guest with the
# virtio devices on TRANSPORT (pci or mmio) and a 1 MiB disk. Passes when
#   - the VMM exits 6 (--timeout: it stayed up and ended the guest itself),
#   - under an ASan build (x86's), ASan/UBSan/LSan reported nothing on its
#     stderr (the static cross builds of aarch64 and riscv64 have no
#     sanitizers: ASan cannot link statically),
#   - its peak RSS stays within guest memory + HOSTILE_RSS_SLACK_MIB,
#   - each device logged "needs reset" at most once,
#   - the guest completed HOSTILE_MIN_ROUNDS rounds and took no exception,
#   - the disk image kept its size (no write past its end grew it),
#   - L1's kernel log shows no access to a device KVM emulates that the
#     guest must leave alone (hostile_kmsg_forbidden).
# L1's kernel log lines written during the run are printed too (at most 20):
# a troubled L1 shows up there before it stops.
l2_hostile() {
  local transport=$1 vmm=${HOSTILE_VMM:-} guest=${HOSTILE_GUEST:-}
  local dir out err disk rc=0 fail=0 rounds rss bound last asan=0 forbidden kmsg_lines pid started waited t
  local count line marker
  [ -x "$vmm" ] || { echo "l2_hostile: vmm '$vmm' not built (HOSTILE_VMM, HOSTILE_BUILD_DIR)"; return 1; }
  [ -f "$guest" ] || { echo "l2_hostile: guest '$guest' not built (HOSTILE_GUEST)"; return 1; }
  grep -q __asan_init "$vmm" && asan=1
  dir=$(mktemp -d /tmp/hostile.XXXXXX)
  out=$dir/console.log err=$dir/stderr.log disk=$dir/disk.img
  dd if=/dev/zero of="$disk" bs=1024 count=1024 2>/dev/null
  # Where this run starts in L1's kernel log.
  marker="l2_hostile-start $transport $dir"
  echo "$marker" >/dev/kmsg
  echo "+ vmm --kernel $guest ${HOSTILE_VMM_ARGS:+$HOSTILE_VMM_ARGS }--memory ${HOSTILE_MEMORY_MIB}M --disk $disk" \
    "--virtio-transport $transport --timeout $HOSTILE_TIMEOUT --cmdline 'hostile.seed=$HOSTILE_SEED hostile.pio=$HOSTILE_PIO'" \
    "(asan=$asan, $(uname -m))"
  # halt_on_error: the first report ends the VMM (exit code 1, not 6).
  # shellcheck disable=SC2086 # HOSTILE_VMM_ARGS are words
  ASAN_OPTIONS=halt_on_error=1:abort_on_error=0:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$vmm" --kernel "$guest" ${HOSTILE_VMM_ARGS:-} --memory "${HOSTILE_MEMORY_MIB}M" --console stdio --boot-report \
    --timeout "$HOSTILE_TIMEOUT" --disk "$disk" --virtio-transport "$transport" \
    --cmdline "hostile.seed=$HOSTILE_SEED hostile.pio=$HOSTILE_PIO" >"$out" 2>"$err" </dev/null &
  pid=$!
  started=$(hostile_now) waited=0
  # A VMM still there 20 s after its --timeout is hung: say where each of its
  # threads waits, then kill it (the step fails). Wall-clock seconds, not a
  # count of sleeps: on a starved L1 a `sleep 1` takes far longer.
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt $((HOSTILE_TIMEOUT + 20)) ]; do
    sleep 1 # polls the VMM's own deadline; the verdict is its exit code
    waited=$(($(hostile_now) - started))
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
  grep -a -o -E 'HOSTILE-FAULT.*' "$out" | tr -d '\r' | head -n 3
  cat "$err"
  if [ "$rc" != 6 ]; then
    echo "l2_hostile: vmm exited $rc, expected 6 (--timeout)"
    fail=1
  fi
  if [ "$asan" = 1 ] && grep -a -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error' "$err"; then
    echo "l2_hostile: the sanitizers reported an error"
    fail=1
  fi
  if grep -a -q 'HOSTILE-FAULT' "$out"; then
    echo "l2_hostile: the guest took an exception (its own bug: fix the guest)"
    fail=1
  fi
  rounds=$(grep -a -o -E 'HOSTILE round [0-9]+' "$out" | tail -n 1 | awk '{print $3}')
  rounds=${rounds:-0}
  if [ "$rounds" -lt "$HOSTILE_MIN_ROUNDS" ]; then
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
  grep -a -o -E '[^ ]+: device needs reset' "$err" | sort | uniq -c >"$dir/needs_reset"
  while read -r count line; do
    if [ "$count" -gt 1 ]; then
      echo "l2_hostile: $line logged 'needs reset' $count times"
      fail=1
    fi
  done <"$dir/needs_reset"
  if [ "$(stat -c %s "$disk")" != 1048576 ]; then
    echo "l2_hostile: the disk image changed size to $(stat -c %s "$disk") bytes"
    fail=1
  fi
  # L1's kernel log since this run's marker: shown, and checked.
  dmesg 2>/dev/null | awk -v m="$marker" 'index($0, m) {on = 1; n = 0; next} on {l[n++] = $0}
    END {for (i = 0; i < n && i < 20; ++i) print "l1-kmsg: " l[i]; if (n > 20) print "l1-kmsg: ... " n - 20 " more"}'
  forbidden=$(hostile_kmsg_forbidden)
  if [ -n "$forbidden" ]; then
    kmsg_lines=$(dmesg 2>/dev/null | awk -v m="$marker" -v re="$forbidden" \
      'index($0, m) {n = 0; next} $0 ~ re {n++} END {print n + 0}')
    if [ "$kmsg_lines" -gt 0 ]; then
      echo "l2_hostile: L1's kernel log has $kmsg_lines lines of KVM's in-kernel PIT or PIC for this run:" \
        "the guest reached ports it must leave alone (kvm_owned_ports, hostile_x86_64.c)"
      fail=1
    fi
  fi
  last=$(grep -a -o -E 'HOSTILE round [0-9]+ [a-z0-9= ]*' "$out" | tail -n 1 | cut -d' ' -f4-)
  echo "HOSTILE-RESULT arch=$(uname -m) transport=$transport rc=$rc rounds=$rounds survived=${HOSTILE_TIMEOUT}s ${last:-}" \
    "peak_rss=${rss:-?}MiB bound=${bound}MiB needs_reset_lines=$(grep -a -c 'device needs reset' "$err")"
  rm -rf "$dir"
  return "$fail"
}
