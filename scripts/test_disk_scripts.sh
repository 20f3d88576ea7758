#!/usr/bin/env bash
# shellcheck disable=SC2016 # the busybox sh snippets expand their own $
# Tests of the root-on-a-virtio-disk scripts, with no QEMU or KVM (under a
# minute; needs the kernel cache of scripts/fetch_kernels.sh):
#  - build_disk_image.sh for amd64 and arm64: /sbin/init, /bin/busybox of the
#    right architecture, root-owned files, device nodes, same bytes twice;
#  - check_disk_image.sh: fails naming a tag whose file is missing or wrong,
#    passes once debugfs wrote the file, reads through an unreplayed journal
#    without touching the image;
#  - build_virtio_root_initramfs.sh for amd64, cloud-amd64, arm64, riscv64:
#    virtio_blk.ko (and ext4.ko where it is a module), the built-in names
#    skipped, every module's dependencies earlier in load.order, plain ELF
#    .ko files, the switch-root /init; same bytes twice;
#  - bad input: an unknown module, a missing MODULES_DIR, --module without
#    --modules, --switch-root with --init, bad ARCH or --size;
#  - the guest inits' own functions under the host's busybox sh (every
#    command that could touch the host is stubbed): command-line parsing,
#    root checks, the root wait, the module loop, result tags, and main
#    refusing to run when not PID 1.
#
#   test_disk_scripts.sh     -> prints one line a case; exit 1 if any case is wrong
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kernel_cache=${MINIVMM_KERNEL_CACHE:-$HOME/.cache/minivmm/kernels}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cases=0 wrong=0 skipped=0

# result NAME BAD: one case; BAD empty means it passed.
result() {
  cases=$((cases + 1))
  if [ -n "$2" ]; then
    wrong=$((wrong + 1))
    echo "FAIL  $1: $2"
  else
    echo "ok    $1"
  fi
}

# run_expect NAME WANT_RC TEXT CMD...: CMD must exit WANT_RC ("nonzero" for
# any failure) and print TEXT (fixed string; empty: anything) on stdout or stderr.
run_expect() {
  local name=$1 want=$2 text=$3 rc=0 out bad=''
  shift 3
  out=$("$@" 2>&1) || rc=$?
  if [ "$want" = nonzero ]; then
    [ "$rc" -ne 0 ] || bad="exit 0, want a failure"
  else
    [ "$rc" -eq "$want" ] || bad="exit $rc, want $want"
  fi
  [ -z "$text" ] || grep -qF -- "$text" <<<"$out" || bad+="${bad:+; }no '$text' in the output"
  [ -z "$bad" ] || bad+=$'\n'$(printf '%s\n' "$out" | tail -n 8 | sed 's/^/      | /')
  result "$name" "$bad"
}

need_kernel() {
  if [ -d "$kernel_cache/$1/modules" ]; then return 0; fi
  if [ "${MINIVMM_REQUIRE_KERNELS:-0}" = 1 ]; then
    result "kernel cache for $1" "$kernel_cache/$1/modules missing (scripts/fetch_kernels.sh)"
  else
    echo "skip  $1: no $kernel_cache/$1/modules (scripts/fetch_kernels.sh)"
    skipped=$((skipped + 1))
  fi
  return 1
}

# inode_type IMAGE PATH: debugfs's "Type:" of PATH (regular, symlink, ...), empty if absent.
inode_type() { debugfs -R "stat \"$2\"" "$1" 2>/dev/null | sed -n 's/.*Type: \([a-z]*\).*/\1/p' | head -n1; }

# ---------------------------------------------------------------- disk images
check_image() {
  local arch=$1 want_machine=$2 img=$tmp/$1.img out bad='' p what
  out=$(bash "$here/build_disk_image.sh" "$arch" "$img" 2>&1)
  [ "$(tail -n1 <<<"$out")" = "$img" ] || bad="last line is not the output path: $(tail -n1 <<<"$out")"
  result "disk image $arch: builds, prints its path" "$bad"
  [ -f "$img" ] || return 0

  bad=''
  for p in /sbin/init:regular /lib/minivmm/guest_lib.sh:regular /bin/busybox:regular /bin/sh:symlink /dev/console:character \
           /dev/null:character /etc/passwd:regular /proc:directory /tmp:directory; do
    [ "$(inode_type "$img" "${p%%:*}")" = "${p#*:}" ] || bad+="${p%%:*} is not ${p#*:}; "
  done
  result "disk image $arch: init and its guest_lib.sh, busybox, applet link, device nodes, /etc" "$bad"

  # Outputs go through variables, not `| grep -q`: under pipefail, grep
  # leaving early turns the writer's SIGPIPE into a failure.
  bad=''
  debugfs -R "dump /bin/busybox $tmp/busybox.$arch" "$img" 2>/dev/null
  what=$(file -b "$tmp/busybox.$arch")
  [[ $what == *"$want_machine"* ]] || bad="/bin/busybox is ${what:0:50}, want $want_machine"
  [[ $what == *'statically linked'* ]] || bad+="${bad:+; }/bin/busybox is not static"
  result "disk image $arch: /bin/busybox is a static $want_machine binary" "$bad"

  bad=''
  what=$(debugfs -R "cat /sbin/init" "$img" 2>/dev/null)
  [[ $what == *MINIVMM-DISK-INIT-OK* ]] || bad="/sbin/init has no MINIVMM-DISK-INIT-OK"
  what=$(debugfs -R "stat /bin/busybox" "$img" 2>/dev/null)
  grep -q 'User: *0 *Group: *0' <<<"$what" || bad+="${bad:+; }/bin/busybox not owned by 0:0"
  e2fsck -fn "$img" >/dev/null 2>&1 || bad+="${bad:+; }e2fsck -fn finds errors"
  result "disk image $arch: the test init, root-owned, clean for e2fsck" "$bad"
}
check_image amd64 x86-64
if need_kernel arm64; then check_image arm64 'ARM aarch64'; fi

bash "$here/build_disk_image.sh" amd64 "$tmp/again.img" >/dev/null 2>&1
bad=''; cmp -s "$tmp/amd64.img" "$tmp/again.img" || bad="two builds differ: $(cmp "$tmp/amd64.img" "$tmp/again.img" 2>&1)"
result "disk image: same inputs, same bytes" "$bad"

# --------------------------------------------------------- check_disk_image.sh
img=$tmp/check.img
cp --sparse=always "$tmp/amd64.img" "$img"
run_expect "check_disk_image: a missing result file fails naming its tag" 1 "FAIL t1: /minivmm-result-t1 missing" \
  bash "$here/check_disk_image.sh" "$img" t1
printf 'MINIVMM-WROTE-t1\nkernel=6.1.0-test\n' >"$tmp/result-t1"
debugfs -w -R "write $tmp/result-t1 /minivmm-result-t1" "$img" >/dev/null 2>&1
run_expect "check_disk_image: passes once the file is there, and prints it" 0 "kernel=6.1.0-test" \
  bash "$here/check_disk_image.sh" "$img" t1
run_expect "check_disk_image: of two tags, fails naming the missing one" 1 "FAIL t2: /minivmm-result-t2 missing" \
  bash "$here/check_disk_image.sh" "$img" t1 t2
printf 'MINIVMM-WROTE-other\n' >"$tmp/result-t3"
debugfs -w -R "write $tmp/result-t3 /minivmm-result-t3" "$img" >/dev/null 2>&1
run_expect "check_disk_image: a file with the wrong marker fails naming its tag" 1 "FAIL t3: /minivmm-result-t3 starts with 'MINIVMM-WROTE-other'" \
  bash "$here/check_disk_image.sh" "$img" t3
run_expect "check_disk_image: a file that is no ext4 image" 1 "not an ext2/3/4 file system" \
  bash "$here/check_disk_image.sh" "$tmp/result-t1" t1
# needs_recovery with an empty journal stands in for a guest that stopped
# before unmounting: the check must read a replayed copy and leave the image be.
debugfs -w -R "feature +needs_recovery" "$img" >/dev/null 2>&1
cp --sparse=always "$img" "$tmp/before.img"
run_expect "check_disk_image: an unreplayed journal is read through a replayed copy" 0 "read a replayed copy" \
  bash "$here/check_disk_image.sh" "$img" t1
bad=''; cmp -s "$img" "$tmp/before.img" || bad="the image changed"
result "check_disk_image: leaves the image itself untouched" "$bad"

run_expect "build_disk_image: unknown ARCH" 1 "unknown ARCH 'sparc'" bash "$here/build_disk_image.sh" sparc "$tmp/x.img"
run_expect "build_disk_image: --size below 16 MiB" 1 "at least 16 MiB" bash "$here/build_disk_image.sh" amd64 "$tmp/x.img" --size 8
run_expect "build_disk_image: OUTPUT in a missing directory" 1 "does not exist" bash "$here/build_disk_image.sh" amd64 "$tmp/no/x.img"

# --------------------------------------------------- root-switching initramfs
# objcopy_for KERNEL: read .modinfo independently of collect_modules.sh's choice.
objcopy_for() {
  case $1 in
    arm64) echo aarch64-linux-gnu-objcopy ;;
    riscv64) echo riscv64-linux-gnu-objcopy ;;
    *) echo objcopy ;;
  esac
}

# check_initramfs KERNEL MUST_BE_BUILTIN...: the archive for KERNEL; the
# names given must be built into KERNEL (so skipping them is tested).
check_initramfs() {
  local kernel=$1 out=$tmp/$1.cpio.gz x=$tmp/x-$1 moddir lst bad='' m d deps pos oc line
  shift
  moddir=$kernel_cache/$kernel/modules
  line=$(bash "$here/build_virtio_root_initramfs.sh" --output "$out" "$kernel" 2>&1 | tail -n1)
  [ "$line" = "$out" ] || bad="last line '$line', not the output path"
  result "initramfs $kernel: builds, prints its path" "$bad"
  [ -f "$out" ] || return 0
  mkdir -p "$x"
  (cd "$x" && zcat "$out" | cpio -idm --quiet 2>/dev/null)
  lst=$(zcat "$out" | cpio -t --quiet 2>/dev/null)

  bad=''
  grep -qx 'lib/modules/minivmm/virtio_blk.ko' <<<"$lst" || bad="no virtio_blk.ko; "
  grep -qx 'lib/modules/minivmm/load.order' <<<"$lst" || bad+="no load.order; "
  if grep -q '/ext4\.ko$' "$moddir/modules.builtin"; then
    grep -q 'ext4\.ko$' <<<"$lst" && bad+="ext4.ko although ext4 is built in; "
  else
    grep -qx 'lib/modules/minivmm/ext4.ko' <<<"$lst" || bad+="no ext4.ko (ext4 is a module here); "
  fi
  result "initramfs $kernel: virtio_blk.ko, load.order, ext4.ko if modular" "$bad"

  if (($#)); then
    bad=''
    for m in "$@"; do
      grep -qE "/${m//_/[-_]}\.ko$" "$moddir/modules.builtin" || bad+="$m is not in modules.builtin (test premise); "
      [ ! -e "$x/lib/modules/minivmm/$m.ko" ] || bad+="$m.ko packed; "
      grep -qx "$m" "$x/lib/modules/minivmm/load.order" && bad+="$m in load.order; "
    done
    result "initramfs $kernel: built-in $* skipped" "$bad"
  fi

  bad=''
  oc=$(objcopy_for "$kernel")
  pos=0
  declare -A at=()
  while IFS= read -r m; do pos=$((pos + 1)); at[$m]=$pos; done <"$x/lib/modules/minivmm/load.order"
  ((pos > 0)) || bad="load.order is empty; "
  for m in "${!at[@]}"; do
    [ -f "$x/lib/modules/minivmm/$m.ko" ] || { bad+="$m listed, no $m.ko; "; continue; }
    [ "$(head -c4 "$x/lib/modules/minivmm/$m.ko" | od -An -c | tr -d ' ')" = '177ELF' ] || bad+="$m.ko is not a plain ELF; "
    "$oc" -O binary --only-section=.modinfo "$x/lib/modules/minivmm/$m.ko" "$tmp/modinfo" 2>/dev/null ||
      { bad+="$oc cannot read $m.ko; "; continue; }
    deps=$(tr '\0' '\n' <"$tmp/modinfo" | sed -n 's/^depends=//p' | tr ',-' ' _')
    for d in $deps; do
      if [ -z "${at[$d]:-}" ]; then bad+="$m needs $d, which load.order lacks; "
      elif ((at[$d] >= at[$m])); then bad+="$d (line ${at[$d]}) not before its user $m (line ${at[$m]}); "
      fi
    done
  done
  for m in "$x"/lib/modules/minivmm/*.ko; do
    m=${m##*/}; m=${m%.ko}
    [ -n "${at[$m]:-}" ] || bad+="$m.ko packed but not in load.order; "
  done
  result "initramfs $kernel: load.order lists every .ko, dependencies first, plain ELF files" "$bad"

  bad=''
  [ -x "$x/init" ] || bad="/init is not executable"
  grep -q 'MINIVMM-INITRAMFS-FAIL' "$x/init" || bad+="${bad:+; }/init is not the switch-root init"
  [ -x "$x/bin/switch_root" ] || [ -L "$x/bin/switch_root" ] || bad+="${bad:+; }no switch_root applet link"
  result "initramfs $kernel: the switch-root /init and its applets" "$bad"
}
if need_kernel amd64; then
  check_initramfs amd64
  # virtio before its users is a case only where virtio itself is a module.
  bad=''
  order=$(tr '\n' ' ' <"$tmp/x-amd64/lib/modules/minivmm/load.order")
  [[ " $order" == *" virtio_ring "*" virtio "*" virtio_blk "* ]] || bad="load.order is '$order'"
  result "initramfs amd64: virtio_ring, then virtio, then virtio_blk" "$bad"
fi
if need_kernel cloud-amd64; then check_initramfs cloud-amd64 ext4 crc32c_generic; fi
if need_kernel arm64; then check_initramfs arm64 virtio virtio_ring; fi
if need_kernel riscv64; then check_initramfs riscv64 virtio_pci virtio_console virtio virtio_ring; fi

if need_kernel amd64; then
  bash "$here/build_virtio_root_initramfs.sh" --output "$tmp/again.cpio.gz" amd64 >/dev/null 2>&1
  bad=''; cmp -s "$tmp/amd64.cpio.gz" "$tmp/again.cpio.gz" || bad="two builds differ"
  result "initramfs: same inputs, same bytes" "$bad"

  mods=$kernel_cache/amd64/modules
  run_expect "initramfs: an unknown module fails naming it" 1 "module 'no_such_module' not found" \
    bash "$here/build_initramfs.sh" --switch-root --modules "$mods" --module virtio_blk,no_such_module --output "$tmp/bad.cpio.gz" amd64
  run_expect "initramfs: a missing MODULES_DIR" 1 "--modules '$tmp/nowhere': not a directory" \
    bash "$here/build_initramfs.sh" --switch-root --modules "$tmp/nowhere" --module virtio_blk --output "$tmp/bad.cpio.gz" amd64
  run_expect "initramfs: --module without --modules" 1 "--module needs --modules" \
    bash "$here/build_initramfs.sh" --module virtio_blk --output "$tmp/bad.cpio.gz" amd64
  run_expect "initramfs: --switch-root with --init" 1 "--switch-root and --init" \
    bash "$here/build_initramfs.sh" --switch-root --init "$here/guest/disk_init.sh" --output "$tmp/bad.cpio.gz" amd64
  bad=''; [ ! -e "$tmp/bad.cpio.gz" ] || bad="a failed build left $tmp/bad.cpio.gz"
  result "initramfs: failed builds leave no output" "$bad"
fi

# The default mode is what the nested harness and run.sh boot: still the
# MINIVMM-INIT-OK /init, no modules.
bash "$here/build_initramfs.sh" --output "$tmp/plain.cpio.gz" amd64 >/dev/null 2>&1
bad=''
mkdir -p "$tmp/x-plain"
(cd "$tmp/x-plain" && zcat "$tmp/plain.cpio.gz" | cpio -idm --quiet 2>/dev/null)
grep -q 'echo "MINIVMM-INIT-OK"' "$tmp/x-plain/init" || bad="/init is not the default one"
[ ! -e "$tmp/x-plain/lib/modules" ] || bad+="${bad:+; }lib/modules in a plain archive"
result "initramfs: the default mode is unchanged" "$bad"

# --------------------------------------------- guest inits' functions on the host
# Sourced with MINIVMM_INIT_NO_MAIN=1 into the host's busybox sh. Everything
# that could reach the host (poweroff, reboot, mount, insmod, switch_root,
# dd, the kernel log) is a stub function, which ash prefers to any applet.
stubs='poweroff() { echo STUB-poweroff; exit 97; }; reboot() { echo STUB-reboot; exit 97; }
  mount() { echo STUB-mount; exit 97; }; umount() { echo STUB-umount; exit 97; }
  switch_root() { echo STUB-switch_root; exit 97; }; dd() { echo STUB-dd; exit 97; }
  insmod() { echo STUB-insmod; exit 97; }'
# in_init SCRIPT CODE: CODE after sourcing scripts/guest/SCRIPT with the stubs.
in_init() {
  MINIVMM_INIT_NO_MAIN=1 MINIVMM_GUEST_LIB=$here/guest/guest_lib.sh busybox sh -c "$stubs"'
    . "$1"
    '"$stubs"'
    fail() { echo "FAIL-CALLED: $*"; exit 3; }
    console_ok=1
    '"$2" in_init "$here/guest/$1"
}

for s in switch_root_init.sh disk_init.sh; do
  run_expect "guest $s: busybox sh -n" 0 "" busybox sh -n "$here/guest/$s"
  run_expect "guest $s: main refuses to run when not PID 1" 1 "not PID 1" in_init "$s" 'main'
done

cmdline=$tmp/cmdline
parse() { printf '%s\n' "$1" >"$cmdline"; in_init switch_root_init.sh "parse_cmdline $cmdline; echo \"root=\$root type=\$rootfstype flags=\$rootflags mode=\$rootmode init=\$new_init wait=\$rootwait\""; }
run_expect "switch-root init: root=/dev/vda rw and the defaults" 0 "root=/dev/vda type= flags= mode=rw init=/sbin/init wait=30" \
  parse 'console=ttyS0 root=/dev/vda rw'
run_expect "switch-root init: every option" 0 "root=/dev/vdb type=ext4 flags=noatime mode=ro init=/bin/sh wait=5" \
  parse 'root=/dev/vdb ro rootfstype=ext4 rootflags=noatime init=/bin/sh minivmm.rootwait=5 quiet'
run_expect "switch-root init: the last of ro/rw wins (ro rw)" 0 "mode=rw" parse 'root=/dev/vda ro rw'
run_expect "switch-root init: the last of ro/rw wins (rw ro)" 0 "mode=ro" parse 'root=/dev/vda rw ro'
run_expect "switch-root init: neither ro nor rw means rw" 0 "mode=rw" parse 'root=/dev/vda'

checkroot() { printf '%s\n' "$1" >"$cmdline"; in_init switch_root_init.sh "parse_cmdline $cmdline; check_root"; }
run_expect "switch-root init: root=/dev/vda passes the check" 0 "" checkroot 'root=/dev/vda'
run_expect "switch-root init: no root= refused" 1 "no root= on the kernel command line" checkroot 'console=ttyS0'
run_expect "switch-root init: root=UUID= refused" 1 "only device paths" checkroot 'root=UUID=1234-5678'
run_expect "switch-root init: root=PARTUUID= refused" 1 "only device paths" checkroot 'root=PARTUUID=abcd-01'
run_expect "switch-root init: root=vda (no /dev) refused" 1 "is not a /dev path" checkroot 'root=vda'
run_expect "switch-root init: a bad minivmm.rootwait refused" 1 "not a whole number" checkroot 'root=/dev/vda minivmm.rootwait=soon'
run_expect "switch-root init: a relative init= refused" 1 "not an absolute path" checkroot 'root=/dev/vda init=sbin/init'

start=$SECONDS
run_expect "switch-root init: a root device that never comes times out" 1 "waiting up to 1s for /dev/minivmm-absent" \
  in_init switch_root_init.sh "root=/dev/minivmm-absent; rootwait=1; wait_for_root"
bad=''; (((SECONDS - start) <= 5)) || bad="took $((SECONDS - start)) s for a 1 s wait"
result "switch-root init: the root wait is bounded" "$bad"
blockdev=$(find /dev -maxdepth 1 -type b 2>/dev/null | head -n1)
if [ -n "$blockdev" ]; then
  run_expect "switch-root init: an existing block device needs no wait" 0 "" \
    in_init switch_root_init.sh "root=$blockdev; rootwait=0; wait_for_root"
else
  echo "skip  switch-root init: an existing block device needs no wait (no block device in /dev)"
  skipped=$((skipped + 1))
fi

# The module loop with a fake insmod: names no host has in /sys/module.
mkdir -p "$tmp/mods"
printf '%s\n' minivmm_t_a minivmm_t_b minivmm_t_c >"$tmp/mods/load.order"
fake_insmod='insmod() { case $1 in
  */minivmm_t_a.ko) return 0 ;;
  */minivmm_t_b.ko) echo "insmod: cannot insert $1: File exists" >&2; return 1 ;;
  */minivmm_t_c.ko) [ -n "${C_FAILS:-}" ] || return 0; echo "insmod: cannot insert $1: Unknown symbol in module (-2)" >&2; return 1 ;;
esac; }'
run_expect "switch-root init: modules load; 'File exists' counts as present" 0 "MINIVMM-INITRAMFS-MODULES loaded=2 present=1" \
  in_init switch_root_init.sh "$fake_insmod; load_modules $tmp/mods"
run_expect "switch-root init: an insmod failure names the module" 3 "FAIL-CALLED: insmod minivmm_t_c: insmod: cannot insert" \
  in_init switch_root_init.sh "$fake_insmod; C_FAILS=1; load_modules $tmp/mods"
run_expect "switch-root init: no modules is fine" 0 "MINIVMM-INITRAMFS-MODULES loaded=0 present=0" \
  in_init switch_root_init.sh "load_modules $tmp/no-mods"

dparse() { printf '%s\n' "$1" >"$cmdline"; in_init disk_init.sh "parse_cmdline $cmdline; echo \"tag=\$tag ro_disk=\$ro_disk consoles=\$cmdline_consoles\""; }
run_expect "disk init: tag, ro_disk and consoles from the command line" 0 "tag=t-1.x ro_disk=/dev/vdb consoles=ttyS0,hvc0" \
  dparse 'console=ttyS0 root=/dev/vda minivmm.tag=t-1.x minivmm.ro_disk=/dev/vdb console=hvc0'
run_expect "disk init: the default tag" 0 "tag=default ro_disk= consoles=" dparse 'root=/dev/vda'
run_expect "disk init: a tag with a slash is refused" 1 "" in_init disk_init.sh 'tag_ok "a/b"'
run_expect "disk init: a tag starting with a dot is refused" 1 "" in_init disk_init.sh 'tag_ok ".hidden"'
run_expect "disk init: a plain tag is accepted" 0 "" in_init disk_init.sh 'tag_ok "virtio-pci_1.2"'
printf 'keep' >"$tmp/not-a-disk"
run_expect "disk init: a ro_disk that is no block device is reported, not written" 0 "MINIVMM-RO-DISK-MISSING=$tmp/not-a-disk" \
  in_init disk_init.sh "probe_ro_disk $tmp/not-a-disk"
bad=''; [ "$(cat "$tmp/not-a-disk")" = keep ] || bad="the file changed"
result "disk init: the probe left the non-disk alone" "$bad"

# report_msi on a fake sysfs and /proc/interrupts: two CPUs' counts summed,
# the chip column after them; a function without msi_irqs is left out.
msi=$tmp/msi
mkdir -p "$msi/pci/0000:00:01.0/msi_irqs" "$msi/pci/0000:00:03.0/msi_irqs" "$msi/pci/0000:00:00.0"
touch "$msi/pci/0000:00:01.0/msi_irqs/12" "$msi/pci/0000:00:01.0/msi_irqs/13" \
  "$msi/pci/0000:00:03.0/msi_irqs/14" "$msi/pci/0000:00:03.0/msi_irqs/15"
cat >"$msi/interrupts" <<'EOF_INTERRUPTS'
           CPU0       CPU1
 11:       2291       2000     GICv3  27 Level     arch_timer
 12:          0          0   ITS-MSI 16384 Edge      virtio0-config
 13:          1          0   ITS-MSI 16385 Edge      virtio0-control
 14:          0          0   ITS-MSI 24576 Edge      virtio2-config
 15:        150          7   ITS-MSI 24577 Edge      virtio2-req.0
IPI0:        30         25       Rescheduling interrupts
EOF_INTERRUPTS
run_expect "disk init: MSI vectors, interrupts and chip per PCI function" 0 \
  "MINIVMM-PCI-MSI=0000:00:01.0=2/1/ITS-MSI,0000:00:03.0=2/157/ITS-MSI" \
  in_init disk_init.sh "report_msi $msi/pci $msi/interrupts"
run_expect "disk init: no PCI functions with MSI" 0 "MINIVMM-PCI-MSI=none" \
  in_init disk_init.sh "report_msi $msi/no-such-dir $msi/interrupts"

echo
echo "test_disk_scripts: $cases cases, $wrong wrong, $skipped skipped"
[ "$wrong" -eq 0 ]
