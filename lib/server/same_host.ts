/**
 * Comparing IP addresses written differently (`::1` and `0:0:0:0:0:0:0:1`), for the check that
 * a data connection's peer is the control connection's peer.
 *
 * @module
 */

/**
 * Tells whether two IP address strings name the same host. IPv4-mapped IPv6 addresses equal
 * their IPv4 form; IPv6 zero runs and letter case do not matter.
 *
 * @param a An IP address.
 * @param b Another.
 * @returns `true` for the same address.
 */
export function sameHost(a: string, b: string): boolean {
  return canonical(a) === canonical(b);
}

function canonical(address: string): string {
  let host = address.toLowerCase();
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const zone = host.indexOf("%");
  if (zone >= 0) host = host.slice(0, zone);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host);
  if (mapped) return mapped[1];
  if (!host.includes(":")) return host;
  const [head, tail = ""] = host.split("::", 2);
  const left = head ? head.split(":") : [];
  const right = host.includes("::") ? (tail ? tail.split(":") : []) : [];
  const missing = 8 - left.length - right.length;
  const groups = host.includes("::")
    ? [...left, ...Array(Math.max(missing, 0)).fill("0"), ...right]
    : left;
  return groups.map((g) => g.replace(/^0+(?=.)/, "")).join(":");
}
