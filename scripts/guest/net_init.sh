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
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

say() { echo "$*" >/dev/console 2>/dev/null || echo "$*"; }
fail() { say "MINIVMM-NET-FAIL: $*"; poweroff -f; sleep 5; reboot -f; }

net='' ip='' fetch='' sha='' go=''
for arg in $(cat /proc/cmdline); do
  case $arg in
    minivmm.net=*) net=${arg#*=} ;;
    minivmm.ip=*) ip=${arg#*=} ;;
    minivmm.fetch=*) fetch=${arg#*=} ;;
    minivmm.sha=*) sha=${arg#*=} ;;
    minivmm.go=*) go=${arg#*=} ;;
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
