/**
 * The package leg of the test suite: the npm build used from outside the repository, the way its
 * users get it. Packs the build (`npm pack`), installs the tarball into a new project in a
 * temporary directory (`npm init -y`, `npm install --offline`: the package depends on nothing),
 * and there
 *
 * - runs `examples/node_script.mjs` (a round trip through the package's `Server` and `Client`)
 *   and a script importing every entry point, each with Node and with Bun,
 * - serves memory with the `streamftp` command, puts a file and gets it back with
 *   `npx streamftp`, and stops the server with SIGTERM,
 * - type-checks a TypeScript consumer with `nodenext` and with `bundler` module resolution;
 *
 * then runs `deno publish --dry-run` in the repository (the JSR package, slow types included).
 *
 * Usage: `deno run -A tests/package/check_package.ts [--build DIR]`. The build is `npm/` by
 * default, the one the node leg made; where it holds no package, `build_npm.ts --no-test` makes
 * one first. Prints one line per check, `ok NAME: ...` or `FAILED NAME: ...`, then
 * `package: N passed, M failed`; exits non-zero when a check failed.
 *
 * @module
 */

import { createHash, randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { bunCommand } from "./bun_command.ts";
import { ENTRY_POINTS_SCRIPT, TYPES_CONSUMER } from "./consumer_sources.ts";

const root = new URL("../..", import.meta.url).pathname;
const build = resolve(
  parseArgs({ args: Deno.args, options: { build: { type: "string", default: `${root}npm` } } })
    .values.build,
);
const tools = `${root}.tmp/npm-tools/node_modules`;
/** Bounds each command; building the package may take longer. */
const COMMAND_TIMEOUT = 60_000;
const BUILD_TIMEOUT = 300_000;

/** A command that failed, with the end of what it printed. */
class CommandError extends Error {
  constructor(message: string, readonly output: string) {
    super(message);
    this.name = "CommandError";
  }
}

/** Runs a command to its end; rejects with its output when it exits non-zero. */
async function run(
  cmd: string,
  args: string[],
  cwd: string,
  timeout = COMMAND_TIMEOUT,
): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(cmd, {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeout),
  }).output();
  const decoder = new TextDecoder();
  const out = decoder.decode(stdout);
  if (code !== 0) {
    const output = `${out}${decoder.decode(stderr)}`;
    throw new CommandError(`\`${[cmd, ...args].join(" ")}\` exited with ${code}`, output);
  }
  return out;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

const ANSI = new RegExp(String.fromCharCode(27) + "\\[[0-9;]*m", "g");
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

let passed = 0;
let failed = 0;

/** Runs one check and prints its line: `ok NAME: detail (s)` or `FAILED NAME: why`. */
async function check(name: string, body: () => Promise<string>): Promise<boolean> {
  const started = Date.now();
  try {
    const detail = await body();
    passed++;
    console.log(`ok ${name}: ${detail} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return true;
  } catch (error) {
    failed++;
    console.log(`FAILED ${name}: ${error instanceof Error ? error.message : error}`);
    if (error instanceof CommandError) {
      console.log(error.output.trimEnd().split("\n").slice(-40).map((l) => `    ${l}`).join("\n"));
    }
    return false;
  }
}

interface PackedFile {
  path: string;
  mode: number;
}

/** `npm pack`s the build into `dir`; checks what the tarball holds against package.json. */
async function pack(dir: string): Promise<{ tarball: string; detail: string }> {
  const [packed] = JSON.parse(
    await run("npm", ["pack", "--json", "--pack-destination", dir], build),
  ) as { filename: string; size: number; unpackedSize: number; files: PackedFile[] }[];
  const manifest = JSON.parse(await Deno.readTextFile(`${build}/package.json`));
  const files = new Map(packed.files.map((f) => [f.path, f]));
  const problems: string[] = [];
  const targets = Object.values(manifest.exports as Record<string, Record<string, string>>)
    .flatMap((conditions) => Object.values(conditions));
  for (const target of targets) {
    if (!files.has(target.replace(/^\.\//, ""))) problems.push(`export ${target} missing`);
  }
  const bin = (manifest.bin?.streamftp ?? "").replace(/^\.\//, "");
  const binFile = files.get(bin);
  if (!binFile) problems.push(`bin streamftp (${bin || "none"}) missing`);
  else if ((binFile.mode & 0o111) === 0) problems.push(`bin ${bin} not executable`);
  else if (!(await Deno.readTextFile(`${build}/${bin}`)).startsWith("#!/usr/bin/env node\n")) {
    problems.push(`bin ${bin} lacks a node shebang`);
  }
  for (const path of files.keys()) {
    if (/^(tests|examples|bench)\//.test(path) || /(?<!\.d)\.ts$/.test(path)) {
      problems.push(`${path} should not ship`);
    }
  }
  for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
    if (manifest[field]) problems.push(`${field} present`);
  }
  if (problems.length) throw new Error(problems.join("; "));
  await checkNeedsNoFix(manifest, dir);
  return {
    tarball: `${dir}/${packed.filename}`,
    detail: `${packed.filename}, ${files.size} files, ${kib(packed.size)} packed, ` +
      `${kib(packed.unpackedSize)} unpacked, no dependencies, bin streamftp -> ${bin}`,
  };
}

/** Fails when `npm pkg fix` would change the manifest, as `npm publish` then does. */
async function checkNeedsNoFix(manifest: unknown, dir: string): Promise<void> {
  await Deno.mkdir(`${dir}/pkg-fix`);
  await Deno.writeTextFile(`${dir}/pkg-fix/package.json`, JSON.stringify(manifest));
  await run("npm", ["pkg", "fix"], `${dir}/pkg-fix`);
  const fixed = await Deno.readTextFile(`${dir}/pkg-fix/package.json`);
  if (JSON.stringify(JSON.parse(fixed)) !== JSON.stringify(manifest)) {
    throw new CommandError("npm pkg fix changes package.json", fixed);
  }
}

/** A new project that installs the tarball, the way a user's project would. */
async function install(project: string, tarball: string): Promise<string> {
  await run("npm", ["init", "-y"], project);
  await run("npm", ["pkg", "set", "type=module"], project);
  await run("npm", ["install", "--offline", "--no-audit", "--no-fund", tarball], project);
  const installed = [];
  for await (const entry of Deno.readDir(`${project}/node_modules`)) installed.push(entry.name);
  const packages = installed.filter((name) => !name.startsWith(".")).sort();
  if (packages.join() !== "streamftp") throw new Error(`installed ${packages.join(", ")}`);
  if (!await exists(`${project}/node_modules/.bin/streamftp`)) {
    throw new Error("node_modules/.bin/streamftp missing");
  }
  const { version } = JSON.parse(
    await Deno.readTextFile(`${project}/node_modules/streamftp/package.json`),
  );
  return `streamftp@${version} alone in ${project}, with node_modules/.bin/streamftp`;
}

/** Reads `stream` to its first line; the rest is read on in the background into `rest`. */
async function firstLine(
  stream: ReadableStream<Uint8Array>,
): Promise<{ line: string; rest: Promise<string> }> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  const read = async () => {
    const { value, done } = await reader.read();
    return done ? undefined : decoder.decode(value, { stream: true });
  };
  let text = "";
  while (!text.includes("\n")) {
    const chunk = await read();
    if (chunk === undefined) break;
    text += chunk;
  }
  const newline = text.indexOf("\n");
  const line = newline === -1 ? text : text.slice(0, newline);
  const rest = (async () => {
    let more = text.slice(line.length);
    for (let chunk = await read(); chunk !== undefined; chunk = await read()) more += chunk;
    return more;
  })();
  return { line: line.trim(), rest };
}

/** The child's exit status, or `undefined` when it is still running after `ms`. */
async function exitWithin(
  child: Deno.ChildProcess,
  ms: number,
): Promise<Deno.CommandStatus | undefined> {
  let timer: number | undefined;
  const late = new Promise<undefined>((resolve) => timer = setTimeout(resolve, ms));
  return await Promise.race([child.status, late]).finally(() => clearTimeout(timer));
}

/** Kills the child unless it has exited already; resolves with its status. */
async function kill(child: Deno.ChildProcess): Promise<Deno.CommandStatus> {
  try {
    child.kill("SIGKILL");
  } catch {
    // It had exited.
  }
  return await child.status;
}

/**
 * `streamftp serve` on memory in the background, `npx streamftp put` and `get` against it, then
 * SIGTERM: the bytes must come back unchanged and the server exit with 0. The server runs as
 * `node_modules/.bin/streamftp` (its shebang and exec bit at work): under `npx` a SIGTERM stops
 * npx's shell, not the command (a terminal's Ctrl-C reaches the whole process group).
 */
async function cliRoundTrip(project: string): Promise<string> {
  const server = new Deno.Command(`${project}/node_modules/.bin/streamftp`, {
    args: ["serve", "--port", "0", "--memory", "--anonymous", "--writable"],
    cwd: project,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(COMMAND_TIMEOUT),
  }).spawn();
  const errors = new Response(server.stderr).text();
  let status: Deno.CommandStatus | undefined;
  try {
    const { line, rest } = await firstLine(server.stdout);
    if (!/^ftp:\/\/\S+$/.test(line)) {
      status = await kill(server);
      throw new CommandError(`serve printed "${line}", not its URL`, await errors);
    }
    const url = new URL("cli.bin", line);
    const sent = randomBytes(1024 * 1024 + 3);
    await Deno.writeFile(`${project}/upload.bin`, sent);
    await run("npx", ["streamftp", "put", "upload.bin", url.href], project);
    await run("npx", ["streamftp", "get", url.href, "download.bin"], project);
    const received = await Deno.readFile(`${project}/download.bin`);
    if (sha256(received) !== sha256(sent)) {
      throw new Error(`got ${received.length} bytes that differ from the ${sent.length} put`);
    }
    server.kill("SIGTERM");
    status = await exitWithin(server, 10_000);
    if (!status) throw new Error("serve still runs 10 s after SIGTERM");
    await rest;
    if (status.code !== 0) {
      throw new CommandError(`serve exited with ${status.code} on SIGTERM`, await errors);
    }
    return `serve on ${line}, put and get of ${kib(sent.length)} (sha256 equal), ` +
      "SIGTERM: exit 0";
  } finally {
    if (!status) await kill(server);
  }
}

/** tsc on the TypeScript consumer with one module setting, strict, the libraries' types too. */
async function typeCheck(
  project: string,
  module: "NodeNext" | "ESNext",
  moduleResolution: "NodeNext" | "Bundler",
): Promise<string> {
  // The project's @types/node is build_npm.ts's, linked rather than installed again.
  const nodeTypes = `${project}/node_modules/@types/node`;
  if (!await exists(nodeTypes)) {
    await Deno.mkdir(`${project}/node_modules/@types`, { recursive: true });
    await Deno.symlink(`${tools}/@types/node`, nodeTypes);
  }
  const config = `tsconfig.${moduleResolution.toLowerCase()}.json`;
  const compilerOptions = {
    target: "ES2022",
    module,
    moduleResolution,
    strict: true,
    skipLibCheck: false,
    noEmit: true,
    types: ["node"],
  };
  await Deno.writeTextFile(
    `${project}/${config}`,
    JSON.stringify({ compilerOptions, files: ["consumer.ts"] }, null, 2),
  );
  await run("node", [`${tools}/typescript/bin/tsc`, "-p", config], project);
  const { version } = JSON.parse(await Deno.readTextFile(`${tools}/typescript/package.json`));
  return `tsc ${version}, module ${module}, moduleResolution ${moduleResolution}, strict, ` +
    "no skipLibCheck";
}

/** The JSR side: `deno publish --dry-run`, which fails on slow types. */
async function publishDryRun(): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["publish", "--dry-run", "--allow-dirty"],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(COMMAND_TIMEOUT),
  }).output();
  const decoder = new TextDecoder();
  // Deno colours its output where FORCE_COLOR is set to anything, NO_COLOR or not.
  const output = (decoder.decode(stdout) + decoder.decode(stderr)).replace(ANSI, "");
  if (code !== 0) throw new CommandError(`deno publish --dry-run exited with ${code}`, output);
  const name = /Simulating publish of (\S+)/.exec(output)?.[1];
  const files = output.match(/^\s+file:\/\//gm)?.length ?? 0;
  const warnings = output.match(/^warning\[/gm)?.length ?? 0;
  return `${name}, ${files} files, no slow types${warnings ? `, ${warnings} warnings` : ""}`;
}

const started = Date.now();
const scratch = await Deno.makeTempDir({ prefix: "streamftp-package-" });
const project = `${scratch}/consumer`;
try {
  let ready = await exists(`${build}/package.json`);
  if (!ready) {
    ready = await check("npm build", async () => {
      const args = ["run", "-A", `${root}build_npm.ts`, "--no-test", "--out", build];
      await run(Deno.execPath(), args, root, BUILD_TIMEOUT);
      return `build_npm.ts --no-test into ${build} (there was none)`;
    });
  }
  let tarball = "";
  ready = ready && await check("npm pack", async () => {
    const packed = await pack(scratch);
    tarball = packed.tarball;
    return packed.detail;
  });
  await Deno.mkdir(project);
  ready = ready && await check("npm install", () => install(project, tarball));
  const inProject = (name: string, body: () => Promise<string>) =>
    check(name, () => ready ? body() : Promise.reject(new Error("no project: see above")));

  await Deno.copyFile(`${root}examples/node_script.mjs`, `${project}/node_script.mjs`);
  await Deno.writeTextFile(`${project}/entry_points.mjs`, ENTRY_POINTS_SCRIPT);
  const [bun, ...bunArgs] = bunCommand();
  for (const [runtime, cmd, args] of [["node", "node", []], ["bun", bun, bunArgs]] as const) {
    for (const script of ["node_script.mjs", "entry_points.mjs"]) {
      await inProject(
        `${runtime} ${script}`,
        async () => (await run(cmd, [...args, script], project)).trim(),
      );
    }
  }
  await inProject("cli serve/put/get", () => cliRoundTrip(project));

  await Deno.writeTextFile(`${project}/consumer.ts`, TYPES_CONSUMER);
  await inProject("types nodenext", () => typeCheck(project, "NodeNext", "NodeNext"));
  await inProject("types bundler", () => typeCheck(project, "ESNext", "Bundler"));

  await check("deno publish --dry-run", publishDryRun);
} finally {
  await Deno.remove(scratch, { recursive: true });
}
console.log(
  `package: ${passed} passed, ${failed} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`,
);
Deno.exit(failed ? 1 : 0);
