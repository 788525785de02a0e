/**
 * Runs the whole test suite in the three runtimes, one after the other: `deno test`, the doc
 * comments' examples (`deno test --doc`), `bun test`, and `node --test` against the npm build
 * (through build_npm.ts); then the package leg
 * (tests/package/check_package.ts), which installs that build outside the repository and uses
 * it there with Node, Bun, npx and tsc, and dry-runs `deno publish`. Prints one summary line
 * per leg and a total, and exits non-zero when any leg fails.
 *
 * Usage: `deno run -A tests/run_all.ts [deno|doc|bun|node|package ...]`
 *
 * @module
 */

import { bunCommand } from "./package/bun_command.ts";

const root = new URL("..", import.meta.url).pathname;
const wanted = Deno.args.length > 0 ? Deno.args : ["deno", "doc", "bun", "node", "package"];

interface Leg {
  name: string;
  cmd: string;
  args: string[];
  count(output: string): { passed: number; failed: number; skipped: number };
}

function lastNumber(output: string, pattern: RegExp): number {
  const all = [...output.matchAll(pattern)];
  return all.length ? Number(all[all.length - 1][1]) : 0;
}

const bun = bunCommand();
const ANSI = new RegExp(String.fromCharCode(27) + "\\[[0-9;]*m", "g");
const stripAnsi = (s: string) => s.replace(ANSI, "");

/**
 * `deno test` reports node:test `it` cases inside a `describe` as steps, printed before their
 * group; a leaf is a result line not preceded by a more indented one.
 */
function countDenoLeaves(output: string): { passed: number; failed: number; skipped: number } {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  let previousIndent = -1;
  for (const line of output.split("\n")) {
    const match = /^(\s*)\S.* \.\.\. (ok|FAILED|ignored)\b/.exec(line);
    if (!match) {
      if (line.startsWith("running ")) previousIndent = -1;
      continue;
    }
    const indent = match[1].length;
    if (previousIndent <= indent) {
      if (match[2] === "ok") counts.passed++;
      else if (match[2] === "FAILED") counts.failed++;
      else counts.skipped++;
    }
    previousIndent = indent;
  }
  return counts;
}

const legs: Leg[] = [
  {
    name: "deno",
    cmd: Deno.execPath(),
    args: ["test", "-A", "--no-check=remote", "tests/"],
    count: countDenoLeaves,
  },
  {
    // Every code block of the library's doc comments, type-checked and run.
    name: "doc",
    cmd: Deno.execPath(),
    args: [
      "test",
      "-A",
      "--doc",
      "--no-check=remote",
      "mod.ts",
      "client.ts",
      "server.ts",
      "adapters/",
      "lib/",
    ],
    count: countDenoLeaves,
  },
  {
    name: "bun",
    cmd: bun[0],
    args: [...bun.slice(1), "test", "--timeout", "60000", "tests/"],
    count: (o) => ({
      passed: lastNumber(o, /^\s*(\d+) pass$/gm),
      failed: lastNumber(o, /^\s*(\d+) fail$/gm),
      skipped: lastNumber(o, /^\s*(\d+) skip$/gm),
    }),
  },
  {
    name: "node",
    cmd: Deno.execPath(),
    args: ["run", "-A", "build_npm.ts"],
    count: (o) => ({
      passed: lastNumber(o, /^ℹ pass (\d+)$/gm),
      failed: lastNumber(o, /^ℹ fail (\d+)$/gm),
      skipped: lastNumber(o, /^ℹ skipped (\d+)$/gm),
    }),
  },
  {
    name: "package",
    cmd: Deno.execPath(),
    args: ["run", "-A", "tests/package/check_package.ts"],
    count: (o) => ({
      passed: lastNumber(o, /^package: (\d+) passed/gm),
      failed: lastNumber(o, /^package: \d+ passed, (\d+) failed/gm),
      skipped: 0,
    }),
  },
];

const results: string[] = [];
let totalPassed = 0;
let totalFailed = 0;
let anyFailed = false;
const started = Date.now();
for (const leg of legs.filter((l) => wanted.includes(l.name))) {
  const t0 = Date.now();
  console.log(`\n=== ${leg.name} leg: ${leg.cmd} ${leg.args.join(" ")}`);
  const child = new Deno.Command(leg.cmd, {
    args: leg.args,
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", FORCE_COLOR: "0" },
  }).spawn();
  let output = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>, sink: typeof Deno.stdout) => {
    for await (const chunk of stream) {
      output += decoder.decode(chunk, { stream: true });
      await sink.write(chunk);
    }
  };
  const [status] = await Promise.all([
    child.status,
    pump(child.stdout, Deno.stdout),
    pump(child.stderr, Deno.stderr),
  ]);
  const { passed, failed, skipped } = leg.count(stripAnsi(output));
  const ok = status.success && failed === 0 && passed > 0;
  if (!ok) anyFailed = true;
  totalPassed += passed;
  totalFailed += failed + (ok ? 0 : failed === 0 ? 1 : 0);
  results.push(
    `${leg.name}: ${passed} passed, ${failed} failed, ${skipped} skipped in ${
      ((Date.now() - t0) / 1000).toFixed(1)
    } s${ok ? "" : ` (exit ${status.code})`}`,
  );
}
console.log(`\n=== summary (${((Date.now() - started) / 1000).toFixed(1)} s)`);
for (const line of results) console.log(line);
console.log(`total: ${totalPassed} passed, ${totalFailed} failed`);
Deno.exit(anyFailed ? 1 : 0);
