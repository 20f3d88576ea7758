#!/bin/sh
# /init of the virtio-net proof's L2 guest (busybox; scripts/nested/lib_net_l2.sh
# builds the initramfs with the virtio_net modules). From the kernel command line:
#   minivmm.net=user   udhcpc on eth0 (libslirp's DHCP: 10.0.2.15)
#   minivmm.net=tap    the static minivmm.ip=ADDR/PREFIX
#   minivmm.fetch=URL  a file to fetch, minivmm.sha=HEX its sha256
#   minivmm.go=URL     polled until it answers: the host has fetched our page
# The guest then serves a page on port 80 (busybox httpd) holding
# MINIVMM-GUEST-PAGE, waits for the host's go, and powers off. Every stage
# prints a MINIVMM-NET-* line; any failure prints MINIVMM-NET-FAIL: <why>.
#
#   minivmm.bench=MIB  instead: the network benchmark's guest
#                      (scripts/nested/lib_bench_net.sh drives it from L1).
#                      Once the address is up it serves, each on every
#                      connection (busybox nc -ll -e):
#                        5001 sink: says READY, stores all it receives in
#                             /tmp (tmpfs: busybox wc -c reads a byte at a
#                             time and would cap the figure), answers the
#                             byte count and closes
#                        5002 source: sends MIB MiB of zeros and closes
#                      prints MINIVMM-NET-BENCH-READY, and powers off after
#                      one connection to 5003 (MINIVMM-NET-DONE).
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

say() { echo "$*" >/dev/console 2>/dev/null || echo "$*"; }
fail() { say "MINIVMM-NET-FAIL: $*"; poweroff -f; sleep 5; reboot -f; }

net='' ip='' fetch='' sha='' go='' bench=''
for arg in $(cat /proc/cmdline); do
  case $arg in
    minivmm.net=*) net=${arg#*=} ;;
    minivmm.ip=*) ip=${arg#*=} ;;
    minivmm.fetch=*) fetch=${arg#*=} ;;
    minivmm.sha=*) sha=${arg#*=} ;;
    minivmm.go=*) go=${arg#*=} ;;
    minivmm.bench=*) bench=${arg#*=} ;;
  esac
done

dir=/lib/modules/minivmm
if [ -f $dir/load.order ]; then
  for m in $(cat $dir/load.order); do
    out=$(insmod $dir/$m.ko 2>&1) || case $out in *"File exists"*) ;; *) fail "insmod $m: $out" ;; esac
  done
fi
n=0
while [ ! -e /sys/class/net/eth0 ]; do
  n=$((n + 1)); [ $n -le 15 ] || fail "no eth0 after 15s (virtio_net did not probe)"
  sleep 1
done
say "MINIVMM-NET-LINK mac=$(cat /sys/class/net/eth0/address)"
ip link set lo up
ip link set eth0 up

case $net in
  user)
    cat >/udhcpc.sh <<'SCRIPT'
#!/bin/sh
[ "$1" = bound ] || [ "$1" = renew ] || exit 0
ip addr flush dev "$interface"
ip addr add "$ip/${mask:-24}" dev "$interface"
[ -z "$router" ] || ip route add default via "${router%% *}" dev "$interface"
echo "MINIVMM-NET-DHCP ip=$ip router=$router dns=$dns" >/dev/console
SCRIPT
    chmod +x /udhcpc.sh
    udhcpc -i eth0 -s /udhcpc.sh -n -q -t 10 -T 2 >/dev/null 2>&1 || fail "udhcpc got no lease"
    ;;
  tap)
    [ -n "$ip" ] || fail "minivmm.net=tap needs minivmm.ip="
    ip addr add "$ip" dev eth0 || fail "ip addr add $ip"
    say "MINIVMM-NET-STATIC ip=$ip"
    ;;
  *) fail "minivmm.net= must be user or tap" ;;
esac

if [ -n "$bench" ]; then
  case $bench in *[!0-9]*|'') fail "minivmm.bench=$bench: want MiB" ;; esac
  # nc -e runs these with the connection as stdin and stdout. The sink's
  # file is per connection, and gone before it answers, so a pass never
  # leaves 256 MiB in the guest's RAM.
  cat >/bin/bench-sink <<'SCRIPT'
#!/bin/sh
f=/tmp/sink.$$
echo READY
cat >"$f"
stat -c %s "$f"
rm -f "$f"
SCRIPT
  cat >/bin/bench-source <<SCRIPT
#!/bin/sh
exec dd if=/dev/zero bs=64k count=$((bench * 16)) 2>/dev/null
SCRIPT
  chmod +x /bin/bench-sink /bin/bench-source
  nc -ll -p 5001 -e /bin/bench-sink </dev/null >/dev/null 2>&1 &
  nc -ll -p 5002 -e /bin/bench-source </dev/null >/dev/null 2>&1 &
  # READY only once both listen (ports 0x1389, 0x138A in state 0A; nc binds
  # IPv6, dual-stack): with user networking L1's connect succeeds at
  # libslirp before the guest has answered, and a port not yet bound would
  # be a closed connection there.
  n=0
  until [ "$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -c -e ':1389 0*:0000 0A' -e ':138A 0*:0000 0A')" = 2 ]; do
    n=$((n + 1)); [ $n -le 100 ] || fail "nc did not listen on 5001 and 5002"
    sleep 0.1
  done
  say "MINIVMM-NET-BENCH-READY mib=$bench"
  # stdin at EOF: nc half-closes at once and returns when L1 closes.
  nc -l -p 5003 </dev/null >/dev/null 2>&1 || fail "nc -l -p 5003"
  say "MINIVMM-NET-DONE"
  poweroff -f
fi

if [ -n "$fetch" ]; then
  wget -q -O /tmp/fetched "$fetch" || fail "wget $fetch"
  got=$(sha256sum /tmp/fetched | cut -d' ' -f1)
  [ "$got" = "$sha" ] || fail "sha256 of $fetch is $got, expected $sha"
  say "MINIVMM-NET-FETCH-OK bytes=$(wc -c </tmp/fetched) sha256=$got"
fi

mkdir -p /www
echo "MINIVMM-GUEST-PAGE from $(cat /sys/class/net/eth0/address)" >/www/index.html
httpd -p 80 -h /www || fail "httpd"
say "MINIVMM-NET-SERVING port=80"
if [ -n "$go" ]; then
  n=0
  until wget -q -O /tmp/go "$go" 2>/dev/null; do
    n=$((n + 1)); [ $n -le 300 ] || fail "the host never said go ($go)"
    sleep 1
  done
fi
say "MINIVMM-NET-DONE"
poweroff -f
