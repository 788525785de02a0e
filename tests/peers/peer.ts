/**
 * Running real FTP servers for the client's interop tests: each peer runs in the foreground on
 * a free high loopback port, with its own configuration in a temporary directory, and is
 * stopped (its whole process group) when the test is done. Never a system service.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import type { TlsClientOptions } from "../../lib/socket.ts";
import { testNetwork } from "../_util.ts";

/** A running FTP server the client can be tested against. */
export interface PeerServer {
  /** The peer's name (`"vsftpd"`, ...). */
  readonly name: string;
  /** The address it listens on. */
  readonly host: string;
  /** The control port. */
  readonly port: number;
  /** Login. */
  readonly user: string;
  /** Password. */
  readonly password: string;
  /** The local directory that the server's writable area maps to. */
  readonly root: string;
  /** The remote directory to work in (writable), e.g. `"/"` or `"/pub"`. */
  readonly base: string;
  /** Stops the server and removes its files. */
  stop(): Promise<void>;
}

/** The ports of one peer instance. */
export interface PeerPorts {
  /** The control port. */
  port: number;
  /** First passive port. */
  pasvMin: number;
  /** Last passive port. */
  pasvMax: number;
}

/**
 * Picks a free control port between 20000 and 32767 and a passive range of 50 ports at a
 * random base between 10000 and 19999. Both stay below the kernel's ephemeral range
 * (32768-60999), so no outgoing connection of the tests can take the control port between
 * this check and the peer's bind.
 *
 * @returns The ports.
 */
export async function pickPorts(): Promise<PeerPorts> {
  for (let attempt = 0;; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12768);
    try {
      const listener = await testNetwork().listen({ hostname: "127.0.0.1", port });
      await listener.close();
    } catch (error) {
      if (attempt < 20) continue;
      throw error;
    }
    const pasvMin = 10000 + Math.floor(Math.random() * 199) * 50;
    return { port, pasvMin, pasvMax: pasvMin + 49 };
  }
}

/** A temporary directory for a peer: `root` (served), `state` (config, logs). */
export interface PeerDirs {
  /** The top directory (removed on stop). */
  base: string;
  /** The directory to serve. */
  root: string;
  /** Configuration and logs. */
  state: string;
}

/**
 * Creates the temporary directories of one peer.
 *
 * @param name The peer's name (prefix).
 * @returns The directories.
 */
export async function peerDirs(name: string): Promise<PeerDirs> {
  const base = await mkdtemp(join(tmpdir(), `streamftp-peer-${name}-`));
  await chmod(base, 0o755);
  const root = join(base, "root");
  const state = join(base, "state");
  await mkdir(root, { mode: 0o755 });
  await mkdir(state, { mode: 0o700 });
  await chmod(root, 0o755);
  return { base, root, state };
}

/** How to launch a peer server process and log in to it. */
export interface PeerLaunch {
  /** The peer's name. */
  name: string;
  /** The executable. */
  command: string;
  /** Its arguments. */
  args: string[];
  /** The control port it listens on (127.0.0.1). */
  port: number;
  /** Its directories (removed when it stops, or when it fails to start). */
  dirs: PeerDirs;
  /** Login. */
  user: string;
  /** Password. */
  password: string;
  /** The local directory behind `base` (default `dirs.root`). */
  root?: string;
  /** The remote directory to work in (default `"/"`). */
  base?: string;
  /** For implicit TLS: the handshake to make before waiting for the greeting. */
  greetingTls?: TlsClientOptions;
}

/**
 * Starts a peer server process in `dirs.state` and waits for its greeting.
 *
 * @param launch What to run and how to log in.
 * @returns The running peer; stopping it also removes its directories.
 */
export async function launchPeer(launch: PeerLaunch): Promise<PeerServer> {
  const { dirs } = launch;
  let proc: PeerProcess;
  try {
    proc = await startPeerProcess(
      launch.command,
      launch.args,
      launch.port,
      dirs.state,
      launch.greetingTls,
    );
  } catch (error) {
    await removeDirs(dirs);
    throw error;
  }
  return {
    name: launch.name,
    host: "127.0.0.1",
    port: launch.port,
    user: launch.user,
    password: launch.password,
    root: launch.root ?? dirs.root,
    base: launch.base ?? "/",
    async stop() {
      await proc.stop();
      await removeDirs(dirs);
    },
  };
}

/** A spawned server process. */
interface PeerProcess {
  /** The child. */
  child: ChildProcess;
  /** What it printed so far (for failure messages). */
  output(): string;
  /** Stops it: SIGTERM to its process group, SIGKILL after 3 s. */
  stop(): Promise<void>;
}

/**
 * Starts a server process in its own process group and waits until it greets on `port`.
 *
 * @param command The executable.
 * @param args Its arguments.
 * @param port The control port to wait for.
 * @param cwd Working directory.
 * @param tls For implicit TLS: the handshake to make before the greeting.
 * @returns The running process.
 */
async function startPeerProcess(
  command: string,
  args: string[],
  port: number,
  cwd?: string,
  tls?: TlsClientOptions,
): Promise<PeerProcess> {
  const child = spawn(command, args, { cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const stop = async () => {
    if (gone) return;
    signalGroup(child, "SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        signalGroup(child, "SIGKILL");
        resolve();
      }, 3000);
    });
    await Promise.race([exited, killed]);
    clearTimeout(timer);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))]);
  };
  try {
    await waitForGreeting(port, 15000, () => gone, () => output, tls);
  } catch (error) {
    await stop();
    throw error;
  }
  return { child, output: () => output, stop };
}

function signalGroup(child: ChildProcess, signal: "SIGTERM" | "SIGKILL"): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }
}

/**
 * Waits until a server on 127.0.0.1:`port` sends a `220` line. External servers give no other
 * readiness signal, so this retries the connection until the deadline.
 */
async function waitForGreeting(
  port: number,
  timeoutMs: number,
  exited: () => boolean,
  output: () => string,
  tls?: TlsClientOptions,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`Peer exited before greeting: ${output()}`);
    try {
      const conn = await testNetwork().connect({
        hostname: "127.0.0.1",
        port,
        tls,
        signal: AbortSignal.timeout(3000),
      });
      const reader = conn.readable.getReader();
      let text = "";
      const timer = setTimeout(() => conn.close(), 3000);
      try {
        while (!/^220 /m.test(text)) {
          const { value, done } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
      } finally {
        clearTimeout(timer);
        conn.close();
      }
      if (/^220 /m.test(text)) return;
      lastError = new Error(`Unexpected greeting ${JSON.stringify(text)}`);
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`Peer on port ${port} did not greet in time: ${lastError}; output: ${output()}`);
}

/**
 * Removes a peer's directories.
 *
 * @param dirs The directories.
 */
export async function removeDirs(dirs: PeerDirs): Promise<void> {
  await rm(dirs.base, { recursive: true, force: true });
}

/** Whether the tests run as root (vsftpd and pure-ftpd need it to chroot and switch users). */
export const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
