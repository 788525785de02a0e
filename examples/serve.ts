/**
 * `deno task serve`: an FTP server on a directory or in memory, for trying clients out.
 * Runs under Deno, Bun and Node (after the npm build).
 *
 * ```sh
 * deno run -A examples/serve.ts --root ./share --user alice --pass secret
 * bun examples/serve.ts --memory --port 0
 * deno run -A examples/serve.ts --tls-cert cert.pem --tls-key key.pem --require-tls \
 *   --user alice --pass secret
 * ```
 *
 * It prints one line, `ftp://HOST:PORT` (`ftps://` with `--implicit-tls`), once listening, and
 * serves until SIGINT or SIGTERM.
 *
 * @module
 */

import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import process from "node:process";
import { LocalFileSystem, MemoryFileSystem, Permission, Server, User } from "../server.ts";

const USAGE = `Usage: serve [options]
  --host HOST           address to bind (default 127.0.0.1; :: or 0.0.0.0 for all)
  --port PORT           port to bind (default 2121; 0 = any free port)
  --root DIR            share this directory
  --memory              share an empty in-memory file system (the default without --root)
  --user NAME           a user who may read and write (needs --pass)
  --pass SECRET         that user's password
  --data-ports MIN-MAX  passive port range
  --pasv-address ADDR   IPv4 address to announce in PASV replies (NAT)
  --tls-cert FILE       PEM certificate (chain) for FTPS: offers AUTH TLS (needs --tls-key)
  --tls-key FILE        PEM private key of --tls-cert
  --implicit-tls        speak TLS from the first byte (implicit FTPS; needs --tls-cert)
  --require-tls         every user but anonymous/ftp must secure the control connection
                        (AUTH TLS before USER) and data connections (PROT P); needs --tls-cert
  --help                this text
Without --user, anyone may log in (any name, no password) and only read.`;

interface Options {
  host: string;
  port: number;
  root?: string;
  user?: string;
  pass?: string;
  dataPorts?: { min: number; max: number };
  pasvAddress?: string;
  tlsCert?: string;
  tlsKey?: string;
  implicitTls: boolean;
  requireTls: boolean;
}

function fail(message: string): never {
  process.stderr.write(`serve: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(args: string[]): Options {
  const options: Options = {
    host: "127.0.0.1",
    port: 2121,
    implicitTls: false,
    requireTls: false,
  };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const value = () => args[++i] ?? fail(`${flag} needs a value`);
    switch (flag) {
      case "--help":
      case "-h":
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      case "--host":
        options.host = value();
        break;
      case "--port": {
        const port = Number(value());
        if (!Number.isInteger(port) || port < 0 || port > 65535) fail("--port must be 0-65535");
        options.port = port;
        break;
      }
      case "--root":
        options.root = value();
        break;
      case "--memory":
        options.root = undefined;
        break;
      case "--user":
        options.user = value();
        break;
      case "--pass":
        options.pass = value();
        break;
      case "--data-ports": {
        const match = /^(\d+)-(\d+)$/.exec(value());
        const min = Number(match?.[1]);
        const max = Number(match?.[2]);
        if (!match || min < 1 || max > 65535 || min > max) fail("--data-ports must be MIN-MAX");
        options.dataPorts = { min, max };
        break;
      }
      case "--pasv-address":
        options.pasvAddress = value();
        break;
      case "--tls-cert":
        options.tlsCert = value();
        break;
      case "--tls-key":
        options.tlsKey = value();
        break;
      case "--implicit-tls":
        options.implicitTls = true;
        break;
      case "--require-tls":
        options.requireTls = true;
        break;
      default:
        fail(`unknown option ${flag}`);
    }
  }
  if ((options.user === undefined) !== (options.pass === undefined)) {
    fail("--user and --pass go together");
  }
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    fail("--tls-cert and --tls-key go together");
  }
  if (options.tlsCert === undefined && options.implicitTls) fail("--implicit-tls needs --tls-cert");
  if (options.tlsCert === undefined && options.requireTls) fail("--require-tls needs --tls-cert");
  return options;
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

const options = parseArgs(process.argv.slice(2));
const tls = options.tlsCert !== undefined && options.tlsKey !== undefined
  ? await loadTls(options.tlsCert, options.tlsKey)
  : undefined;
const users = options.user !== undefined
  ? [new User({ login: options.user, password: options.pass })]
  : [new User({ permissions: [new Permission("/", { writable: false })] })];
const server = new Server({
  users,
  fileSystem: options.root !== undefined
    ? new LocalFileSystem(options.root)
    : new MemoryFileSystem(),
  dataPorts: options.dataPorts,
  passiveAddress: options.pasvAddress,
  tls,
  implicitTls: options.implicitTls,
  requireTls: options.requireTls ? "non-anonymous" : "none",
});

await server.start(options.host, options.port);
const { hostname, port } = server.address;
const scheme = options.implicitTls ? "ftps" : "ftp";
process.stdout.write(
  `${scheme}://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}\n`,
);

const stop = () => {
  server.close().then(() => process.exit(0));
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
await server.serveForever();
