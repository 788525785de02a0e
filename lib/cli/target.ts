/**
 * What a command's URL names and how to reach it: `ftp://user:pass@host:port/path` split into
 * the server to log in to and the path on it (like curl and lftp, relative to the login
 * directory; `//path` or `%2F` for an absolute one), and the flags every client command shares
 * (`--secure`, `--ca`, `--insecure`, `--active`, `--verbose`) turned into a connected client.
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import { Client, type ClientOptions } from "../../client.ts";
import { type FtpUrl, isFtpUrl, parseFtpUrl } from "../client/ftp_url.ts";
import { dialogueHooks } from "./dialogue.ts";
import { UsageError } from "./exit.ts";
import { writeStderr } from "./output.ts";

/**
 * The flags of every client command.
 *
 * @example
 * ```ts
 * import { CLIENT_FLAGS } from "./target.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(CLIENT_FLAGS.verbose.type, "boolean");
 * ```
 */
export const CLIENT_FLAGS = {
  secure: { type: "boolean" },
  ca: { type: "string" },
  insecure: { type: "boolean" },
  active: { type: "boolean" },
  verbose: { type: "boolean", short: "v" },
} as const;

/**
 * Help lines of {@linkcode CLIENT_FLAGS}.
 *
 * @example
 * ```ts
 * import { CLIENT_FLAGS_HELP } from "./target.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(CLIENT_FLAGS_HELP, /--insecure/);
 * ```
 */
export const CLIENT_FLAGS_HELP =
  `  --secure              explicit FTPS (AUTH TLS) with an ftp:// URL
  --ca FILE             trust the authority of this PEM certificate (FTPS)
  --insecure            do not check the server's certificate (tests only)
  --active              active mode: the server connects back (EPRT/PORT)
  -v, --verbose         show the control dialogue on stderr (passwords masked)`;

/**
 * The values of {@linkcode CLIENT_FLAGS}.
 *
 * @example
 * ```ts
 * import { clientOptions, type ClientFlags } from "./target.ts";
 * import assert from "node:assert/strict";
 *
 * const flags: ClientFlags = { secure: true, active: true };
 * assert.deepEqual(await clientOptions(flags, "ftp"), { secure: true, mode: "active" });
 * ```
 */
export interface ClientFlags {
  /** `--secure`: explicit FTPS with an `ftp://` URL. */
  secure?: boolean;
  /** `--ca FILE`: a PEM certificate of an authority to trust. */
  ca?: string;
  /** `--insecure`: no certificate check. */
  insecure?: boolean;
  /** `--active`: active mode. */
  active?: boolean;
  /** `--verbose`: the control dialogue on stderr. */
  verbose?: boolean;
}

/**
 * A server and a path on it, from a URL.
 *
 * @example
 * ```ts
 * import { parseTarget, type RemoteTarget } from "./target.ts";
 * import assert from "node:assert/strict";
 *
 * const target: RemoteTarget = parseTarget("ftpes://example.com/pub/");
 * assert.equal(target.scheme, "ftpes");
 * assert.equal(target.authority, "example.com");
 * assert.equal(target.path, "pub");
 * assert.equal(target.directory, true);
 * ```
 */
export interface RemoteTarget {
  /** The scheme, lower case: plain FTP, implicit or explicit FTPS. */
  scheme: "ftp" | "ftps" | "ftpes";
  /** The URL to connect and log in with: scheme, credentials, host and port, no path. */
  server: string;
  /** `host:port` as written, to tell whether two URLs name the same server. */
  authority: string;
  /** The path, percent-decoded, relative to the login directory (`""`: that directory). */
  path: string;
  /** Whether the URL ends with `/`: it names a directory. */
  directory: boolean;
}

/**
 * Tells whether an argument is an FTP URL.
 *
 * @example
 * ```ts
 * import { isRemoteUrl } from "./target.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isRemoteUrl("ftp://example.com/a.txt"), true);
 * assert.equal(isRemoteUrl("./a.txt"), false);
 * ```
 *
 * @param text The argument.
 * @returns Whether it starts with `ftp://`, `ftps://` or `ftpes://`.
 */
export function isRemoteUrl(text: string): boolean {
  return isFtpUrl(text);
}

/**
 * Splits a URL into the server and the path on it.
 *
 * @example
 * ```ts
 * import { parseTarget } from "./target.ts";
 * import assert from "node:assert/strict";
 *
 * const { server, path } = parseTarget("ftp://alice:pw@127.0.0.1:2121/pub/a%20b.txt");
 * assert.equal(server, "ftp://alice:pw@127.0.0.1:2121");
 * assert.equal(path, "pub/a b.txt");
 * ```
 *
 * @param url An `ftp://`, `ftps://` or `ftpes://` URL.
 * @returns The server and the path.
 * @throws {UsageError} When it is not such a URL.
 */
export function parseTarget(url: string): RemoteTarget {
  if (!isFtpUrl(url)) throw new UsageError(`"${url}" is not an ftp://, ftps:// or ftpes:// URL`);
  let parsed: FtpUrl;
  try {
    parsed = parseFtpUrl(url);
  } catch {
    throw new UsageError(`"${url}" is not a valid URL`);
  }
  const schemeEnd = url.indexOf("://") + 3;
  const authority = url.slice(schemeEnd).split(/[/?#]/, 1)[0];
  const { path } = parsed;
  return {
    scheme: parsed.scheme,
    server: url.slice(0, schemeEnd) + authority,
    authority: authority.slice(authority.lastIndexOf("@") + 1).toLowerCase(),
    path: path.length > 1 ? path.replace(/\/$/, "") : path,
    directory: path === "" || path.endsWith("/"),
  };
}

/**
 * The client options of the shared flags.
 *
 * @example
 * ```ts
 * import { UsageError } from "./exit.ts";
 * import { clientOptions } from "./target.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(await clientOptions({ insecure: true }, "ftps"), {
 *   tls: { caCerts: undefined, rejectUnauthorized: false },
 * });
 * await assert.rejects(clientOptions({ insecure: true }, "ftp"), UsageError); // no TLS to check
 * ```
 *
 * @param flags The flags.
 * @param scheme The URL's scheme (`ftps` and `ftpes` ask for FTPS already).
 * @returns Options for `Client.connect`.
 * @throws {UsageError} When `--ca` or `--insecure` is given for a clear-text session.
 */
export async function clientOptions(
  flags: ClientFlags,
  scheme: RemoteTarget["scheme"],
): Promise<ClientOptions> {
  const tlsUrl = scheme !== "ftp";
  const secure = flags.secure || tlsUrl;
  if (!secure && (flags.ca !== undefined || flags.insecure)) {
    throw new UsageError(`--ca and --insecure need --secure or an ftps:// or ftpes:// URL`);
  }
  const options: ClientOptions = {};
  if (flags.secure && !tlsUrl) options.secure = true;
  if (secure && (flags.ca !== undefined || flags.insecure)) {
    options.tls = {
      caCerts: flags.ca === undefined ? undefined : [await readCa(flags.ca)],
      rejectUnauthorized: flags.insecure ? false : undefined,
    };
  }
  if (flags.active) options.mode = "active";
  if (flags.verbose) Object.assign(options, dialogueHooks((line) => void writeStderr(`${line}\n`)));
  return options;
}

async function readCa(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new UsageError(`--ca ${path}: ${error instanceof Error ? error.message : error}`);
  }
}

/**
 * Connects and logs in to a URL's server (anonymously when the URL names no user), runs work
 * on it, and ends the session (`QUIT`) after it, also when the work fails.
 *
 * @example
 * ```ts
 * import { Server, User } from "../../server.ts";
 * import { withTarget } from "./target.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
 * await server.start("127.0.0.1", 0);
 * const url = `ftp://127.0.0.1:${server.address.port}`;
 * await server.fileSystem.mkdir("/pub");
 * const names = await withTarget(`${url}/pub`, {}, async (client, { path }) => {
 *   await client.mkdir(`${path}/docs`);
 *   return (await client.listAll(path)).map((item) => item.info.name);
 * });
 * assert.deepEqual(names, ["docs"]);
 * ```
 *
 * @param url The URL.
 * @param flags The shared flags.
 * @param work What to do with the client and the URL's path.
 * @returns The work's result.
 * @throws {UsageError} When the URL or the flags are wrong.
 * @throws {ReplyError} When the server refuses the login, or what the work throws.
 */
export async function withTarget<T>(
  url: string,
  flags: ClientFlags,
  work: (client: Client, target: RemoteTarget) => Promise<T>,
): Promise<T> {
  const target = parseTarget(url);
  const client = await Client.connect(target.server, await clientOptions(flags, target.scheme));
  try {
    return await work(client, target);
  } finally {
    await client.quit();
  }
}
