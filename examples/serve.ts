/**
 * `deno task serve`: an FTP server on a directory or in memory, for trying clients out.
 * Runs under Deno, Bun and Node (after the npm build).
 *
 * ```sh
 * deno run -A examples/serve.ts --root ./share --user alice --pass secret
 * bun examples/serve.ts --memory --port 0 --log json
 * deno run -A examples/serve.ts --tls-cert cert.pem --tls-key key.pem --require-tls \
 *   --user alice --pass secret
 * printf secret | deno run -A examples/serve.ts --hash-password   # prints scrypt$...
 * deno run -A examples/serve.ts --user alice --pass-hash 'scrypt$16384$8$1$...'
 * ```
 *
 * It prints one line, `ftp://HOST:PORT` (`ftps://` with `--implicit-tls`), once listening,
 * then one line per event (connections, logins, transfers, changes to files; `--log json`:
 * one JSON object per line; `--quiet`: none), and serves until SIGINT or SIGTERM.
 *
 * @module
 */

import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import process from "node:process";
import { parseArgs } from "node:util";
import {
  type EventLogEntry,
  eventLogHooks,
  hashPassword,
  LocalFileSystem,
  MemoryFileSystem,
  Permission,
  Server,
  type ServerHooks,
  User,
} from "../server.ts";

const USAGE = `Usage: serve [options]
  --host HOST           address to bind (default 127.0.0.1; :: or 0.0.0.0 for all)
  --port PORT           port to bind (default 2121; 0 = any free port)
  --root DIR            share this directory
  --memory              share an empty in-memory file system (the default without --root)
  --user NAME           a user who may read and write (needs --pass or --pass-hash)
  --pass SECRET         that user's password
  --pass-hash HASH      that user's password as a hash from --hash-password (scrypt$...)
  --hash-password       read a password from stdin, print its hash for --pass-hash, exit
  --data-ports MIN-MAX  passive port range
  --pasv-address ADDR   IPv4 address to announce in PASV replies (NAT)
  --tls-cert FILE       PEM certificate (chain) for FTPS: offers AUTH TLS (needs --tls-key)
  --tls-key FILE        PEM private key of --tls-cert
  --implicit-tls        speak TLS from the first byte (implicit FTPS; needs --tls-cert)
  --require-tls         every user but anonymous/ftp must secure the control connection
                        (AUTH TLS before USER) and data connections (PROT P); needs --tls-cert
  --log FORMAT          one line per event on stdout: text (the default) or json
  --quiet               print only the URL
  --help                this text
Without --user, anyone may log in as anonymous or ftp (no password) and only read.`;

const FLAGS = {
  help: { type: "boolean", short: "h" },
  host: { type: "string", default: "127.0.0.1" },
  port: { type: "string", default: "2121" },
  root: { type: "string" },
  memory: { type: "boolean" },
  user: { type: "string" },
  pass: { type: "string" },
  "pass-hash": { type: "string" },
  "hash-password": { type: "boolean" },
  "data-ports": { type: "string" },
  "pasv-address": { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "implicit-tls": { type: "boolean" },
  "require-tls": { type: "boolean" },
  log: { type: "string", default: "text" },
  quiet: { type: "boolean" },
} as const;

type Flags = ReturnType<typeof parseArgs<{ options: typeof FLAGS }>>["values"];

function fail(message: string): never {
  process.stderr.write(`serve: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseFlags(args: string[]): Flags {
  let flags: Flags;
  try {
    flags = parseArgs({ args, options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const port = Number(flags.port);
  if (!/^\d+$/.test(flags.port) || port > 65535) fail("--port must be 0-65535");
  if (flags.root !== undefined && flags.memory) fail("--root and --memory exclude each other");
  if (flags.pass !== undefined && flags["pass-hash"] !== undefined) {
    fail("--pass and --pass-hash exclude each other");
  }
  const secret = flags.pass ?? flags["pass-hash"];
  if (flags.user !== undefined && secret === undefined) fail("--user needs --pass or --pass-hash");
  if (flags.user === undefined && secret !== undefined) fail("--pass and --pass-hash need --user");
  if (flags["data-ports"] !== undefined) dataPorts(flags["data-ports"]);
  if ((flags["tls-cert"] === undefined) !== (flags["tls-key"] === undefined)) {
    fail("--tls-cert and --tls-key go together");
  }
  if (flags["tls-cert"] === undefined && flags["implicit-tls"]) {
    fail("--implicit-tls needs --tls-cert");
  }
  if (flags["tls-cert"] === undefined && flags["require-tls"]) {
    fail("--require-tls needs --tls-cert");
  }
  if (flags.log !== "text" && flags.log !== "json") fail("--log must be text or json");
  return flags;
}

function dataPorts(text: string): { min: number; max: number } {
  const match = /^(\d+)-(\d+)$/.exec(text);
  const min = Number(match?.[1]);
  const max = Number(match?.[2]);
  if (!match || min < 1 || max > 65535 || min > max) fail("--data-ports must be MIN-MAX");
  return { min, max };
}

async function readPem(flag: string, path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    fail(`${flag} ${path}: ${error instanceof Error ? error.message : error}`);
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
    fail(`--tls-cert/--tls-key: ${error instanceof Error ? error.message : error}`);
  }
  if (!matches) fail(`--tls-key ${keyPath} is not the key of --tls-cert ${certPath}`);
  return { cert, key };
}

/** `--hash-password`: the password is stdin without its line end. */
async function printPasswordHash(): Promise<void> {
  let input = "";
  for await (const chunk of process.stdin) input += chunk;
  const password = input.replace(/\r?\n$/, "");
  if (password === "") fail("--hash-password reads the password from stdin, and got none");
  process.stdout.write(`${await hashPassword(password)}\n`);
}

function makeUsers(flags: Flags): User[] {
  if (flags.user === undefined) {
    return [new User({ permissions: [new Permission("/", { writable: false })] })];
  }
  try {
    return [
      new User({ login: flags.user, password: flags.pass, passwordHash: flags["pass-hash"] }),
    ];
  } catch (error) {
    fail(`--pass-hash: ${error instanceof Error ? error.message : error}`);
  }
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

function logHooks(flags: Flags): ServerHooks | undefined {
  if (flags.quiet) return undefined;
  const format = flags.log === "json" ? JSON.stringify : textLine;
  return eventLogHooks((entry) => {
    process.stdout.write(`${format(entry)}\n`);
  });
}

const flags = parseFlags(process.argv.slice(2));
if (flags["hash-password"]) {
  await printPasswordHash();
  process.exit(0);
}
const tls = flags["tls-cert"] !== undefined && flags["tls-key"] !== undefined
  ? await loadTls(flags["tls-cert"], flags["tls-key"])
  : undefined;
const server = new Server({
  users: makeUsers(flags),
  fileSystem: flags.root !== undefined ? new LocalFileSystem(flags.root) : new MemoryFileSystem(),
  dataPorts: flags["data-ports"] !== undefined ? dataPorts(flags["data-ports"]) : undefined,
  passiveAddress: flags["pasv-address"],
  tls,
  implicitTls: flags["implicit-tls"],
  requireTls: flags["require-tls"] ? "non-anonymous" : "none",
  hooks: logHooks(flags),
});

await server.start(flags.host, Number(flags.port));
const { hostname, port } = server.address;
const scheme = flags["implicit-tls"] ? "ftps" : "ftp";
process.stdout.write(
  `${scheme}://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}\n`,
);

const stop = () => {
  server.close().then(() => process.exit(0));
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
await server.serveForever();
