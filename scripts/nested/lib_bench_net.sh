# shellcheck shell=bash
# Nested harness (x86_64): functions of the network benchmark
# (steps_x86_bench_net.sh, started by scripts/bench_net.sh), run inside L1.
# minivmm and QEMU/KVM boot the same cloud kernel, net initramfs
# (scripts/guest/net_init.sh with minivmm.bench=MIB) and command line, one
# after the other in the same L1, 512 MiB, 1 vCPU, virtio-net over PCI:
#
#   user  minivmm --net user,hostfwd=... against QEMU -netdev user,hostfwd=...
#         (both libslirp; L1 reaches the guest's ports through the forwards
#         on 127.0.0.1)
#   tap   minivmm --net tap=IF against QEMU -netdev tap,ifname=IF,vhost=off
#         on the same TAP, made once with busybox tunctl and addressed
#         192.168.77.1/24 (the guest is 192.168.77.2); vhost=off because
#         minivmm has no vhost-net: both move every frame in user space
#
# Each boot runs BENCH_REPS transfers of BENCH_MIB MiB each way, driven by
# net_bench_client.py in L1 (L1's clock, byte counts checked), and records
# each in BENCH_DIR/results/net.VMM.BACKEND.DIR (h2g: L1 to the guest; g2h:
# the guest to L1), one MB/s a line.
#
# Needs (exported by bench_net.sh through run_x86.sh --env): VMM,
# BENCH_KERNEL, BENCH_INITRD, BENCH_CLIENT, BENCH_MIB, BENCH_REPS,
# NET_TIMEOUT; from lib_bench_l1.sh: bench_spawn, bench_median, bench_row.
# Every function a step runs reads only exported variables (each step is a
# new bash).

: "${BENCH_MIB:?}" "${BENCH_REPS:?}"
export BENCH_DIR=/tmp/minivmm-bench-net
export NETB_TAP=mvbench0
export NETB_CMDLINE="console=ttyS0 reboot=k panic=-1 quiet minivmm.bench=$BENCH_MIB"
# The guest's sink, source and power-off ports; user mode forwards them
# from 127.0.0.1:1500x.
export NETB_FWD="hostfwd=tcp:127.0.0.1:15001-:5001,hostfwd=tcp:127.0.0.1:15002-:5002,hostfwd=tcp:127.0.0.1:15003-:5003"
# L1's copies (its RAM) of what the VMMs read, so no boot reads over 9p.
export NETB_L1_KERNEL=$BENCH_DIR/vmlinuz NETB_L1_INITRD=$BENCH_DIR/initramfs.cpio.gz
# L1's /tmp is an overlay on the host's: results of anything that ran on the
# host under this name must not count.
rm -rf "$BENCH_DIR/results"
mkdir -p "$BENCH_DIR/results"

# netb_prepare: the images into L1's RAM, loopback up, the TAP both VMMs
# attach to, the versions.
netb_prepare() {
  if ! { cp "$BENCH_KERNEL" "$NETB_L1_KERNEL" && cp "$BENCH_INITRD" "$NETB_L1_INITRD"; }; then
    echo "netb_prepare: copying the images failed"
    return 1
  fi
  ip link set lo up
  if [ ! -e "/sys/class/net/$NETB_TAP" ]; then
    busybox tunctl -t "$NETB_TAP" >/dev/null || { echo "netb_prepare: tunctl -t $NETB_TAP failed"; return 1; }
    ip addr add 192.168.77.1/24 dev "$NETB_TAP" || return 1
    ip link set "$NETB_TAP" up || return 1
  fi
  echo "netb_prepare: vmm $VMM ($("$VMM" --version 2>&1 | head -n1))"
  echo "netb_prepare: $(qemu-system-x86_64 --version | head -n1)"
  echo "netb_prepare: L1 $(uname -r), $(nproc) CPU, $(awk '/MemTotal/ {print $2 / 1024 " MiB"}' /proc/meminfo)"
  echo "netb_prepare: $BENCH_REPS x $BENCH_MIB MiB each way a boot"
}

# netb_words BACKEND: the guest's command-line words for BACKEND.
netb_words() {
  case $1 in
    user) echo "$NETB_CMDLINE minivmm.net=user" ;;
    tap) echo "$NETB_CMDLINE minivmm.net=tap minivmm.ip=192.168.77.2/24" ;;
  esac
}

# netb_minivmm BACKEND: one boot under minivmm (virtio-pci).
netb_minivmm() {
  local net
  case $1 in
    user) net="user,$NETB_FWD" ;;
    tap) net="tap=$NETB_TAP" ;;
    *) echo "netb_minivmm: user or tap"; return 2 ;;
  esac
  netb_run minivmm "$1" "$VMM" --kernel "$NETB_L1_KERNEL" --initrd "$NETB_L1_INITRD" --memory 512M --cpus 1 \
    --console stdio --timeout "$NET_TIMEOUT" --boot-report --no-rng --virtio-transport pci \
    --net "$net" --cmdline "$(netb_words "$1")"
}

# netb_qemu BACKEND: the same boot under QEMU/KVM, q35 with virtio-net-pci
# (MSI-X, ioeventfd, MRG_RXBUF; with the TAP the same checksum and TSO
# offloads minivmm offers; no option ROM: -kernel boots without one).
netb_qemu() {
  local netdev
  case $1 in
    user) netdev="user,id=n0,$NETB_FWD" ;;
    tap) netdev="tap,id=n0,ifname=$NETB_TAP,script=no,downscript=no,vhost=off" ;;
    *) echo "netb_qemu: user or tap"; return 2 ;;
  esac
  # shellcheck disable=SC2054 # commas belong to QEMU option values
  netb_run qemu "$1" timeout "$NET_TIMEOUT" qemu-system-x86_64 -enable-kvm -cpu host -smp 1 -m 512M -M q35 \
    -nodefaults -display none -monitor none -serial stdio -no-reboot \
    -kernel "$NETB_L1_KERNEL" -initrd "$NETB_L1_INITRD" -append "$(netb_words "$1")" \
    -netdev "$netdev" -device virtio-net-pci,netdev=n0,romfile=
}

# The VMM's console goes to a log in L1's RAM, shown once the VMM has exited
# (echoed live it would go out through L1's emulated serial port on L1's one
# CPU while the transfers run).
#
# netb_run VMM BACKEND CMD...: runs CMD (a VMM booting the bench guest) with
# its console on a pipe; at MINIVMM-NET-BENCH-READY runs the client, which
# ends by powering the guest off. Passes when every transfer was whole, the
# guest printed MINIVMM-NET-DONE and CMD exited 0; only then are the figures
# recorded.
netb_run() {
  local vmm=$1 backend=$2 line client_rc=none rc=0 off=0 host ports
  shift 2
  case $backend in
    user) host=127.0.0.1 ports="15001 15002 15003" ;;
    tap) host=192.168.77.2 ports="5001 5002 5003" ;;
  esac
  echo "+ $*"
  local out pid
  bench_spawn "$@" || return 1
  local log=$BENCH_DIR/console-$vmm-$backend.log figures=$BENCH_DIR/figures-$vmm-$backend
  : >"$log"
  : >"$figures"
  while IFS= read -r line <&"$out"; do
    line=${line%$'\r'}
    printf '%s\n' "$line" >>"$log"
    if [[ $line == *MINIVMM-NET-BENCH-READY* && $client_rc == none ]]; then
      # The guest waits, silent, while the client runs: nothing fills the pipe.
      # shellcheck disable=SC2086 # three port words
      python3 "$BENCH_CLIENT" "$host" $ports "$BENCH_MIB" "$BENCH_REPS" >"$figures" 2>&1
      client_rc=$?
    elif [[ $line == *MINIVMM-NET-DONE* ]]; then
      off=1
    fi
  done
  exec {out}<&-
  wait "$pid" || rc=$?
  cat "$log"
  cat "$figures"
  [ "$client_rc" = 0 ] || { echo "netb_run: $vmm $backend: the client exited $client_rc (no READY when none)"; return 1; }
  ((off)) || { echo "netb_run: $vmm $backend: the guest never printed MINIVMM-NET-DONE"; return 1; }
  ((rc == 0)) || { echo "netb_run: $vmm $backend exited $rc (0 means the guest powered off)"; return 1; }
  local tag dir value
  # (a file, not <(...): L1's devtmpfs has no /dev/fd)
  while read -r tag dir value _; do
    [ "$tag" = NETBENCH ] && echo "${value#MBps=}" >>"$BENCH_DIR/results/net.$vmm.$backend.$dir"
  done <"$figures"
  return 0
}

# netb_summary: the table, each line prefixed NESTED-BENCH (bench_net.sh
# prints them from the console log), then every recorded value as
# NESTED-BENCH-RAW. Medians over every transfer; ratio = minivmm / QEMU,
# goal >= 1.00. Fails when a figure has no value (its row says n/a).
netb_summary() {
  local r=$BENCH_DIR/results rc=0 backend dir label qlabel f
  printf 'NESTED-BENCH %-22s %-10s %9s   %-16s %9s   %6s   %s\n' figure minivmm MB/s QEMU MB/s ratio goal
  for backend in user tap; do
    for dir in g2h h2g; do
      for f in "net.minivmm.$backend.$dir" "net.qemu.$backend.$dir"; do
        [ -s "$r/$f" ] || { echo "netb_summary: no successful run for $f"; rc=1; }
      done
      case $dir in
        g2h) label="TCP guest->host $backend" ;;
        h2g) label="TCP host->guest $backend" ;;
      esac
      case $backend in
        user) qlabel="-netdev user" ;;
        tap) qlabel="tap vhost=off" ;;
      esac
      bench_row "$label" "--net $backend" "$(bench_median "$r/net.minivmm.$backend.$dir")" "$qlabel" \
        "$(bench_median "$r/net.qemu.$backend.$dir")" ge 1.00 %.1f
    done
  done
  for f in "$r"/*; do
    [ -f "$f" ] && echo "NESTED-BENCH-RAW ${f##*/}: $(tr '\n' ';' <"$f")"
  done
  return "$rc"
}
