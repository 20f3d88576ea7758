# shellcheck shell=sh
# Nested harness: virtio-net in L2 (all three architectures; POSIX sh, so it
# runs under x86's bash and the busybox sh of the arm64/riscv64 L1s). Needs
# VMM, NET_KERNEL, NET_INITRD (build_initramfs.sh --init scripts/guest/net_init.sh
# with the kernel's virtio_net modules), NET_CMDLINE (console and panic
# words) and L2_TIMEOUT.
#
# l2_net user|tap [VMM-ARGS...]: L1 serves a random 1 MiB file with busybox
# httpd; the guest (net_init.sh) gets its address (user: DHCP from libslirp,
# 10.0.2.15; tap: static 192.168.77.2/24 on a TAP L1 created with tunctl and
# addressed 192.168.77.1), fetches the file (user: via 10.0.2.2, the host's
# loopback) and checks its sha256, then serves a page on port 80. L1 fetches
# that page (user: through --net user,hostfwd=tcp:127.0.0.1:8090-:80; tap:
# straight at 192.168.77.2), then puts the "go" file the guest polls for,
# and the guest powers off. Passes when vmm exits 0 on MINIVMM-NET-DONE, the
# guest printed MINIVMM-NET-FETCH-OK and L1 got the guest's page.
#
# The user step also checks that a hostfwd port that is taken (httpd's) is
# refused with exit 2 before the guest boots.
#
# Steps run in shells of their own: only the function travels, so its
# constants live inside it.
l2_net() {
  NET_HTTP_PORT=8089 NET_FWD_PORT=8090 NET_TAP=mvtap0
  mode=$1
  shift
  www=$(mktemp -d /tmp/minivmm-www.XXXXXX) || return 1
  log=$www.console
  head -c 1048576 /dev/urandom >"$www/blob"
  sha=$(sha256sum "$www/blob" | cut -d' ' -f1)
  ip link set lo up
  case $mode in
    user)
      bind=127.0.0.1 host=10.0.2.2
      net="user,hostfwd=tcp:127.0.0.1:$NET_FWD_PORT-:80"
      page=http://127.0.0.1:$NET_FWD_PORT/
      words="minivmm.net=user"
      ;;
    tap)
      busybox tunctl -t "$NET_TAP" >/dev/null || { echo "l2_net: tunctl -t $NET_TAP failed"; return 1; }
      ip addr add 192.168.77.1/24 dev "$NET_TAP"
      ip link set "$NET_TAP" up
      bind=192.168.77.1 host=192.168.77.1
      net="tap=$NET_TAP"
      page=http://192.168.77.2/
      words="minivmm.net=tap minivmm.ip=192.168.77.2/24"
      ;;
    *) echo "l2_net: user or tap"; return 2 ;;
  esac
  busybox httpd -f -p "$bind:$NET_HTTP_PORT" -h "$www" &
  httpd_pid=$!
  refused=1
  if [ "$mode" = user ]; then
    sleep 1  # httpd binds in the background; the check below needs the port taken
    echo "+ vmm --net user,hostfwd=tcp:127.0.0.1:$NET_HTTP_PORT-:80 (the port httpd holds)"
    "$VMM" --kernel "$NET_KERNEL" --initrd "$NET_INITRD" --memory 256M --timeout 30 \
      --net "user,hostfwd=tcp:127.0.0.1:$NET_HTTP_PORT-:80" >"$log.taken" 2>&1
    rc=$?
    cat "$log.taken"
    if [ "$rc" -eq 2 ] && grep -q "cannot listen" "$log.taken"; then
      echo "NET-L1-TAKEN-PORT-REFUSED rc=2"
    else
      echo "l2_net: a taken hostfwd port gave rc=$rc, expected 2"
      refused=0
    fi
  fi
  cmdline="$NET_CMDLINE $words minivmm.fetch=http://$host:$NET_HTTP_PORT/blob minivmm.sha=$sha"
  cmdline="$cmdline minivmm.go=http://$host:$NET_HTTP_PORT/go"
  echo "+ vmm --net $net $* --cmdline '$cmdline' --expect MINIVMM-NET-DONE"
  { "$VMM" --memory 256M --kernel "$NET_KERNEL" --initrd "$NET_INITRD" --console stdio \
      --timeout "$L2_TIMEOUT" --boot-report --expect MINIVMM-NET-DONE --cmdline "$cmdline" \
      --net "$net" "$@" 2>&1
    echo $? >"$log.rc"; } | tee "$log" &
  vmm_pipe=$!
  n=0
  while ! grep -q -e MINIVMM-NET-SERVING -e MINIVMM-NET-FAIL "$log" 2>/dev/null && [ ! -f "$log.rc" ]; do
    n=$((n + 1))
    [ "$n" -le "$L2_TIMEOUT" ] || break
    sleep 1
  done
  fetched=0
  if grep -q MINIVMM-NET-SERVING "$log"; then
    # (no -T: it crashes Debian bookworm's busybox 1.35 wget; the step timeout bounds it)
    if text=$(busybox wget -q -O - "$page"); then
      case $text in
        *MINIVMM-GUEST-PAGE*) fetched=1; echo "NET-L1-FETCHED-GUEST-PAGE $page: $text" ;;
        *) echo "l2_net: $page answered '$text'" ;;
      esac
    else
      echo "l2_net: L1 could not fetch $page"
    fi
  fi
  echo go >"$www/go"
  n=0
  while [ ! -f "$log.rc" ] && [ "$n" -le "$L2_TIMEOUT" ]; do n=$((n + 1)); sleep 1; done
  wait "$vmm_pipe"
  rc=$(cat "$log.rc" 2>/dev/null || echo none)
  kill "$httpd_pid" 2>/dev/null
  [ "$mode" != tap ] || busybox tunctl -d "$NET_TAP" >/dev/null
  echo "l2_net $mode: vmm rc=$rc fetched-guest-page=$fetched taken-port-refused=$refused"
  [ "$rc" = 0 ] && [ "$fetched" = 1 ] && [ "$refused" = 1 ] && grep -q MINIVMM-NET-FETCH-OK "$log"
}
