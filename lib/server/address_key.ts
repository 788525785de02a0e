/**
 * The key under which per-address limits count a client: {@linkcode addressKey}.
 *
 * @module
 */

/**
 * The key that per-address limits (failed logins, connections) count a client under: an IPv4
 * address as it is, an IPv6 address as its /64 network, because one end site usually gets a
 * whole /64 and can pick any address in it. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`)
 * counts as its IPv4 address; a zone (`%eth0`) is dropped. Text that is no IP address is
 * returned as it is, lower-cased.
 *
 * @example
 * ```ts
 * import { addressKey } from "./address_key.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(addressKey("192.0.2.7"), "192.0.2.7");
 * assert.equal(addressKey("2001:db8:0:1::5"), "2001:db8:0:1::/64");
 * assert.equal(addressKey("2001:0DB8:0:1:ffff::9"), "2001:db8:0:1::/64");
 * assert.equal(addressKey("::ffff:192.0.2.7"), "192.0.2.7");
 * ```
 *
 * @param ip The client's address, as `NetAddr.hostname` gives it.
 * @returns The key of its IPv4 address or IPv6 /64 network.
 */
export function addressKey(ip: string): string {
  if (!ip.includes(":")) return ip;
  const groups = ipv6Groups(ip.toLowerCase().replace(/%.*$/, ""));
  if (!groups) return ip.toLowerCase();
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6] >> 8}.${groups[6] & 255}.${groups[7] >> 8}.${groups[7] & 255}`;
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, or `undefined` when it is none. */
function ipv6Groups(text: string): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === "") return [];
    const groups: number[] = [];
    const pieces = part.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i];
      if (i === pieces.length - 1 && piece.includes(".")) {
        const octets = piece.split(".").map((o) => (/^\d{1,3}$/.test(o) ? Number(o) : NaN));
        if (octets.length !== 4 || octets.some((o) => !(o <= 255))) return undefined;
        groups.push((octets[0] << 8) | octets[1], (octets[2] << 8) | octets[3]);
      } else if (/^[0-9a-f]{1,4}$/.test(piece)) groups.push(parseInt(piece, 16));
      else return undefined;
    }
    return groups;
  };
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  if (!head || !tail) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}
