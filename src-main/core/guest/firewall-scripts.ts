// Runs in: plain Node (core).
import { FIREWALL_PROBE_IP, FIREWALL_PROBE_PORT, probeBody } from '../firewall/probe';
import { GUEST_PATH } from './root-script';

/**
 * firewall-scripts are the guest-side shell scripts of the firewall setup
 * hooks (setup.ts): what they install, write and check in the guest.
 */

/** Guest-side addresses, as QEMU's argv gives them (qemu/argv.ts GUEST_GATEWAY_IP). */
const PROXY_IP = '10.0.2.100';
const PROXY_PORT = 1080;
const REDSOCKS_PORT = 12345;
/** ROUTE_LINK is the dummy link that carries the guest's last-resort default route. */
const ROUTE_LINK = 'xray0';
/** ROUTE_METRIC ranks Xray's default route below any a network manager adds. */
const ROUTE_METRIC = 65000;

/** Exit codes the scripts use to say why they failed. */
export const EXIT_NO_APT = 10;
export const EXIT_INSTALL_FAILED = 11;

/**
 * INSTALL_SCRIPT installs redsocks, iptables and curl (the verify hook's
 * probe client) when one is missing, with apt through the firewall's own
 * proxy (socks5h: the host resolves the names).
 */
export const INSTALL_SCRIPT = `set -u
${GUEST_PATH}
command -v redsocks >/dev/null 2>&1 && command -v iptables >/dev/null 2>&1 && command -v curl >/dev/null 2>&1 && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "redsocks, iptables or curl is missing and this guest has no apt-get" >&2
  exit ${EXIT_NO_APT}
fi
apt_proxy() {
  DEBIAN_FRONTEND=noninteractive apt-get -q \\
    -o Acquire::http::Proxy=socks5h://${PROXY_IP}:${PROXY_PORT} \\
    -o Acquire::https::Proxy=socks5h://${PROXY_IP}:${PROXY_PORT} "$@"
}
apt_proxy install -y redsocks iptables curl && exit 0
apt_proxy update && apt_proxy install -y redsocks iptables curl && exit 0
exit ${EXIT_INSTALL_FAILED}
`;

/**
 * FIREWALL_SCRIPT is installed in the guest as /usr/local/sbin/xray-firewall
 * and run at every boot by xray-firewall.service. It rebuilds everything it
 * owns from scratch, so running it again is harmless.
 *
 * Route: under restrict=on QEMU's DHCP hands out no gateway, and a connect()
 * to an address without a route fails ("Network is unreachable") before
 * iptables sees a packet. So a dummy link that no network manager owns
 * carries a last-resort default route: DHCP renewals, networkd restarts,
 * netplan and NetworkManager leave it alone (they manage their own links),
 * and every outside IPv4 address becomes routable to the redirection below.
 * What it routes and is not redirected (UDP, ICMP) goes nowhere.
 *
 * Redirect: only SYN packets are redirected. When the first nat rule loads
 * conntrack, connections already open (the SSH session running this) are
 * picked up mid-stream as new, and redirecting their packets would cut them.
 *
 * IPv6: QEMU runs with ipv6=off, so the guest has no IPv6 route and such
 * connections fail at once; should something add one, outgoing IPv6 TCP is
 * refused with a reset rather than left to time out.
 */
const FIREWALL_SCRIPT = `#!/bin/sh
# xray-firewall (written by Xray): send every TCP connection through redsocks.
set -e
${GUEST_PATH}
ip link show ${ROUTE_LINK} >/dev/null 2>&1 || ip link add ${ROUTE_LINK} type dummy
ip link set ${ROUTE_LINK} up
ip route replace default dev ${ROUTE_LINK} metric ${ROUTE_METRIC}
iptables -w -t nat -N XRAY 2>/dev/null || iptables -w -t nat -F XRAY
iptables -w -t nat -A XRAY -d ${PROXY_IP}/32 -j RETURN
iptables -w -t nat -A XRAY -d 127.0.0.0/8 -j RETURN
iptables -w -t nat -A XRAY -p tcp --syn -j REDIRECT --to-ports ${REDSOCKS_PORT}
iptables -w -t nat -C OUTPUT -p tcp -j XRAY 2>/dev/null || iptables -w -t nat -I OUTPUT 1 -p tcp -j XRAY
if command -v ip6tables >/dev/null 2>&1; then
  ip6tables -w -N XRAY 2>/dev/null || ip6tables -w -F XRAY
  ip6tables -w -A XRAY -o lo -j RETURN
  ip6tables -w -A XRAY -p tcp -j REJECT --reject-with tcp-reset
  ip6tables -w -C OUTPUT -p tcp -j XRAY 2>/dev/null || ip6tables -w -I OUTPUT 1 -p tcp -j XRAY
fi
`;

const FIREWALL_UNIT = `# Written by Xray: restores the redirection to redsocks at boot.
[Unit]
Description=Xray firewall: route outside addresses and send all TCP through redsocks
DefaultDependencies=no
After=local-fs.target
Before=network-pre.target
Wants=network-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/xray-firewall

[Install]
WantedBy=multi-user.target
`;

const REDSOCKS_CONF = `// Written by Xray: every redirected TCP connection goes to the VM's firewall.
base {
  log_debug = off;
  log_info = on;
  log = "syslog:daemon";
  daemon = on;
  user = redsocks;
  group = redsocks;
  redirector = iptables;
}
redsocks {
  local_ip = 127.0.0.1;
  local_port = ${REDSOCKS_PORT};
  ip = ${PROXY_IP};
  port = ${PROXY_PORT};
  type = socks5;
}
`;

const RESOLV_CONF = `# Written by Xray: DNS goes to the VM's firewall, over TCP (use-vc).
nameserver ${PROXY_IP}
options use-vc
`;

/** NETWORKD_UNMANAGED keeps systemd-networkd (and netplan's networkd backend) off the route link; 00- sorts first. */
const NETWORKD_UNMANAGED = `# Written by Xray: ${ROUTE_LINK} carries Xray's default route; leave it alone.
[Match]
Name=${ROUTE_LINK}

[Link]
Unmanaged=yes
`;

/** NM_UNMANAGED keeps NetworkManager off the route link. */
const NM_UNMANAGED = `# Written by Xray: ${ROUTE_LINK} carries Xray's default route; leave it alone.
[device-xray-route]
match-device=interface-name:${ROUTE_LINK}
managed=0
`;

/**
 * APPLY_SCRIPT writes redsocks' config, the firewall script and its unit,
 * keeps the network managers off the route link, and writes a static
 * resolv.conf that DHCP clients, networkd, resolved and NetworkManager leave
 * alone; then it applies the route and chain and restarts redsocks.
 */
export const APPLY_SCRIPT = `set -eu
${GUEST_PATH}
cat >/etc/redsocks.conf <<'XRAY_EOF'
${REDSOCKS_CONF}XRAY_EOF
cat >/usr/local/sbin/xray-firewall <<'XRAY_EOF'
${FIREWALL_SCRIPT}XRAY_EOF
chmod 0755 /usr/local/sbin/xray-firewall
cat >/etc/systemd/system/xray-firewall.service <<'XRAY_EOF'
${FIREWALL_UNIT}XRAY_EOF
if [ -e /lib/systemd/system/systemd-resolved.service ] || [ -e /usr/lib/systemd/system/systemd-resolved.service ]; then
  systemctl disable --now systemd-resolved.service >/dev/null 2>&1 || true
fi
mkdir -p /etc/systemd/network
cat >/etc/systemd/network/00-xray-route.network <<'XRAY_EOF'
${NETWORKD_UNMANAGED}XRAY_EOF
if [ -d /etc/NetworkManager ]; then
  mkdir -p /etc/NetworkManager/conf.d
  printf '[main]\\ndns=none\\n' >/etc/NetworkManager/conf.d/90-xray-dns.conf
  cat >/etc/NetworkManager/conf.d/90-xray-route.conf <<'XRAY_EOF'
${NM_UNMANAGED}XRAY_EOF
fi
mkdir -p /etc/dhcp/dhclient-enter-hooks.d
printf '# Written by Xray: keep the resolver pointed at the firewall.\\nmake_resolv_conf() { :; }\\n' >/etc/dhcp/dhclient-enter-hooks.d/xray-keep-resolv-conf
for network in /etc/systemd/network/*.network /lib/systemd/network/*.network; do
  [ -e "$network" ] || continue
  mkdir -p "/etc/systemd/network/$(basename "$network").d"
  printf '[DHCPv4]\\nUseDNS=no\\n\\n[IPv6AcceptRA]\\nUseDNS=no\\n' >"/etc/systemd/network/$(basename "$network").d/90-xray-dns.conf"
done
rm -f /etc/resolv.conf
cat >/etc/resolv.conf <<'XRAY_EOF'
${RESOLV_CONF}XRAY_EOF
systemctl daemon-reload
systemctl --quiet enable xray-firewall.service redsocks.service
/usr/local/sbin/xray-firewall
systemctl restart redsocks.service
`;

/**
 * verifyScript checks, without changing anything, that redsocks runs, the
 * XRAY chain redirects TCP to it from OUTPUT, outside addresses have Xray's
 * route, all of it comes back at boot, and the resolver uses the firewall
 * over TCP. When all that holds it makes a real connection to an outside
 * address, the firewall probe, which only the VM's firewall answers with
 * `nonce`. It prints one line per problem and exits 1 if any.
 */
export function verifyScript(nonce: string): string {
  const url = `http://${FIREWALL_PROBE_IP}:${FIREWALL_PROBE_PORT}/${nonce}`;
  return `${GUEST_PATH}
problems=0
problem() { echo "$1"; problems=1; }
systemctl is-active --quiet redsocks.service || problem "redsocks is not running"
systemctl is-enabled --quiet redsocks.service || problem "redsocks does not start at boot"
systemctl is-enabled --quiet xray-firewall.service || problem "xray-firewall.service does not restore the rules at boot"
chain=$(iptables -w -t nat -S XRAY 2>/dev/null) || chain=""
echo "$chain" | grep -q -- "-d ${PROXY_IP}/32 -j RETURN" || problem "the XRAY chain does not exempt the firewall's address"
echo "$chain" | grep -q -- "-j REDIRECT --to-ports ${REDSOCKS_PORT}" || problem "the XRAY chain does not redirect TCP to redsocks"
iptables -w -t nat -C OUTPUT -p tcp -j XRAY 2>/dev/null || problem "the nat OUTPUT chain does not send TCP to XRAY"
ip -4 route show default dev ${ROUTE_LINK} 2>/dev/null | grep -q . || problem "outside addresses have no route (no default route on ${ROUTE_LINK})"
servers=$(grep -E '^[[:space:]]*nameserver' /etc/resolv.conf 2>/dev/null | awk '{print $2}' | tr '\\n' ' ')
[ "$servers" = "${PROXY_IP} " ] || problem "/etc/resolv.conf does not point only at ${PROXY_IP}"
grep -Eq '^[[:space:]]*options.*use-vc' /etc/resolv.conf 2>/dev/null || problem "/etc/resolv.conf lacks options use-vc"
if [ $problems = 0 ]; then
  if command -v curl >/dev/null 2>&1; then
    body=$(curl -s -m 10 '${url}' 2>/dev/null)
  elif command -v wget >/dev/null 2>&1; then
    body=$(wget -q -T 10 -O - '${url}' 2>/dev/null)
  else
    body="no curl or wget"
  fi
  [ "$body" = "${probeBody(nonce).trim()}" ] || problem "a connection to an outside address (${FIREWALL_PROBE_IP}) did not reach the firewall"
fi
exit $problems
`;
}
