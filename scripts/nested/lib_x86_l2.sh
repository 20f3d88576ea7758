# shellcheck shell=bash
# Nested harness (x86_64): functions for L2 boots inside L1, shared by the
# steps_x86_*.sh files (test_x86.sh puts this file first). Needs (exported
# by test_x86.sh): VMM, BUILD_DIR, CLOUD_BZIMAGE, CLOUD_VMLINUX,
# GENERIC_BZIMAGE, INITRD. Functions used by steps read only exported
# variables: each step runs in its own bash.

export L2_CMDLINE="console=ttyS0 reboot=k panic=-1"
export L2_TIMEOUT=${L2_TIMEOUT:-240}
export L2_TIMES=/tmp/minivmm-l2-times
export QEMU_TUNED_MACHINE=microvm,x-option-roms=off,pit=off,pic=off,isa-serial=on,rtc=on
mkdir -p "$L2_TIMES"

# elapsed_since START: seconds since START (date +%s.%N), two decimals.
elapsed_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}'; }

# l2_boot_with CMDLINE EXPECT VMM-ARGS...: one minivmm boot with the project's
# busybox initramfs until the console matches EXPECT (vmm --expect exits 0 on
# the match); l2_boot uses the default command line.
l2_boot_with() {
  local cmdline=$1 expect=$2
  shift 2
  echo "+ vmm $* --cmdline '$cmdline' --expect $expect"
  "$VMM" --memory 512M --initrd "$INITRD" --console stdio --timeout "$L2_TIMEOUT" \
    --boot-report --expect "$expect" --cmdline "$cmdline" "$@"
}
l2_boot() { l2_boot_with "$L2_CMDLINE" "$@"; }

# l2_shell_session CMDLINE VMM-ARGS...: the interactive console end to end.
# The guest (minivmm.shell=1 on CMDLINE) starts a busybox shell on its
# console, stdin comes from a fifo; once ash prints its prompt (so the line
# goes through ash's line editing, not the kernel's canonical mode) it types
#   echo MINIVMM-SHELL-$((6*7))
#   poweroff -f   (or reboot -f)
# and passes when the console shows the computed MINIVMM-SHELL-42 (the echo
# of the typed line shows only the unexpanded text).
l2_shell_session() {
  local cmdline=$1 fifo line partial='' sent=0 rc=0
  shift
  fifo=$(mktemp -u /tmp/minivmm-console.XXXXXX)
  mkfifo "$fifo"
  echo "+ vmm $* --cmdline '$cmdline' --expect MINIVMM-SHELL-42 <fifo"
  coproc L2 { exec "$VMM" --memory 512M --console stdio --timeout "$L2_TIMEOUT" \
                --boot-report --expect MINIVMM-SHELL-42 --cmdline "$cmdline" "$@" <"$fifo" 2>&1; }
  local pid=$L2_PID out=${L2[0]}
  exec 3>"$fifo"
  while :; do
    line=
    if IFS= read -r -t 1 line <&"$out"; then
      printf '%s\n' "${line%$'\r'}"
      partial=
    elif (($? > 128)); then
      # No newline yet: the prompt ("/ # ") ends without one.
      printf '%s' "$line"
      partial+=$line
    else
      break  # vmm exited
    fi
    if ((sent == 0)) && [[ $partial == *'/ # '* ]]; then
      # shellcheck disable=SC2016 # the guest's shell expands it
      printf '%s\n' 'echo MINIVMM-SHELL-$((6*7))' 'reboot -f' >&3
      sent=1
    fi
  done
  exec 3>&-
  wait "$pid" || rc=$?
  rm -f "$fifo"
  ((sent)) || echo "l2_shell_session: the shell prompt never appeared"
  return "$rc"
}

# l2_console_shell VMM-ARGS...: the busybox initramfs's shell on ttyS0 (the 16550).
l2_console_shell() { l2_shell_session "$L2_CMDLINE minivmm.shell=1" --initrd "$INITRD" "$@"; }

# l2_disk_boot_mptable TAG: the generic kernel (which parses the MP table)
# with acpi=off and pci=nomsi: virtio-pci's INTx found through the MP table's
# PCI interrupt entries alone. Without ACPI there is no poweroff: the disk
# init resets (reboot=k), which minivmm also counts as a clean end.
l2_disk_boot_mptable() {
  DISK_KERNEL=$GENERIC_BZIMAGE DISK_INITRD=$GENERIC_DISK_INITRD DISK_CMDLINE="$DISK_CMDLINE acpi=off pci=nomsi minivmm.end=reboot" \
    l2_disk_boot "$1" ttyS0
}

# l2_hvc0_shell TAG: the same through virtio-console alone: console=hvc0, the
# root on virtio-blk (lib_disk_l2.sh), the disk init's shell.
l2_hvc0_shell() {
  local root
  root=$(l1_disk 0) || return 1
  l2_shell_session "console=hvc0 $DISK_CMDLINE root=/dev/vda rw minivmm.tag=$1 minivmm.shell=1" \
    --kernel "$DISK_KERNEL" --initrd "$DISK_INITRD" --disk "$root"
}

# qemu_l2 KERNEL CMDLINE EXPECT QEMU-ARGS...: the same boot under QEMU/KVM
# (-cpu host -m 512M), stopped once the console matches EXPECT; fails if QEMU
# ends first.
qemu_l2() {
  local kernel=$1 cmdline=$2 expect=$3 line start found=1
  shift 3
  start=$(date +%s.%N)
  coproc L2 { exec timeout "$L2_TIMEOUT" qemu-system-x86_64 -enable-kvm -cpu host -m 512M -nographic \
                -no-reboot -kernel "$kernel" -initrd "$INITRD" -append "$cmdline" "$@" </dev/null 2>&1; }
  local pid=$L2_PID
  while IFS= read -r line <&"${L2[0]}"; do
    printf '%s\n' "${line%$'\r'}"
    if [[ $line == *"$expect"* ]]; then found=0; break; fi
  done
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  ((found == 0)) && echo "qemu_l2: $expect after $(elapsed_since "$start")s"
  return $found
}

# timed KIND CMD...: runs CMD and, when it succeeds, records its wall time
# under KIND for compare_summary.
timed() {
  local kind=$1 start rc=0
  shift
  start=$(date +%s.%N)
  "$@" || rc=$?
  ((rc == 0)) && echo "$(elapsed_since "$start")" >>"$L2_TIMES/$kind"
  return "$rc"
}

# compare_summary BASE OTHER...: median time to the marker of each kind, and
# each OTHER as a ratio of BASE. Fails when a kind has no successful run.
compare_summary() {
  local base=$1 kind median base_median
  median() { sort -n "$L2_TIMES/$1" | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
  for kind in "$@"; do
    [ -s "$L2_TIMES/$kind" ] || { echo "compare: no successful run of $kind"; return 1; }
  done
  base_median=$(median "$base")
  for kind in "$@"; do
    median=$(median "$kind")
    echo "NESTED-TIME $kind median=${median}s runs=$(wc -l <"$L2_TIMES/$kind") all=$(tr '\n' ' ' <"$L2_TIMES/$kind")" \
         "ratio-to-$base=$(awk -v a="$median" -v b="$base_median" 'BEGIN {printf "%.2f", a / b}')"
  done
}

# The KVM integration tests (tests/unit/vmm: suites Kvm*, booting the tiny
# guests of tests/guests). They skip where /dev/kvm is missing; here it is
# present, so a skip is a failure (kvm_tests_ran: lib_l1.sh).
export KVM_TESTS_REGEX=${KVM_TESTS_REGEX:-^Kvm}
kvm_integration_tests() {
  kvm_tests_ran ctest --test-dir "$BUILD_DIR" -R "$KVM_TESTS_REGEX" --output-on-failure --no-tests=error
}

# l2_debian_login N [VMM-ARGS...]: a real distribution as L2. Boots the
# debootstrap bookworm image of build_debian_image.sh from L1's disk N
# (l1_disk, lib_disk_l2.sh; a copy: the
# boot writes to it) with the cloud kernel and the root-switching initramfs,
# systemd as init, and logs in on the serial console the way a person would:
# waits for getty's "login: ", types root, waits for login's "Password: ",
# types the image's test password, and at each bash prompt types one of
#   echo MINIVMM-LOGIN-$((6*7)) $(id -un)@$(hostname) $(tty)
#   echo MINIVMM-SYSTEMD=$(timeout 120 systemctl is-system-running --wait)
#   systemctl --failed --no-legend --plain --no-pager
#   poweroff
# Passes when the console shows the computed MINIVMM-LOGIN-42 (the echo of the
# typed line shows only the unexpanded text) and minivmm exits 0: systemd
# powered the VM off. Prints the time to each prompt. poweroff asks logind
# first, and the image has no D-Bus: its "Failed to connect to bus" is
# expected, after which it shuts down through systemd directly. Needs
# DISK_KERNEL, DISK_INITRD, DISK_CMDLINE; DEBIAN_L2_TIMEOUT (default 900 s)
# bounds the VM.
export DEBIAN_L2_TIMEOUT=${DEBIAN_L2_TIMEOUT:-900}
l2_debian_login() {
  local disk cmdline fifo line seen='' state=login typed=0 marker=0 rc=0 start pid out
  disk=$(l1_disk "$1") || return 1
  # shellcheck disable=SC2016 # the guest's shell expands them
  local commands=('echo MINIVMM-LOGIN-$((6*7)) $(id -un)@$(hostname) $(tty)'
                  'echo MINIVMM-SYSTEMD=$(timeout 120 systemctl is-system-running --wait)'
                  'systemctl --failed --no-legend --plain --no-pager'
                  'poweroff')
  shift
  # systemd also starts a getty on minivmm's virtio-console (hvc0), whose
  # prompt shares the console output; the typing goes to ttyS0, whose getty
  # flushes its input when it starts, so an hvc0 prompt seen first would let
  # "root" be typed before ttyS0's getty throws it away.
  cmdline="console=ttyS0 $DISK_CMDLINE root=/dev/vda rw systemd.mask=serial-getty@hvc0.service"
  fifo=$(mktemp -u /tmp/minivmm-console.XXXXXX)
  mkfifo "$fifo"
  echo "+ vmm --kernel $DISK_KERNEL --initrd $DISK_INITRD --disk $disk $* --cmdline '$cmdline' <fifo"
  start=$(date +%s.%N)
  coproc L2 { exec "$VMM" --kernel "$DISK_KERNEL" --initrd "$DISK_INITRD" --memory 512M --console stdio \
                --timeout "$DEBIAN_L2_TIMEOUT" --boot-report --disk "$disk" --cmdline "$cmdline" "$@" \
                <"$fifo" 2>&1; }
  pid=$L2_PID out=${L2[0]}
  exec 3>"$fifo"
  while :; do
    line=
    if IFS= read -r -t 1 line <&"$out"; then
      printf '%s\n' "${line%$'\r'}"
      seen+=$line$'\n'
    elif (($? > 128)); then
      # A prompt ends without a newline.
      printf '%s' "$line"
      seen+=$line
    else
      break  # vmm exited
    fi
    [[ $seen != *MINIVMM-LOGIN-42* ]] || marker=1
    # Only what came since the last thing typed counts, wherever a line break
    # (a kernel message in the middle of a prompt) fell; bounded, as the
    # shutdown that follows is long.
    ((${#seen} <= 4096)) || seen=${seen: -4096}
    case $state in
      login)
        [[ $seen == *' login: '* ]] || continue
        echo "l2_debian_login: 'login:' prompt after $(elapsed_since "$start")s"
        printf 'root\n' >&3
        state=password ;;
      password)
        [[ $seen == *'Password: '* ]] || continue
        printf 'minivmm\n' >&3
        state=shell ;;
      shell)
        if [[ $seen == *'Login incorrect'* ]]; then
          echo "l2_debian_login: the login was refused"
          kill "$pid" 2>/dev/null
          break
        fi
        # Typed one at a time, at the prompt: typed ahead, the tty would echo
        # the rest into the first command's output.
        [[ $seen == *':~# '* ]] || continue
        ((typed)) || echo "l2_debian_login: shell prompt after $(elapsed_since "$start")s"
        printf '%s\n' "${commands[typed]}" >&3
        typed=$((typed + 1))
        ((typed < ${#commands[@]})) || state=finished ;;
      *) continue ;;
    esac
    seen=
  done
  exec 3>&-
  wait "$pid" || rc=$?
  rm -f "$fifo"
  echo "l2_debian_login: vmm exited $rc after $(elapsed_since "$start")s"
  if [ "$state" != finished ]; then
    echo "l2_debian_login: the console never got past the $state prompt (commands typed: $typed)"
    return 1
  fi
  if ((marker == 0)); then
    echo "l2_debian_login: no MINIVMM-LOGIN-42 on the console: the command did not run"
    return 1
  fi
  ((rc == 0)) || { echo "l2_debian_login: vmm exited $rc (0 means systemd powered the VM off)"; return 1; }
}
