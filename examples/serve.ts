/**
 * `deno task serve`: an FTP server on a directory or in memory, for trying clients out.
 * Runs under Deno, Bun and Node (after the npm build).
 *
 * ```sh
 * deno run -A examples/serve.ts --root ./share --user alice --pass secret
 * bun examples/serve.ts --memory --port 0
 * ```
 *
 * It prints one line, `ftp://HOST:PORT`, once listening, and serves until SIGINT or SIGTERM.
 *
 * @module
 */

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
}

function fail(message: string): never {
  process.stderr.write(`serve: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(args: string[]): Options {
  const options: Options = { host: "127.0.0.1", port: 2121 };
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
      default:
        fail(`unknown option ${flag}`);
    }
  }
  if ((options.user === undefined) !== (options.pass === undefined)) {
    fail("--user and --pass go together");
  }
  return options;
}

const options = parseArgs(process.argv.slice(2));
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
});

await server.start(options.host, options.port);
const { hostname, port } = server.address;
process.stdout.write(`ftp://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}\n`);

const stop = () => {
  server.close().then(() => process.exit(0));
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
await server.serveForever();
