/**
 * The FTP clients of the bench, each run as a separate process per operation and timed whole
 * (process start-up included, as a user would run it), its CPU time taken from the kernel:
 *
 * - ours: `bench/_client_driver.mjs` in Deno, Bun or Node (`download`/`upload` with
 *   `writeInto`, `list`);
 * - lftp: one `lftp -f SCRIPT` per operation; many files = one `get` (one session), parallel =
 *   `mget -P N`, logins = `quote NOOP` + `close`, N times, in one process;
 * - curl: one process per operation; parallel = `-Z` over a `-K` list; many files on one
 *   session only with `--curl-small` (curl 7.88 stalls about 1 s before some of the data
 *   connections of a reused session, which measures the stall);
 * - ftplib: `bench/_ftplib_driver.py` (stock ftplib, PASV, 8 KiB blocks).
 *
 * @module
 */

import { writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { type BenchServer, moduleUrl, PYTHON, type Runtime, runtimeArgv } from "./servers.ts";
import { firstLine, runTimed } from "./spawn.ts";

/** Every client of the bench. */
export type ClientName = `ours-${Runtime}` | "curl" | "lftp" | "ftplib";

/** One operation a client performs against a server. */
export type Operation =
  | { op: "retr"; remote: string; local: string }
  | { op: "stor"; local: string; remote: string }
  | { op: "mretr" | "pretr"; remotes: string[]; localDir: string }
  | { op: "list"; remote: string; out: string }
  | { op: "logins"; count: number };

/** What one operation measured. */
export interface ClientRun {
  /** Wall seconds of the whole client process. */
  seconds: number;
  /** CPU seconds of the client process (user + system, all threads). */
  cpu: number;
  /** For the drivers: seconds from connect to the end of QUIT, start-up left out. */
  inProcess?: number;
}

/** Where a client runs. */
export interface ClientContext {
  /** A scratch directory for scripts and lists. */
  scratch: string;
  /** The deadline of one operation. */
  timeoutMs: number;
}

/** A client. */
export interface BenchClient {
  /** Its name. */
  name: ClientName;
  /** Name and version, for the tables' header. */
  version: string;
  /** Whether it can perform an operation (a cell it cannot is `n/a`). */
  supports(op: Operation["op"]): boolean;
  /** Performs an operation. */
  run(server: BenchServer, operation: Operation, context: ClientContext): Promise<ClientRun>;
}

const BENCH_DIR = fileURLToPath(new URL(".", import.meta.url));
let serial = 0;
const scratchName = (context: ClientContext, suffix: string) =>
  join(context.scratch, `op-${process.pid}-${++serial}${suffix}`);

// ---------------------------------------------------------------------------------------------
// lftp

function lftpQuote(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

class Lftp implements BenchClient {
  readonly name = "lftp" as const;
  readonly version = firstLine("lftp", ["--version"]).replace(
    /^LFTP \| Version (\S+).*/,
    "lftp $1",
  );

  supports(): boolean {
    return true;
  }

  async run(server: BenchServer, operation: Operation, context: ClientContext): Promise<ClientRun> {
    let body: string[];
    switch (operation.op) {
      case "retr":
        body = [`get ${lftpQuote(operation.remote)} -o ${lftpQuote(operation.local)}`];
        break;
      case "stor":
        body = [`put ${lftpQuote(operation.local)} -o ${lftpQuote(operation.remote)}`];
        break;
      case "mretr":
        body = [
          `get -O ${lftpQuote(operation.localDir)} ${operation.remotes.map(lftpQuote).join(" ")}`,
        ];
        break;
      case "pretr":
        body = [
          `set net:connection-limit ${operation.remotes.length}`,
          `mget -P ${operation.remotes.length} -O ${lftpQuote(operation.localDir)} ${
            operation.remotes.map(lftpQuote).join(" ")
          }`,
        ];
        break;
      case "list":
        body = [`ls ${lftpQuote(operation.remote)} > ${lftpQuote(operation.out)}`];
        break;
      case "logins":
        body = Array.from({ length: operation.count }, () => ["quote NOOP", "close"]).flat();
        break;
    }
    const script = scratchName(context, ".lftp");
    writeFileSync(
      script,
      [
        "set cmd:fail-exit yes",
        "set cmd:interactive no",
        "set net:max-retries 1",
        "set net:persist-retries 0",
        "set net:timeout 60",
        "set net:reconnect-interval-base 1",
        "set ftp:ssl-allow no",
        "set ftp:passive-mode yes",
        "set xfer:clobber on",
        // BENCH_LFTP_DEBUG=1: lftp's protocol trace next to the script, its tail in failures.
        ...(process.env.BENCH_LFTP_DEBUG === "1"
          ? [`debug -t -o ${lftpQuote(`${script}.log`)} 5`]
          : []),
        `open -u ${lftpQuote(`${server.user},${server.password}`)} -p ${server.port} 127.0.0.1`,
        ...body,
        "bye",
        "",
      ].join("\n"),
    );
    try {
      const { seconds, cpu } = await runTimed(
        "lftp",
        ["-f", script],
        context.timeoutMs,
        `${script}.times`,
      );
      return { seconds, cpu };
    } catch (error) {
      const trace = await readFile(`${script}.log`, "utf8").catch(() => "");
      if (!trace || !(error instanceof Error)) throw error;
      throw new Error(`${error.message}\nlftp trace:\n${trace.split("\n").slice(-25).join("\n")}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// curl

class Curl implements BenchClient {
  readonly name = "curl" as const;
  readonly version = firstLine("curl", ["--version"]).split(" ").slice(0, 2).join(" ");
  readonly #small: boolean;

  constructor(small: boolean) {
    this.#small = small;
  }

  supports(op: Operation["op"]): boolean {
    return op !== "logins" && (op !== "mretr" || this.#small);
  }

  async run(server: BenchServer, operation: Operation, context: ClientContext): Promise<ClientRun> {
    const url = (path: string) => `ftp://127.0.0.1:${server.port}${path}`;
    const common = ["-sS", "--max-time", String(Math.ceil(context.timeoutMs / 1000))];
    const auth = ["-u", `${server.user}:${server.password}`];
    let args: string[];
    const list = (remotes: string[], dir: string) => {
      const file = scratchName(context, ".curl");
      writeFileSync(
        file,
        remotes.map((r) => `url = "${url(r)}"\noutput = "${join(dir, r.split("/").at(-1)!)}"\n`)
          .join(""),
      );
      return file;
    };
    switch (operation.op) {
      case "retr":
        args = [...common, ...auth, "-o", operation.local, url(operation.remote)];
        break;
      case "stor":
        args = [...common, ...auth, "-T", operation.local, url(operation.remote)];
        break;
      case "mretr":
        args = [...common, ...auth, "-K", list(operation.remotes, operation.localDir)];
        break;
      case "pretr":
        args = [
          ...common,
          ...auth,
          "-Z",
          "--parallel-immediate",
          "--parallel-max",
          String(Math.min(300, operation.remotes.length)),
          "-K",
          list(operation.remotes, operation.localDir),
        ];
        break;
      case "list":
        args = [...common, ...auth, "-o", operation.out, url(`${operation.remote}/`)];
        break;
      case "logins":
        throw new Error("curl: no logins operation");
    }
    const { seconds, cpu } = await runTimed(
      "curl",
      args,
      context.timeoutMs,
      scratchName(context, ".times"),
    );
    return { seconds, cpu };
  }
}

// ---------------------------------------------------------------------------------------------
// Drivers: ours (each runtime) and ftplib, one protocol

class Driver implements BenchClient {
  readonly name: ClientName;
  readonly version: string;
  readonly #argv: string[];

  constructor(name: ClientName, version: string, argv: string[]) {
    this.name = name;
    this.version = version;
    this.#argv = argv;
  }

  supports(op: Operation["op"]): boolean {
    return op !== "logins";
  }

  async run(server: BenchServer, operation: Operation, context: ClientContext): Promise<ClientRun> {
    let args: string[];
    switch (operation.op) {
      case "retr":
        args = [operation.remote, operation.local];
        break;
      case "stor":
        args = [operation.local, operation.remote];
        break;
      case "mretr":
      case "pretr": {
        const file = scratchName(context, ".list");
        writeFileSync(file, `${operation.remotes.join("\n")}\n`);
        args = [file, operation.localDir];
        break;
      }
      case "list":
        args = [operation.remote, operation.out];
        break;
      case "logins":
        throw new Error(`${this.name}: no logins operation`);
    }
    const [command, ...prefix] = this.#argv;
    const result = await runTimed(
      command,
      [
        ...prefix,
        operation.op,
        "127.0.0.1",
        String(server.port),
        server.user,
        server.password,
        ...args,
      ],
      context.timeoutMs,
      scratchName(context, ".times"),
    );
    const line = result.stdout.trim().split("\n").at(-1) ?? "";
    let inProcess: number | undefined;
    try {
      inProcess = (JSON.parse(line) as { seconds: number }).seconds;
    } catch {
      throw new Error(`${this.name}: no result line in ${JSON.stringify(result.stdout)}`);
    }
    return { seconds: result.seconds, cpu: result.cpu, inProcess };
  }
}

/**
 * Makes a client.
 *
 * @param name Which.
 * @param options The npm build (ours under Node), curl's small-files opt-in, runtime versions.
 * @returns The client.
 */
export function makeClient(
  name: ClientName,
  options: { npmDir?: string; curlSmall: boolean; runtimeVersion: (r: Runtime) => string },
): BenchClient {
  switch (name) {
    case "lftp":
      return new Lftp();
    case "curl":
      return new Curl(options.curlSmall);
    case "ftplib": {
      const version = firstLine(PYTHON, ["--version"]).replace(/^Python /, "");
      return new Driver("ftplib", `ftplib (Python ${version})`, [
        PYTHON,
        join(BENCH_DIR, "_ftplib_driver.py"),
      ]);
    }
    default: {
      const runtime = name.slice("ours-".length) as Runtime;
      return new Driver(
        name,
        `streamftp on ${options.runtimeVersion(runtime)}`,
        runtimeArgv(runtime, join(BENCH_DIR, "_client_driver.mjs"), [
          moduleUrl(runtime, "client", options.npmDir),
        ]),
      );
    }
  }
}

/**
 * Why a client cannot run here, if it cannot.
 *
 * @param name The client.
 * @param npmDir The npm build (ours under Node).
 * @returns The reason, or `undefined`.
 */
export function clientUnavailable(name: ClientName, npmDir?: string): string | undefined {
  switch (name) {
    case "lftp":
    case "curl":
      return firstLine(name, ["--version"]) === "?" ? `${name} not found` : undefined;
    case "ftplib":
      return firstLine(PYTHON, ["--version"]) === "?" ? `${PYTHON} not found` : undefined;
    case "ours-deno":
      return undefined;
    case "ours-bun":
      return firstLine("bun", ["--version"]) === "?" ? "bun not found" : undefined;
    case "ours-node":
      return npmDir ? undefined : "no npm build";
  }
}
