/**
 * Data-connection addresses in the control channel's text: the `227` reply of PASV and the `229`
 * reply of EPSV (RFC 959, RFC 2428), and the arguments of PORT and EPRT. Parsers accept what real
 * servers send and refuse what cannot be a TCP endpoint; formatters validate their input.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";

/** A TCP endpoint named in a PASV reply or a PORT argument. */
export interface HostPort {
  /** The host as an IP literal. */
  hostname: string;
  /** The TCP port (1–65535). */
  port: number;
}

/** A TCP endpoint named in an EPRT argument. */
export interface EprtAddress extends HostPort {
  /** The network protocol, from the EPRT family number (1 or 2). */
  family: "IPv4" | "IPv6";
}

/**
 * Formats a host and port as the six numbers of a PASV reply: `h1,h2,h3,h4,p1,p2`.
 *
 * @example Formatting
 * ```ts
 * import { formatPasvAddress } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatPasvAddress("127.0.0.1", 1025), "127,0,0,1,4,1");
 * ```
 *
 * @param host An IPv4 address (an IPv4-mapped IPv6 address is unmapped).
 * @param port The port (1–65535).
 * @returns The comma-separated numbers, without parentheses.
 * @throws {RangeError} When the host is not IPv4 or the port is out of range.
 */
export function formatPasvAddress(host: string, port: number): string {
  const octets = ipv4Octets(unmapIpv4(host));
  if (!octets) throw new RangeError(`Cannot format "${host}" for PASV: not an IPv4 address`);
  checkPort(port);
  return [...octets, port >> 8, port & 0xff].join(",");
}

/**
 * Finds the address in a `227` reply text. Accepts the numbers with or without parentheses,
 * spaces around the commas, and any text before and after them (RFC 1123 §4.1.2.6 asks clients
 * to scan for them).
 *
 * @example Parsing
 * ```ts
 * import { parsePasvReply } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * const address = parsePasvReply("Entering Passive Mode (127,0,0,1,4,1).");
 * assert.deepEqual(address, { hostname: "127.0.0.1", port: 1025 });
 * ```
 *
 * @param text The reply text (with or without the code).
 * @returns The host and port.
 * @throws {ProtocolError} When no six numbers are found or they are out of range.
 */
export function parsePasvReply(text: string): HostPort {
  const match = /(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)/.exec(text);
  if (!match) throw new ProtocolError(`Cannot parse PASV reply ${JSON.stringify(text)}`);
  return sixNumbers(match.slice(1), `PASV reply ${JSON.stringify(text)}`);
}

/**
 * Formats the port of an EPSV reply: `|||port|`.
 *
 * @example Formatting
 * ```ts
 * import { formatEpsvAddress } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatEpsvAddress(1025), "|||1025|");
 * ```
 *
 * @param port The port (1–65535).
 * @returns The delimited port, without parentheses.
 * @throws {RangeError} When the port is out of range.
 */
export function formatEpsvAddress(port: number): string {
  checkPort(port);
  return `|||${port}|`;
}

/**
 * Finds the port in a `229` reply text: `(<d><d><d>port<d>)`, where `<d>` is any printable
 * character used consistently (RFC 2428 §3). Text before and after the parentheses is ignored,
 * and so are the network protocol and address fields, which RFC 2428 wants empty.
 *
 * @example Parsing
 * ```ts
 * import { parseEpsvReply } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseEpsvReply("Entering Extended Passive Mode (|||1025|)"), 1025);
 * ```
 *
 * @param text The reply text (with or without the code).
 * @returns The port.
 * @throws {ProtocolError} When no delimited port is found or it is out of range.
 */
export function parseEpsvReply(text: string): number {
  const match = /\(([!-~])([^()]*?)\1([^()]*?)\1(\d+)\1\)/.exec(text);
  if (!match) throw new ProtocolError(`Cannot parse EPSV reply ${JSON.stringify(text)}`);
  const port = Number(match[4]);
  if (!validPort(port)) {
    throw new ProtocolError(`Port ${JSON.stringify(match[4])} out of range in EPSV reply`);
  }
  return port;
}

/**
 * Parses the argument of PORT: `h1,h2,h3,h4,p1,p2` (spaces around the commas tolerated).
 *
 * @example Parsing
 * ```ts
 * import { parsePortArgument } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parsePortArgument("127,0,0,1,4,1"), { hostname: "127.0.0.1", port: 1025 });
 * ```
 *
 * @param arg The argument.
 * @returns The host and port.
 * @throws {ProtocolError} When the argument is malformed or a number is out of range.
 */
export function parsePortArgument(arg: string): HostPort {
  const parts = arg.trim().split(",").map((p) => p.trim());
  if (parts.length !== 6 || parts.some((p) => !/^\d{1,3}$/.test(p))) {
    throw new ProtocolError(`Cannot parse PORT argument ${JSON.stringify(arg)}`);
  }
  return sixNumbers(parts, `PORT argument ${JSON.stringify(arg)}`);
}

/**
 * Formats the argument of PORT.
 *
 * @example Formatting
 * ```ts
 * import { formatPortArgument } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatPortArgument("127.0.0.1", 1025), "127,0,0,1,4,1");
 * ```
 *
 * @param hostname An IPv4 address (an IPv4-mapped IPv6 address is unmapped).
 * @param port The port (1–65535).
 * @returns The argument.
 * @throws {RangeError} When the host is not IPv4 or the port is out of range.
 */
export function formatPortArgument(hostname: string, port: number): string {
  return formatPasvAddress(hostname, port);
}

/**
 * Parses the argument of EPRT: `<d>family<d>address<d>port<d>` with family 1 (IPv4) or 2 (IPv6)
 * and `<d>` any printable character (RFC 2428 §2).
 *
 * @example Parsing
 * ```ts
 * import { parseEprtArgument } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * const address = parseEprtArgument("|2|::1|1025|");
 * assert.deepEqual(address, { hostname: "::1", port: 1025, family: "IPv6" });
 * ```
 *
 * @param arg The argument.
 * @returns The host, port and family.
 * @throws {ProtocolError} When the argument is malformed, the family unknown, the address
 * invalid for its family, or the port out of range.
 */
export function parseEprtArgument(arg: string): EprtAddress {
  const text = arg.trim();
  const delimiter = text[0];
  const fields = text.split(delimiter);
  if (
    !delimiter || delimiter < "!" || delimiter > "~" || /[0-9a-fA-F.:]/.test(delimiter) ||
    fields.length !== 5 || fields[0] !== "" || fields[4] !== ""
  ) {
    throw new ProtocolError(`Cannot parse EPRT argument ${JSON.stringify(arg)}`);
  }
  const [, familyField, hostname, portField] = fields;
  let family: "IPv4" | "IPv6";
  if (familyField === "1" && ipv4Octets(hostname)) family = "IPv4";
  else if (familyField === "2" && isIpv6(hostname)) family = "IPv6";
  else {
    throw new ProtocolError(
      `Cannot use EPRT family ${JSON.stringify(familyField)} with address ${
        JSON.stringify(hostname)
      }`,
    );
  }
  const port = /^\d{1,5}$/.test(portField) ? Number(portField) : NaN;
  if (!validPort(port)) {
    throw new ProtocolError(`Port ${JSON.stringify(portField)} out of range in EPRT argument`);
  }
  return { hostname, port, family };
}

/**
 * Formats the argument of EPRT for an IPv4 or IPv6 host.
 *
 * @example Formatting
 * ```ts
 * import { formatEprtArgument } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatEprtArgument("127.0.0.1", 1025), "|1|127.0.0.1|1025|");
 * assert.equal(formatEprtArgument("::1", 1025), "|2|::1|1025|");
 * ```
 *
 * @param hostname An IP literal; brackets around an IPv6 address are removed, and an
 * IPv4-mapped IPv6 address is sent as IPv4.
 * @param port The port (1–65535).
 * @returns The argument.
 * @throws {RangeError} When the host is not an IP literal or the port is out of range.
 */
export function formatEprtArgument(hostname: string, port: number): string {
  checkPort(port);
  const host = unmapIpv4(hostname.replace(/^\[(.*)\]$/, "$1"));
  if (ipv4Octets(host)) return `|1|${host}|${port}|`;
  if (isIpv6(host)) return `|2|${host}|${port}|`;
  throw new RangeError(`Cannot format "${hostname}" for EPRT: not an IP address`);
}

function sixNumbers(fields: readonly string[], what: string): HostPort {
  const n = fields.map(Number);
  if (n.some((v) => v > 255)) throw new ProtocolError(`Number out of range in ${what}`);
  const port = n[4] * 256 + n[5];
  if (port === 0) throw new ProtocolError(`Port 0 in ${what}`);
  return { hostname: n.slice(0, 4).join("."), port };
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

function checkPort(port: number): void {
  if (!validPort(port)) throw new RangeError(`Port ${port} out of range 1-65535`);
}

function unmapIpv4(host: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  return mapped ? mapped[1] : host;
}

/** The four octets of a dotted-quad IPv4 address (no leading zeros, which some read as octal). */
function ipv4Octets(host: string): number[] | undefined {
  const parts = host.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^(0|[1-9]\d{0,2})$/.test(p))) return undefined;
  const octets = parts.map(Number);
  return octets.every((o) => o <= 255) ? octets : undefined;
}

/** Whether `host` is an IPv6 literal (RFC 4291 §2.2 text forms, no zone). */
function isIpv6(host: string): boolean {
  const lastColon = host.lastIndexOf(":");
  if (lastColon < 0) return false;
  let text = host;
  // A trailing dotted quad fills two groups: check it, then count it as a placeholder plus one.
  let extra = 0;
  if (text.includes(".")) {
    if (!ipv4Octets(text.slice(lastColon + 1))) return false;
    text = `${text.slice(0, lastColon + 1)}0`;
    extra = 1;
  }
  const halves = text.split("::");
  if (halves.length > 2) return false;
  const groups = halves.flatMap((half) => (half === "" ? [] : half.split(":")));
  if (!groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  const size = groups.length + extra;
  return halves.length === 2 ? size <= 7 : size === 8;
}
