# shellcheck shell=sh
# Nested harness, all three architectures (POSIX sh: L1 is busybox on
# aarch64/riscv64): `vmm exec` with a Debian kernel as L2, L1's own root as
# the guest's root, and shares served by minivmm itself (virtio-fs or 9p; the
# generated initramfs loads the kernel's modules for them).
#
# Needs VMM, EXEC_KERNEL, EXEC_MODULES (the kernel's /lib/modules tree) and
# L2_TIMEOUT; EXEC_9P_KERNEL and EXEC_9P_MODULES, when set, are used for 9p
# instead (Debian's cloud kernel, quick to boot, has no 9p).

# l2_exec_shares FS: one boot whose command writes "out" to stdout and "err"
# to stderr and exits 7, after it
#   - wrote a file into a writable share (the host must see it, owned by the
#     user who ran vmm),
#   - failed to write into a read-only share (the host must not see it),
#   - could not follow a relative and an absolute symlink out of the share
#     (their targets exist on L1, but not in the guest: its /tmp is a tmpfs).
l2_exec_shares() {
  fs=$1
  rw=/tmp/exec-rw-$fs ro=/tmp/exec-ro-$fs secret=/tmp/exec-secret-$fs
  rm -rf "$rw" "$ro" "$secret"
  mkdir -p "$rw" "$ro" "$secret"
  echo SECRET >"$secret/file"
  ln -s "../exec-secret-$fs" "$rw/rel-escape"
  ln -s "$secret/file" "$rw/abs-escape"
  echo keep >"$ro/keep"
  script="echo out; echo err >&2
    echo written-by-guest >$rw/from-guest || echo MINIVMM-RW-WRITE-FAILED >&2
    if echo x 2>/dev/null >$ro/new; then echo MINIVMM-RO-WRITE-SUCCEEDED >&2; fi
    grep -q keep $ro/keep || echo MINIVMM-RO-UNREADABLE >&2
    if cat $rw/rel-escape/file 2>/dev/null; then echo MINIVMM-ESCAPED-REL >&2; fi
    if cat $rw/abs-escape 2>/dev/null; then echo MINIVMM-ESCAPED-ABS >&2; fi
    [ -L $rw/rel-escape ] || echo MINIVMM-NOT-A-SYMLINK >&2
    exit 7"
  kernel=$EXEC_KERNEL modules=$EXEC_MODULES
  if [ "$fs" = 9p ] && [ -n "${EXEC_9P_KERNEL:-}" ]; then
    kernel=$EXEC_9P_KERNEL modules=$EXEC_9P_MODULES
  fi
  # As EXEC_USER (uid:gid) when set: the share's files must then be that
  # user's, not root's (vmm, the kernel and modules are copied where it can
  # read them).
  as_user= vmm=$VMM
  if [ -n "${EXEC_USER:-}" ]; then
    home=/tmp/exec-home-$fs
    rm -rf "$home"
    mkdir -p "$home/modules"
    mkdir -p "$home/bin"
    { cp "$kernel" "$home/kernel" && cp -r "$modules/." "$home/modules/" && cp "$VMM" "$home/bin/vmm" &&
      cp "$(dirname "$VMM")/vmm-exec-init" "$home/bin/"; } || { echo "l2_exec_shares: copying failed"; return 1; }
    kernel=$home/kernel modules=$home/modules vmm=$home/bin/vmm
    chown -R "$EXEC_USER" "$home" "$rw" "$ro"
    chmod 0666 /dev/kvm
    as_user="setpriv --reuid=${EXEC_USER%:*} --regid=${EXEC_USER#*:} --clear-groups env HOME=$home"
  fi
  echo "+ ${as_user:+$as_user }vmm exec --kernel $kernel --fs $fs --share $rw --share $ro,ro -- sh -c '...; exit 7'"
  start=$(date +%s)
  rc=0
  # shellcheck disable=SC2086 # as_user is words
  $as_user "$vmm" exec --kernel "$kernel" --modules "$modules" --fs "$fs" --timeout "$L2_TIMEOUT" \
    --share "$rw" --share "$ro,ro" -- sh -c "$script" >/tmp/exec-$fs.out 2>/tmp/exec-$fs.err </dev/null || rc=$?
  echo "vmm exec took $(($(date +%s) - start)) s; exit status $rc"
  echo "--- stdout:"; cat /tmp/exec-$fs.out; echo "--- stderr:"; cat /tmp/exec-$fs.err; echo "---"
  ok=1
  [ "$rc" = 7 ] || { echo "l2_exec_shares: exit status $rc, expected the command's 7"; ok=0; }
  [ "$(cat /tmp/exec-$fs.out)" = out ] || { echo "l2_exec_shares: stdout is not exactly 'out'"; ok=0; }
  [ "$(cat /tmp/exec-$fs.err)" = err ] || { echo "l2_exec_shares: stderr is not exactly 'err'"; ok=0; }
  [ "$(cat "$rw/from-guest" 2>/dev/null)" = written-by-guest ] ||
    { echo "l2_exec_shares: the guest's file is not in $rw"; ok=0; }
  owner=$(id -u):$(id -g)
  [ -z "${EXEC_USER:-}" ] || owner=$EXEC_USER
  if [ -e "$rw/from-guest" ] && [ "$(stat -c %u:%g "$rw/from-guest")" != "$owner" ]; then
    echo "l2_exec_shares: $rw/from-guest is owned by $(stat -c %u:%g "$rw/from-guest"), not $owner (who ran vmm)"
    ok=0
  fi
  [ ! -e "$ro/new" ] || { echo "l2_exec_shares: the read-only share was written"; ok=0; }
  [ "$ok" = 1 ] && echo "MINIVMM-EXEC-OK fs=$fs owner=$owner"
  [ "$ok" = 1 ]
}

# l2_exec_missing_command: a command that does not exist gives 127 and says so.
l2_exec_missing_command() {
  echo "+ vmm exec -- minivmm-no-such-command"
  rc=0
  "$VMM" exec --kernel "$EXEC_KERNEL" --modules "$EXEC_MODULES" --timeout "$L2_TIMEOUT" \
    -- minivmm-no-such-command >/tmp/exec-127.out 2>/tmp/exec-127.err </dev/null || rc=$?
  cat /tmp/exec-127.out /tmp/exec-127.err
  [ "$rc" = 127 ] || { echo "l2_exec_missing_command: exit status $rc, expected 127"; return 1; }
  grep -q minivmm-no-such-command /tmp/exec-127.err ||
    { echo "l2_exec_missing_command: stderr does not name the command"; return 1; }
  echo "MINIVMM-EXEC-127-OK"
}

# l2_exec_shell: no command, stdin not a terminal: the user's shell reads its
# commands from stdin (as `ssh host < script` does), its output comes back and
# vmm exits with the shell's status.
l2_exec_shell() {
  echo "+ printf 'echo MINIVMM-SHELL-\$((6 * 7))\nexit 3\n' | vmm exec"
  rc=0
  printf 'echo MINIVMM-SHELL-$((6 * 7))\nexit 3\n' |
    SHELL=/bin/sh "$VMM" exec --kernel "$EXEC_KERNEL" --modules "$EXEC_MODULES" --timeout "$L2_TIMEOUT" \
      >/tmp/exec-shell.out 2>/tmp/exec-shell.err || rc=$?
  cat /tmp/exec-shell.out /tmp/exec-shell.err
  [ "$rc" = 3 ] || { echo "l2_exec_shell: exit status $rc, expected the shell's 3"; return 1; }
  [ "$(cat /tmp/exec-shell.out)" = MINIVMM-SHELL-42 ] ||
    { echo "l2_exec_shell: stdout is not exactly the command's output"; return 1; }
  echo "MINIVMM-EXEC-SHELL-OK"
}

# l2_virtiofs_root: a stock kernel that builds virtio-fs in (trixie's) mounts
# its root straight from a share, no initramfs (rootfstype=virtiofs
# root=TAG): a busybox root made here from L1's static busybox, whose /init
# writes a file and names the root's file system type; the file must then be
# in the directory on L1.
l2_virtiofs_root() {
  root=/tmp/virtiofs-root
  rm -rf "$root"
  mkdir -p "$root/bin" "$root/proc" "$root/dev"
  # busybox's own `command -v busybox` may answer just the name: look for the file.
  bb=
  for f in /bin/busybox /usr/bin/busybox /sbin/busybox; do [ -f "$f" ] && { bb=$f; break; }; done
  [ -n "$bb" ] && cp "$bb" "$root/bin/busybox" || { echo "l2_virtiofs_root: no busybox file in L1"; return 1; }
  ln -s busybox "$root/bin/sh"
  cat >"$root/init" <<'INIT'
#!/bin/sh
/bin/busybox mount -t proc proc /proc
echo written-by-guest >/written
/bin/busybox sync
echo "MINIVMM-VIRTIOFS-ROOT-OK type=$(/bin/busybox awk '$2 == "/" {t = $3} END {print t}' /proc/mounts)"
/bin/busybox poweroff -f
INIT
  chmod +x "$root/init"
  echo "+ vmm --kernel $EXEC_KERNEL --share $root,tag=vroot --cmdline 'console=hvc0 rootfstype=virtiofs root=vroot rw init=/init'"
  "$VMM" --kernel "$EXEC_KERNEL" --share "$root,tag=vroot" --timeout "$L2_TIMEOUT" \
    --cmdline "console=hvc0 panic=-1 rootfstype=virtiofs root=vroot rw init=/init" \
    --expect 'MINIVMM-VIRTIOFS-ROOT-OK type=virtiofs' || { echo "l2_virtiofs_root: the boot failed"; return 1; }
  [ "$(cat "$root/written" 2>/dev/null)" = written-by-guest ] ||
    { echo "l2_virtiofs_root: the guest's /written is not in $root"; return 1; }
  echo "MINIVMM-VIRTIOFS-ROOT-FILE-OK"
}
