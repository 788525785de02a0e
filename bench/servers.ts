/**
 * The servers of the bench, each a separate process in its own process group on a free
 * 127.0.0.1 port above the kernel's ephemeral range (so neither the test suite's peers, which
 * use 10000-32767, nor outgoing connections collide with it), with its own passive range and
 * its own configuration in a tmpfs directory, serving hard links of the fixtures:
 *
 * - ours: `bench/_server.mjs` (the server of `streamftp serve` with the connection caps raised)
 *   under Deno and Bun on `server.ts`, under Node on the npm build's `server.js`;
 * - vsftpd: anonymous, chrooted to the temp root, uploads into `/pub` (as tests/peers/vsftpd.ts:
 *   vsftpd refuses a writable chroot); needs root and the `ftp` account;
 * - pure-ftpd: one virtual user (puredb, SHA-512 crypt) mapped to the `ftp` account, chrooted
 *   (as tests/peers/pure_ftpd.ts), with the session and listing caps raised (it also caps the
 *   sessions at half its passive range, so the caller gives it a wide one); needs root;
 * - pyftpdlib: Debian's system Python, one DummyAuthorizer user, the session cap raised.
 *
 * @module
 */

import type { ChildProcess } from "node:child_process";
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { exited, firstLine, start, stop } from "./spawn.ts";

/** A JavaScript runtime our code runs in. */
export type Runtime = "deno" | "bun" | "node";
/** The peer servers. */
export type PeerServerName = "vsftpd" | "pure-ftpd" | "pyftpdlib";
/** Every server of the bench. */
export type ServerName = `ours-${Runtime}` | PeerServerName;

/** The vsftpd binary (Debian's package). */
export const VSFTPD = "/usr/sbin/vsftpd";
/** pure-ftpd, unpacked (Debian's vsftpd and pure-ftpd conflict, so one is not installed). */
export const PURE_FTPD = "/opt/streamftp/pure-ftpd/usr/sbin/pure-ftpd";
/** pure-ftpd's password-database tool. */
export const PURE_PW = "/opt/streamftp/pure-ftpd/usr/bin/pure-pw";
/** The Python that has pyftpdlib (Debian's python3-pyftpdlib). */
export const PYTHON = "/usr/bin/python3";

const BENCH_DIR = fileURLToPath(new URL(".", import.meta.url));
const REPO = join(BENCH_DIR, "..");
const SERVER_SCRIPT = join(BENCH_DIR, "_server.mjs");
const USER = "bench";
const PASSWORD = "bench-secret";

/** A running server. */
export interface BenchServer {
  /** Its name (`ours-deno`, `vsftpd`...). */
  name: ServerName;
  /** Name and version, for the tables' header. */
  version: string;
  /** The control port on 127.0.0.1. */
  port: number;
  /** Login. */
  user: string;
  /** Password. */
  password: string;
  /** The local directory that `base` maps to (fixtures linked here, uploads land here). */
  root: string;
  /** The remote directory to work in: `/`, or `/pub` for vsftpd. */
  base: string;
  /** The server process (the root of its process tree). */
  pid: number;
  /** The child. */
  child: ChildProcess;
  /** What it printed so far. */
  output(): string;
  /** Stops it (its whole process group). */
  stop(): Promise<void>;
}

/** Where and how to start a server. */
export interface ServerPlace {
  /** Its private tmpfs directory (created). */
  dir: string;
  /** Its control port. */
  port: number;
  /** Its passive range. */
  pasvMin: number;
  /** Its passive range's end. */
  pasvMax: number;
  /** The npm build (for `ours-node`). */
  npmDir?: string;
}

/**
 * Whether a TCP port on 127.0.0.1 can be bound now.
 *
 * @param port The port.
 * @returns `true` when free.
 */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/**
 * Picks a free port in `[min, max]`, starting at a random one.
 *
 * @param min Lowest.
 * @param max Highest.
 * @param taken Ports already handed out.
 * @returns The port.
 */
export async function pickPort(min: number, max: number, taken: Set<number>): Promise<number> {
  const span = max - min + 1;
  const first = Math.floor(Math.random() * span);
  for (let i = 0; i < span; i++) {
    const port = min + ((first + i) % span);
    if (taken.has(port)) continue;
    if (await portFree(port)) {
      taken.add(port);
      return port;
    }
  }
  throw new Error(`no free port in ${min}-${max}`);
}

/** Waits until 127.0.0.1:`port` sends a `220` line (external servers give no other signal). */
async function waitForGreeting(
  port: number,
  child: ChildProcess,
  output: () => string,
  limitMs = 30000,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  let last = "";
  while (Date.now() < deadline) {
    if (exited(child)) throw new Error(`exited before greeting (${child.exitCode}): ${output()}`);
    const greeted = await new Promise<boolean>((resolve) => {
      let text = "";
      const socket = connect({ host: "127.0.0.1", port });
      const timer = setTimeout(() => socket.destroy(), 3000);
      socket.on("data", (d) => {
        text += d;
        if (/^220 /m.test(text)) {
          clearTimeout(timer);
          socket.destroy();
          resolve(true);
        }
      });
      socket.on("error", (e) => (last = String(e)));
      socket.on("close", () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (greeted) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no greeting on port ${port} within ${limitMs / 1000} s (${last}): ${output()}`);
}

/** The `ftp` account vsftpd and pure-ftpd map their users to. */
function ftpAccount(): { uid: number; gid: number } | undefined {
  const line = spawnSync("getent", ["passwd", "ftp"], { encoding: "utf8" }).stdout?.trim();
  const fields = line?.split(":");
  if (!fields || fields.length < 4) return undefined;
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

/**
 * Why a server cannot run here, if it cannot.
 *
 * @param name The server.
 * @param npmDir The npm build, for `ours-node`.
 * @returns The reason, or `undefined` when it can run.
 */
export function unavailable(name: ServerName, npmDir?: string): string | undefined {
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  switch (name) {
    case "ours-deno":
      return undefined;
    case "ours-bun":
      return firstLine("bun", ["--version"]) === "?" ? "bun not found" : undefined;
    case "ours-node":
      return npmDir && existsSync(join(npmDir, "server.js")) ? undefined : "no npm build";
    case "vsftpd":
      if (!existsSync(VSFTPD)) return `${VSFTPD} not installed`;
      if (!root) return "vsftpd needs root (chroot)";
      return ftpAccount() ? undefined : "no ftp account";
    case "pure-ftpd":
      if (!existsSync(PURE_FTPD) || !existsSync(PURE_PW)) return `${PURE_FTPD} not unpacked`;
      if (!root) return "pure-ftpd needs root (chroot)";
      return ftpAccount() ? undefined : "no ftp account";
    case "pyftpdlib": {
      const probe = spawnSync(PYTHON, ["-c", "import pyftpdlib"], { encoding: "utf8" });
      return probe.status === 0 ? undefined : `${PYTHON} has no pyftpdlib`;
    }
  }
}

function runtimeCommand(runtime: Runtime): string {
  // Under Deno, process.execPath is the deno binary itself.
  if (runtime === "deno") return "Deno" in globalThis ? process.execPath : "deno";
  return runtime;
}

/**
 * The command line that runs a JavaScript file in a runtime.
 *
 * @param runtime The runtime.
 * @param script The file.
 * @param args Its arguments.
 * @returns The executable and its arguments.
 */
export function runtimeArgv(runtime: Runtime, script: string, args: string[]): string[] {
  const command = runtimeCommand(runtime);
  return runtime === "deno" ? [command, "run", "-A", script, ...args] : [command, script, ...args];
}

/**
 * The module our code is loaded from in a runtime: the repository's TypeScript for Deno and
 * Bun, the npm build for Node.
 *
 * @param runtime The runtime.
 * @param entry `server` or `client`.
 * @param npmDir The npm build.
 * @returns A file URL.
 */
export function moduleUrl(runtime: Runtime, entry: "server" | "client", npmDir?: string): string {
  if (runtime === "node") return pathToFileURL(join(npmDir!, `${entry}.js`)).href;
  return pathToFileURL(join(REPO, `${entry}.ts`)).href;
}

/** The version string of a runtime. */
export function runtimeVersion(runtime: Runtime): string {
  switch (runtime) {
    case "deno":
      return `Deno ${process.versions.deno ?? firstLine("deno", ["--version"])}`;
    case "bun":
      return `Bun ${firstLine("bun", ["--version"])}`;
    case "node":
      return `Node ${firstLine("node", ["--version"]).replace(/^v/, "")}`;
  }
}

async function launch(
  name: ServerName,
  version: string,
  argv: string[],
  place: ServerPlace,
  login: { user: string; password: string; root: string; base: string },
  ours = false,
): Promise<BenchServer> {
  // Ours run in the repository (its deno.json); the peers in their own directory.
  const { child, output } = start(argv[0], argv.slice(1), {
    cwd: ours ? REPO : place.dir,
    stdinPipe: ours,
  });
  try {
    await waitForGreeting(place.port, child, output);
  } catch (error) {
    await stop(child);
    throw new Error(`${name}: ${error instanceof Error ? error.message : error}`);
  }
  return {
    name,
    version,
    port: place.port,
    ...login,
    pid: child.pid!,
    child,
    output,
    stop: () => stop(child),
  };
}

async function startOurs(runtime: Runtime, place: ServerPlace): Promise<BenchServer> {
  const root = join(place.dir, "root");
  mkdirSync(root, { recursive: true });
  const argv = runtimeArgv(runtime, SERVER_SCRIPT, [
    moduleUrl(runtime, "server", place.npmDir),
    "--root",
    root,
    "--user",
    USER,
    "--pass",
    PASSWORD,
    "--port",
    String(place.port),
    "--data-ports",
    `${place.pasvMin}-${place.pasvMax}`,
  ]);
  return await launch(
    `ours-${runtime}`,
    `streamftp on ${runtimeVersion(runtime)}`,
    argv,
    place,
    { user: USER, password: PASSWORD, root, base: "/" },
    true,
  );
}

async function startVsftpd(place: ServerPlace): Promise<BenchServer> {
  const account = ftpAccount()!;
  const chroot = join(place.dir, "root");
  const pub = join(chroot, "pub");
  const empty = join(place.dir, "empty");
  mkdirSync(pub, { recursive: true });
  mkdirSync(empty, { recursive: true });
  chmodSync(chroot, 0o755);
  chmodSync(pub, 0o755);
  chownSync(pub, account.uid, account.gid);
  const config = [
    "listen=YES",
    "listen_ipv6=NO",
    "listen_address=127.0.0.1",
    `listen_port=${place.port}`,
    "background=NO",
    "anonymous_enable=YES",
    "local_enable=NO",
    "no_anon_password=YES",
    `anon_root=${chroot}`,
    "write_enable=YES",
    "anon_upload_enable=YES",
    "anon_mkdir_write_enable=YES",
    "anon_other_write_enable=YES",
    "anon_world_readable_only=NO",
    "anon_umask=022",
    "chown_uploads=NO",
    "ftp_username=ftp",
    "pasv_enable=YES",
    "pasv_address=127.0.0.1",
    `pasv_min_port=${place.pasvMin}`,
    `pasv_max_port=${place.pasvMax}`,
    "port_enable=YES",
    "connect_from_port_20=NO",
    `secure_chroot_dir=${empty}`,
    "seccomp_sandbox=NO",
    "isolate=NO",
    "isolate_network=NO",
    "max_clients=0",
    "max_per_ip=0",
    "xferlog_enable=NO",
    "dual_log_enable=NO",
    "syslog_enable=NO",
    "log_ftp_protocol=NO",
    `vsftpd_log_file=${join(place.dir, "vsftpd.log")}`,
    "dirmessage_enable=NO",
    "use_localtime=NO",
    "use_sendfile=YES",
    "ssl_enable=NO",
    "idle_session_timeout=600",
    "data_connection_timeout=600",
    "",
  ].join("\n");
  const configPath = join(place.dir, "vsftpd.conf");
  writeFileSync(configPath, config, { mode: 0o600 });
  // vsftpd -v writes its version to file descriptor 0.
  const version = spawnSync("bash", ["-c", `${VSFTPD} -v 0>&1`], { encoding: "utf8" }).stdout
    .trim().replace(/^vsftpd: version /, "vsftpd ") || "vsftpd";
  return await launch("vsftpd", version, [VSFTPD, configPath], place, {
    user: "anonymous",
    password: "anon@",
    root: pub,
    base: "/pub",
  });
}

async function startPureFtpd(place: ServerPlace): Promise<BenchServer> {
  const account = ftpAccount()!;
  const root = join(place.dir, "root");
  mkdirSync(root, { recursive: true });
  chownSync(root, account.uid, account.gid);
  const hash = spawnSync("openssl", ["passwd", "-6", "-stdin"], {
    input: `${PASSWORD}\n`,
    encoding: "utf8",
  });
  if (hash.status !== 0) throw new Error(`pure-ftpd: openssl passwd failed: ${hash.stderr}`);
  const passwd = join(place.dir, "pureftpd.passwd");
  const pdb = join(place.dir, "pureftpd.pdb");
  writeFileSync(
    passwd,
    `${USER}:${hash.stdout.trim()}:${account.uid}:${account.gid}::${root}/./::::::::::::\n`,
    { mode: 0o600 },
  );
  const made = spawnSync(PURE_PW, ["mkdb", pdb, "-f", passwd], { encoding: "utf8" });
  if (made.status !== 0) throw new Error(`pure-ftpd: pure-pw mkdb failed: ${made.stderr}`);
  const version = firstLine(PURE_FTPD, ["--help"]).replace(/^pure-ftpd v(\S+).*/, "pure-ftpd $1");
  return await launch(
    "pure-ftpd",
    version,
    [
      PURE_FTPD,
      "-S",
      `127.0.0.1,${place.port}`,
      "-l",
      `puredb:${pdb}`,
      "-E", // no anonymous login
      "-A", // chroot everyone
      "-H", // no DNS lookups
      "-4",
      "-p",
      `${place.pasvMin}:${place.pasvMax}`,
      "-c",
      "4000", // sessions at once (default 50; pure-ftpd caps it at half the passive range)
      "-C",
      "4000", // per IP
      "-L",
      "100000:5", // listing limit (default 2000 entries)
      "-I",
      "60", // idle minutes
      "-f",
      "none", // no syslog
    ],
    place,
    { user: USER, password: PASSWORD, root, base: "/" },
  );
}

const PYFTPDLIB = `
import logging, sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.log import config_logging
from pyftpdlib.servers import FTPServer
port, root, user, password, pmin, pmax = sys.argv[1:7]
config_logging(level=logging.ERROR)
auth = DummyAuthorizer()
auth.add_user(user, password, root, perm="elradfmwMT")
handler = FTPHandler
handler.authorizer = auth
handler.passive_ports = list(range(int(pmin), int(pmax) + 1))
handler.timeout = 3600
server = FTPServer(("127.0.0.1", int(port)), handler)
server.max_cons = 5000
server.max_cons_per_ip = 0
server.serve_forever()
`;

async function startPyftpdlib(place: ServerPlace): Promise<BenchServer> {
  const root = join(place.dir, "root");
  mkdirSync(root, { recursive: true });
  const version = spawnSync(PYTHON, ["-c", "import pyftpdlib; print(pyftpdlib.__ver__)"], {
    encoding: "utf8",
  }).stdout.trim();
  return await launch(
    "pyftpdlib",
    `pyftpdlib ${version}`,
    [
      PYTHON,
      "-c",
      PYFTPDLIB,
      String(place.port),
      root,
      USER,
      PASSWORD,
      String(place.pasvMin),
      String(place.pasvMax),
    ],
    place,
    { user: USER, password: PASSWORD, root, base: "/" },
  );
}

/**
 * Starts a server.
 *
 * @param name Which.
 * @param place Its directory, ports and (for Node) the npm build.
 * @returns The running server, greeting on its port.
 */
export async function startServer(name: ServerName, place: ServerPlace): Promise<BenchServer> {
  mkdirSync(place.dir, { recursive: true });
  chmodSync(place.dir, 0o755);
  switch (name) {
    case "ours-deno":
      return await startOurs("deno", place);
    case "ours-bun":
      return await startOurs("bun", place);
    case "ours-node":
      return await startOurs("node", place);
    case "vsftpd":
      return await startVsftpd(place);
    case "pure-ftpd":
      return await startPureFtpd(place);
    case "pyftpdlib":
      return await startPyftpdlib(place);
  }
}

/**
 * A remote path under a server's working directory.
 *
 * @param server The server.
 * @param path A path relative to its root.
 * @returns The absolute remote path.
 */
export function remotePath(server: BenchServer, path: string): string {
  return `${server.base === "/" ? "" : server.base}/${path}`;
}
