/**
 * `streamftp serve`: an FTP server on a directory or in memory, with accounts, anonymous
 * access, FTPS, a passive-port range, speed and connection limits, and an event log on
 * stdout. It prints `ftp://HOST:PORT` (`ftps://` with `--implicit-tls`) as its first line once
 * it listens, and on SIGINT or SIGTERM closes gracefully (a running transfer gets `426`, every
 * session `421`) and exits 0.
 *
 * ```sh
 * streamftp serve --root ./share --user alice --pass secret --user bob --pass-hash 'scrypt$...'
 * streamftp serve --memory --port 0 --anonymous --writable --log json
 * streamftp serve --tls-cert cert.pem --tls-key key.pem --require-tls --user alice --pass secret
 * printf secret | streamftp serve --hash-password   # prints scrypt$...
 * ```
 *
 * @module
 */

import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import process from "node:process";
import {
  type EventLogEntry,
  eventLogHooks,
  hashPassword,
  LocalFileSystem,
  MemoryFileSystem,
  Permission,
  Server,
  type ServerHooks,
  type ServerOptions,
  User,
} from "../../server.ts";
import {
  type ArgToken,
  type Command,
  defineCommand,
  type FlagValues,
  parseByteSize,
  parseCount,
  parseIfGiven,
  parsePort,
  parsePortRange,
} from "./args.ts";
import { UsageError } from "./exit.ts";
import { writeStdout } from "./output.ts";

const FLAGS = {
  host: { type: "string", default: "127.0.0.1" },
  port: { type: "string", default: "2121" },
  root: { type: "string" },
  memory: { type: "boolean" },
  user: { type: "string", multiple: true },
  pass: { type: "string", multiple: true },
  "pass-hash": { type: "string", multiple: true },
  "hash-password": { type: "boolean" },
  anonymous: { type: "boolean" },
  writable: { type: "boolean" },
  "read-only": { type: "boolean" },
  "data-ports": { type: "string" },
  "pasv-address": { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "implicit-tls": { type: "boolean" },
  "require-tls": { type: "boolean" },
  "upload-limit": { type: "string" },
  "download-limit": { type: "string" },
  "max-connections": { type: "string" },
  log: { type: "string", default: "text" },
  quiet: { type: "boolean" },
} as const;

type Flags = FlagValues<typeof FLAGS>;

/**
 * `streamftp serve`.
 *
 * @example
 * ```ts
 * import { UsageError } from "./exit.ts";
 * import { serveCommand } from "./serve.ts";
 * import assert from "node:assert/strict";
 *
 * await serveCommand.run(["--help"]); // prints the flags; serving runs until SIGINT or SIGTERM
 * await assert.rejects(serveCommand.run(["--port", "ftp"]), UsageError);
 * ```
 */
export const serveCommand: Command = defineCommand({
  name: "serve",
  arguments: [],
  summary: "run an FTP server on a directory or in memory",
  help: `Serves until SIGINT or SIGTERM. Prints its URL (ftp://HOST:PORT, ftps:// with
--implicit-tls) as the first line once listening, then one line per event.

  --host HOST           address to bind (default 127.0.0.1; :: or 0.0.0.0 for all)
  --port PORT           port to bind (default 2121; 0 = any free port)
  --root DIR            share this directory
  --memory              share an empty in-memory file system (the default without --root)
  --user NAME           an account that may read and write (with --pass or --pass-hash);
                        repeat --user NAME --pass SECRET for more accounts
  --pass SECRET         the password of the --user before it
  --pass-hash HASH      the password of the --user before it, as a hash from --hash-password
  --hash-password       read a password from stdin, print its hash for --pass-hash, exit
  --anonymous           let anyone log in as anonymous or ftp, without password, to read
                        (the default without --user)
  --writable            anonymous users may write too
  --read-only           nobody may write, accounts included
  --data-ports MIN-MAX  passive port range
  --pasv-address ADDR   IPv4 address to announce in PASV replies (NAT)
  --tls-cert FILE       PEM certificate (chain) for FTPS: offers AUTH TLS (needs --tls-key)
  --tls-key FILE        PEM private key of --tls-cert
  --implicit-tls        speak TLS from the first byte (implicit FTPS; needs --tls-cert)
  --require-tls         every user but anonymous/ftp must secure the control connection
                        (AUTH TLS before USER) and data connections (PROT P); needs --tls-cert
  --upload-limit RATE   bytes per second all uploads share (suffixes K, M, G: 512K, 1.5M)
  --download-limit RATE bytes per second all downloads share
  --max-connections N   most control connections at once (default 512)
  --log FORMAT          one line per event on stdout: text (the default) or json
  --quiet               print only the URL`,
  flags: FLAGS,
  async action({ values, tokens }) {
    if (values["hash-password"]) {
      await printPasswordHash();
      return;
    }
    const port = parsePort("--port", values.port);
    const server = new Server(await serverOptions(values, tokens));
    await server.start(values.host, port);
    await writeStdout(`${serverUrl(server, values["implicit-tls"] ?? false)}\n`);
    const stop = () => void server.close();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    try {
      await server.serveForever();
    } finally {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    }
  },
});

/**
 * The server's options from the flags, checked: every flag that does not fit is a usage
 * error before anything listens.
 */
async function serverOptions(values: Flags, tokens: ArgToken[]): Promise<ServerOptions> {
  if (values.root !== undefined && values.memory) {
    throw new UsageError("--root and --memory exclude each other");
  }
  if (values.log !== "text" && values.log !== "json") {
    throw new UsageError("--log must be text or json");
  }
  const certPath = values["tls-cert"];
  const keyPath = values["tls-key"];
  if ((certPath === undefined) !== (keyPath === undefined)) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  if (certPath === undefined && values["implicit-tls"]) {
    throw new UsageError("--implicit-tls needs --tls-cert");
  }
  if (certPath === undefined && values["require-tls"]) {
    throw new UsageError("--require-tls needs --tls-cert");
  }
  const users = makeUsers(values, tokens);
  const dataPorts = parseIfGiven("--data-ports", values["data-ports"], parsePortRange);
  const uploadLimit = parseIfGiven("--upload-limit", values["upload-limit"], parseByteSize);
  const downloadLimit = parseIfGiven("--download-limit", values["download-limit"], parseByteSize);
  const maxConnections = parseIfGiven("--max-connections", values["max-connections"], parseCount);
  return {
    users,
    fileSystem: values.root !== undefined
      ? new LocalFileSystem(await checkedRoot(values.root))
      : new MemoryFileSystem(),
    dataPorts,
    passiveAddress: values["pasv-address"],
    tls: certPath !== undefined && keyPath !== undefined
      ? await loadTls(certPath, keyPath)
      : undefined,
    implicitTls: values["implicit-tls"],
    requireTls: values["require-tls"] ? "non-anonymous" : "none",
    uploadLimit,
    downloadLimit,
    maxConnections,
    hooks: logHooks(values),
  };
}

/** One `--user` and the secret given after it. */
interface Account {
  login: string;
  password?: string;
  passwordHash?: string;
}

/**
 * The accounts, from the flags in the order given: each `--user` takes the one `--pass` or
 * `--pass-hash` that follows it.
 */
function accounts(tokens: ArgToken[]): Account[] {
  const found: Account[] = [];
  for (const token of tokens) {
    if (token.kind !== "option" || token.value === undefined) continue;
    if (token.name === "user") {
      if (found.some((a) => a.login === token.value)) {
        throw new UsageError(`--user ${token.value} is given twice`);
      }
      found.push({ login: token.value });
      continue;
    }
    if (token.name !== "pass" && token.name !== "pass-hash") continue;
    const account = found[found.length - 1];
    if (!account) throw new UsageError(`--${token.name} needs a --user before it`);
    if (account.password !== undefined || account.passwordHash !== undefined) {
      throw new UsageError(`--user ${account.login} has more than one --pass or --pass-hash`);
    }
    if (token.name === "pass") account.password = token.value;
    else account.passwordHash = token.value;
  }
  const missing = found.find((a) => a.password === undefined && a.passwordHash === undefined);
  if (missing) throw new UsageError(`--user ${missing.login} needs --pass or --pass-hash`);
  return found;
}

function makeUsers(values: Flags, tokens: ArgToken[]): User[] {
  const named = accounts(tokens);
  const anonymous = values.anonymous || named.length === 0;
  if (values.writable && values["read-only"]) {
    throw new UsageError("--writable and --read-only exclude each other");
  }
  if (values.writable && !anonymous) {
    throw new UsageError("--writable is for anonymous users: add --anonymous");
  }
  const permissions = () => [new Permission("/", { writable: false })];
  const users = named.map((account) => {
    try {
      return new User({
        ...account,
        permissions: values["read-only"] ? permissions() : undefined,
      });
    } catch (error) {
      throw new UsageError(`--pass-hash: ${error instanceof Error ? error.message : error}`);
    }
  });
  if (anonymous) users.push(new User({ permissions: values.writable ? undefined : permissions() }));
  return users;
}

async function checkedRoot(root: string): Promise<string> {
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) throw new UsageError(`--root ${root} is not a directory`);
  return root;
}

async function readPem(flag: string, path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new UsageError(`${flag} ${path}: ${error instanceof Error ? error.message : error}`);
  }
}

/** Reads the certificate and key, and checks here that they parse and belong together. */
async function loadTls(certPath: string, keyPath: string): Promise<{ cert: string; key: string }> {
  const cert = await readPem("--tls-cert", certPath);
  const key = await readPem("--tls-key", keyPath);
  let matches: boolean;
  try {
    matches = new X509Certificate(cert).checkPrivateKey(createPrivateKey(key));
  } catch (error) {
    const message = error instanceof Error ? error.message : error;
    throw new UsageError(`--tls-cert/--tls-key: ${message}`);
  }
  if (!matches) {
    throw new UsageError(`--tls-key ${keyPath} is not the key of --tls-cert ${certPath}`);
  }
  return { cert, key };
}

/** `--hash-password`: the password is stdin without its line end. */
async function printPasswordHash(): Promise<void> {
  let input = "";
  for await (const chunk of process.stdin) input += chunk;
  const password = input.replace(/\r?\n$/, "");
  if (password === "") {
    throw new UsageError("--hash-password reads the password from stdin, and got none");
  }
  await writeStdout(`${await hashPassword(password)}\n`);
}

/** `--log text`: one readable line per event. */
function textLine(entry: EventLogEntry): string {
  const parts = [entry.time, `#${entry.session}`, entry.ip, entry.user ?? "-", entry.event];
  if (entry.from !== undefined) parts.push(entry.from, "->");
  if (entry.path !== undefined) parts.push(entry.path);
  if (entry.bytes !== undefined) parts.push(`${entry.bytes} bytes`);
  if (entry.ms !== undefined) parts.push(`${entry.ms} ms`);
  if (entry.code !== undefined) parts.push(String(entry.code));
  if (entry.complete === false) parts.push("incomplete");
  if (entry.reason !== undefined) parts.push(`(${entry.reason})`);
  return parts.join(" ");
}

function logHooks(values: Flags): ServerHooks | undefined {
  if (values.quiet) return undefined;
  const format = values.log === "json" ? JSON.stringify : textLine;
  return eventLogHooks((entry) => void writeStdout(`${format(entry)}\n`));
}

function serverUrl(server: Server, implicitTls: boolean): string {
  const { hostname, port } = server.address;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  return `${implicitTls ? "ftps" : "ftp"}://${host}:${port}`;
}
