# shellcheck shell=bash
# Nested harness (x86_64): functions of the virtio benchmark
# (steps_x86_bench_virtio.sh, started by scripts/bench_virtio.sh), run inside
# L1. minivmm and QEMU/KVM boot the same cloud kernel, root-switching
# initramfs and command line, with the root on the bench disk image
# (scripts/guest/bench_blk_init.sh as its /sbin/init), one after the other in
# the same L1.
#
#   block I/O  a second disk, serial bench-data, on the same L1 block device
#              for both VMMs: /dev/ram0 of brd (L1's RAM, so the figures are
#              the VMMs' virtio-blk paths rather than a slow backing store;
#              L1's 6.1 tmpfs refuses O_DIRECT, a RAM block device does not),
#              opened with O_DIRECT by both (minivmm cache=none, QEMU
#              cache=none). The guest times blkbench passes and prints BENCH
#              lines; L1 times the same passes from the console lines around
#              them as a check on the guest's clock.
#   boot       console=hvc0 alone, root on virtio-blk, from process start to
#              the disk init's first line (BENCH-INIT-OK) on the console.
#
# Needs (exported by bench_virtio.sh through run_x86.sh --env): VMM,
# BENCH_KERNEL, BENCH_INITRD, BENCH_ROOT, BRD_MODULE, BENCH_MIB,
# BENCH_RAND_OPS, BENCH_REPS, BENCH_BOOT_TIMEOUT; from lib_x86_l2.sh: L2_TIMEOUT,
# QEMU_TUNED_MACHINE, elapsed_since; from lib_bench_l1.sh: bench_spawn,
# bench_median, bench_row. Every function a step runs reads only
# exported variables (each step is a new bash).

: "${BENCH_MIB:?}" "${BENCH_RAND_OPS:?}" "${BENCH_REPS:?}"
export BENCH_DIR=/tmp/minivmm-bench
export BENCH_IO_CMDLINE="console=ttyS0 reboot=k panic=-1 root=/dev/vda ro quiet bench.mode=io bench.serial=bench-data bench.mib=$BENCH_MIB bench.rand_ops=$BENCH_RAND_OPS bench.reps=$BENCH_REPS"
export BENCH_BOOT_CMDLINE="console=hvc0 reboot=k panic=-1 root=/dev/vda ro bench.mode=boot"
export BENCH_DATA_DEV=/dev/ram0
# L1's copies (its RAM) of what the VMMs read, so no boot reads over 9p.
export BENCH_L1_KERNEL=$BENCH_DIR/vmlinuz BENCH_L1_INITRD=$BENCH_DIR/initramfs.cpio.gz BENCH_L1_ROOT=$BENCH_DIR/root.img
# L1's /tmp is an overlay on the host's: results of anything that ran on the
# host under this name must not count.
rm -rf "$BENCH_DIR/results"
mkdir -p "$BENCH_DIR/results"

# bench_prepare: the kernel, initramfs and root image copied into L1's RAM;
# brd loaded with one RAM disk of BENCH_MIB MiB, filled once from
# /dev/urandom (so every read below copies real pages); the versions.
bench_prepare() {
  local kib=$((BENCH_MIB * 1024))
  if ! { cp "$BENCH_KERNEL" "$BENCH_L1_KERNEL" && cp "$BENCH_INITRD" "$BENCH_L1_INITRD" &&
         cp --sparse=always "$BENCH_ROOT" "$BENCH_L1_ROOT"; }; then
    echo "bench_prepare: copying the images failed"
    return 1
  fi
  # A boot-only run needs no data disk; filling it costs L1 half a minute.
  if [ "${IO_RUNS:-2}" = 0 ]; then
    bench_versions
    return 0
  fi
  if [ ! -b "$BENCH_DATA_DEV" ]; then
    # The host root has no kmod; busybox's insmod takes the uncompressed .ko.
    busybox insmod "$BRD_MODULE" rd_nr=1 rd_size="$kib" max_part=0 ||
      { echo "bench_prepare: insmod $BRD_MODULE failed"; return 1; }
  fi
  [ -b "$BENCH_DATA_DEV" ] || { echo "bench_prepare: $BENCH_DATA_DEV did not appear"; return 1; }
  local bytes
  bytes=$(blockdev --getsize64 "$BENCH_DATA_DEV")
  [ "$bytes" -eq $((kib * 1024)) ] || { echo "bench_prepare: $BENCH_DATA_DEV has $bytes bytes, want $((kib * 1024))"; return 1; }
  local start
  start=$(date +%s.%N)
  dd if=/dev/urandom of="$BENCH_DATA_DEV" bs=1M count="$BENCH_MIB" oflag=direct status=none ||
    { echo "bench_prepare: filling $BENCH_DATA_DEV failed"; return 1; }
  echo "bench_prepare: $BENCH_DATA_DEV ($bytes bytes, brd) filled from /dev/urandom in $(elapsed_since "$start")s"
  bench_versions
}

bench_versions() {
  echo "bench_prepare: vmm $VMM ($("$VMM" --version 2>&1 | head -n1))"
  echo "bench_prepare: $(qemu-system-x86_64 --version | head -n1)"
  echo "bench_prepare: L1 $(uname -r), $(nproc) CPU, $(awk '/MemTotal/ {print $2 / 1024 " MiB"}' /proc/meminfo)"
}

# The VMMs below get the same 512 MiB, 1 vCPU, kernel, initramfs and command
# line, and no entropy device (minivmm --no-rng): the root disk and the data
# disk for I/O (minivmm also has its virtio-console, idle there), the root
# disk and a virtio console for the boot.

# bench_io_minivmm KIND: the I/O benchmark under minivmm (virtio-pci).
bench_io_minivmm() {
  bench_io "$1" "$VMM" --kernel "$BENCH_L1_KERNEL" --initrd "$BENCH_L1_INITRD" --memory 512M --cpus 1 \
    --console stdio --timeout "$L2_TIMEOUT" --boot-report --no-rng --virtio-transport pci \
    --disk "$BENCH_L1_ROOT,ro" --disk "$BENCH_DATA_DEV,cache=none,serial=bench-data" \
    --cmdline "$BENCH_IO_CMDLINE"
}

# bench_io_qemu KIND AIO: the I/O benchmark under QEMU/KVM, q35 with
# virtio-blk-pci (MSI-X, ioeventfd), the data disk cache=none with aio=AIO
# (threads or io_uring) in an iothread of its own, as minivmm's disk has an
# I/O thread of its own.
bench_io_qemu() {
  # shellcheck disable=SC2054 # commas belong to QEMU option values
  bench_io "$1" timeout "$L2_TIMEOUT" qemu-system-x86_64 -enable-kvm -cpu host -smp 1 -m 512M -M q35 \
    -nodefaults -display none -monitor none -serial stdio -no-reboot \
    -kernel "$BENCH_L1_KERNEL" -initrd "$BENCH_L1_INITRD" -append "$BENCH_IO_CMDLINE" \
    -drive "file=$BENCH_L1_ROOT,if=none,id=root,format=raw,readonly=on" -device virtio-blk-pci,drive=root \
    -object iothread,id=io0 \
    -drive "file=$BENCH_DATA_DEV,if=none,id=data,format=raw,cache=none,aio=$2" \
    -device virtio-blk-pci,drive=data,serial=bench-data,iothread=io0
}

# The VMM's console goes to a log in L1's RAM, shown once the VMM has exited:
# echoed live, it would go out through L1's own emulated serial port on L1's
# one CPU while L2 runs.
#
# bench_io KIND CMD...: runs CMD (a VMM booting the I/O benchmark) with its
# console on a pipe, shows every line, and records each BENCH line of the
# guest in BENCH_DIR/results/io.KIND.TEST as "guest=VALUE l1=VALUE": the
# guest's own figure and the same figure from L1's clock (the time between
# the BENCH-START line and the BENCH line). Passes when the guest printed
# BENCH-DONE and CMD exited 0 (the guest powered off).
bench_io() {
  local kind=$1 line now started='' finished=0 orphan=0 rc=0 test value amount l1
  shift
  echo "+ $*"
  local out pid
  bench_spawn "$@" || return 1
  local log=$BENCH_DIR/console-$kind.log
  : >"$log"
  while IFS= read -r line <&"$out"; do
    now=$EPOCHREALTIME
    line=${line%$'\r'}
    printf '%s\n' "$line" >>"$log"
    if [[ $line =~ BENCH-START\ ([a-z-]+)\ rep= ]]; then
      started=$now
    elif [[ $line =~ BENCH\ (seq-read|seq-write)\ MBps=([0-9.]+)\ bytes=([0-9]+) ]] ||
         [[ $line =~ BENCH\ (rand-read)\ IOPS=([0-9.]+)\ ops=([0-9]+) ]]; then
      test=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]} amount=${BASH_REMATCH[3]}
      if [ -z "$started" ]; then
        echo "bench_io: a BENCH line without its BENCH-START"
        orphan=1
        continue
      fi
      # MB/s (10^6 bytes) or operations a second, by L1's clock.
      l1=$(awk -v n="$amount" -v a="$started" -v b="$now" -v t="$test" \
             'BEGIN {printf (t == "rand-read" ? "%.0f" : "%.1f"), (t == "rand-read" ? n : n / 1e6) / (b - a)}')
      echo "guest=$value l1=$l1" >>"$BENCH_DIR/results/io.$kind.$test"
      started=''
    elif [[ $line == *BENCH-DONE* ]]; then
      finished=1
    fi
  done
  exec {out}<&-
  wait "$pid" || rc=$?
  cat "$log"
  if ((rc != 0)); then
    echo "bench_io: $kind exited $rc (0 means the guest powered off)"
    return 1
  fi
  ((finished)) || { echo "bench_io: $kind never printed BENCH-DONE"; return 1; }
  ((orphan == 0))
}

# Boots to the marker take 10-40 s in L1: a hung one should not cost the
# I/O runs' L2_TIMEOUT.
export BENCH_BOOT_TIMEOUT=${BENCH_BOOT_TIMEOUT:-120}

# bench_boot_minivmm KIND TRANSPORT [BINARY [ARG...]]: boot to the marker
# under minivmm (BINARY, default $VMM, with ARGs added) with console=hvc0
# alone (virtio-console; the UART stays silent), root on virtio-blk over
# TRANSPORT (pci or mmio).
bench_boot_minivmm() {
  local kind=$1 transport=$2 binary=${3:-$VMM}
  shift $(($# < 3 ? $# : 3))
  bench_boot "$kind" "$binary" "$@" --kernel "$BENCH_L1_KERNEL" --initrd "$BENCH_L1_INITRD" --memory 512M --cpus 1 \
    --console stdio --timeout "$BENCH_BOOT_TIMEOUT" --boot-report --no-rng --virtio-transport "$transport" \
    --disk "$BENCH_L1_ROOT,ro" --cmdline "$BENCH_BOOT_CMDLINE"
}

# bench_boot_qemu KIND: the same boot under QEMU's tuned microvm: virtio-mmio
# devices (the kernel's virtio_mmio, a module the initramfs loads, finds them
# through ACPI), virtio-serial with one virtconsole on stdio, no serial port.
bench_boot_qemu() {
  # shellcheck disable=SC2054 # commas belong to QEMU option values
  bench_boot "$1" timeout "$BENCH_BOOT_TIMEOUT" qemu-system-x86_64 -enable-kvm -cpu host -smp 1 -m 512M \
    -M "$QEMU_TUNED_MACHINE" -display none -monitor none -serial none -no-reboot \
    -kernel "$BENCH_L1_KERNEL" -initrd "$BENCH_L1_INITRD" -append "$BENCH_BOOT_CMDLINE" \
    -drive "file=$BENCH_L1_ROOT,if=none,id=root,format=raw,readonly=on" -device virtio-blk-device,drive=root \
    -device virtio-serial-device -chardev stdio,id=hvc,signal=off -device virtconsole,chardev=hvc
}

# bench_boot KIND CMD...: the seconds from just before CMD starts to the
# console line with BENCH-INIT-OK, by L1's clock. The guest powers off right
# after it; the step passes when the marker came and CMD exited 0, and only
# then is the time recorded in BENCH_DIR/results/boot.KIND. KIND "warmup-*"
# records nothing (a first boot that pulls the binaries into L1's cache).
bench_boot() {
  local kind=$1 start line at='' rc=0
  shift
  echo "+ $*"
  local out pid
  start=$EPOCHREALTIME
  bench_spawn "$@" || return 1
  local log=$BENCH_DIR/console-$kind.log
  : >"$log"
  while IFS= read -r line <&"$out"; do
    [[ -n $at || $line != *BENCH-INIT-OK* ]] || at=$EPOCHREALTIME
    printf '%s\n' "${line%$'\r'}" >>"$log"
  done
  exec {out}<&-
  wait "$pid" || rc=$?
  cat "$log"
  [ -n "$at" ] || { echo "bench_boot: $kind: no BENCH-INIT-OK on the console (exit $rc)"; return 1; }
  ((rc == 0)) || { echo "bench_boot: $kind exited $rc after the marker (0 means the guest powered off)"; return 1; }
  local secs
  secs=$(awk -v a="$start" -v b="$at" 'BEGIN {printf "%.3f", b - a}')
  echo "bench_boot: $kind: BENCH-INIT-OK after ${secs}s"
  [[ $kind == warmup-* ]] || echo "$secs" >>"$BENCH_DIR/results/boot.$kind"
}

# bench_summary: the table, each line prefixed NESTED-BENCH (bench_virtio.sh
# prints them from the console log), then every recorded value as
# NESTED-BENCH-RAW. Figures are medians over every pass; ratio = minivmm /
# QEMU (the I/O goal is >= 1.00, the boot goal <= 0.80). Fails when a figure
# has no value (its row says n/a). With IO_RUNS=0 only the boot rows.
bench_summary() {
  local r=$BENCH_DIR/results rc=0 f test label m clock q t fmt clocks=(guest l1) wanted
  wanted=(boot.qemu-microvm boot.minivmm-pci boot.minivmm-mmio)
  if [ "${IO_RUNS:-2}" = 0 ]; then
    clocks=()
  else
    wanted+=(io.minivmm.seq-read io.minivmm.seq-write io.minivmm.rand-read io.qemu-threads.seq-read
             io.qemu-threads.seq-write io.qemu-threads.rand-read io.qemu-io_uring.seq-read
             io.qemu-io_uring.seq-write io.qemu-io_uring.rand-read)
  fi
  for f in "${wanted[@]}"; do
    [ -s "$r/$f" ] || { echo "bench_summary: no successful run for $f"; rc=1; }
  done
  printf 'NESTED-BENCH %-22s %-10s %9s   %-16s %9s   %6s   %s\n' figure minivmm value QEMU value ratio goal
  for clock in "${clocks[@]}"; do
    for test in seq-read seq-write rand-read; do
      case $test in
        seq-read) label="seq read MB/s" fmt=%.1f ;;
        seq-write) label="seq write MB/s" fmt=%.1f ;;
        rand-read) label="4K randread IOPS" fmt=%.0f ;;
      esac
      [ "$clock" = guest ] || label="$label (L1)"
      m=$(bench_median "$r/io.minivmm.$test" "$clock") || m=
      for q in threads io_uring; do
        bench_row "$label" pci "$m" "q35 aio=$q" "$(bench_median "$r/io.qemu-$q.$test" "$clock")" ge 1.00 "$fmt"
      done
    done
  done
  for t in pci mmio; do
    bench_row "boot to marker s" "$t hvc0" "$(bench_median "$r/boot.minivmm-$t")" "microvm hvc0" \
      "$(bench_median "$r/boot.qemu-microvm")" le 0.80 %.2f
  done
  # VMM_BEFORE's rows: the same boots under the binary before a change.
  if [ -n "${VMM_BEFORE:-}" ]; then
    for t in pci mmio; do
      bench_row "boot, before, s" "$t hvc0" "$(bench_median "$r/boot.before-$t")" "microvm hvc0" \
        "$(bench_median "$r/boot.qemu-microvm")" le 0.80 %.2f
    done
  fi
  if [ -n "${VMM_EXTRA_ARGS:-}" ]; then
    bench_row "boot, extra args, s" "pci hvc0" "$(bench_median "$r/boot.extra")" "microvm hvc0" \
      "$(bench_median "$r/boot.qemu-microvm")" le 0.80 %.2f
  fi
  for f in "$r"/*; do
    [ -f "$f" ] && echo "NESTED-BENCH-RAW ${f##*/}: $(tr '\n' ';' <"$f")"
  done
  return "$rc"
}
