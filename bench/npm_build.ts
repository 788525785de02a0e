/**
 * The npm build our code runs from under Node (Node 20 runs no TypeScript). `auto` uses a copy
 * of the repository's `npm/` when that is complete and at least as new as the sources, and
 * otherwise builds a private one: a copy of the sources in the bench's temp directory, built
 * there with `build_npm.ts --no-test` (reusing the repository's `.tmp/npm-tools` when present),
 * so that the bench neither measures stale code nor writes into the working tree. The build is
 * copied at the start because a `build_npm.ts` run elsewhere begins by deleting `npm/`.
 *
 * @module
 */

import { existsSync, readdirSync, statSync } from "node:fs";
import { cp, mkdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runTimed } from "./spawn.ts";

/** How to get the npm build: see the module doc; `skip` measures no Node. */
export type NodeBuildMode = "auto" | "repo" | "fresh" | "skip";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const SOURCES = ["mod.ts", "client.ts", "server.ts", "adapters", "lib", "examples", "tests"];
const EXTRA = ["deno.json", "build_npm.ts", "README.md", "LICENSE"];

function newest(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let time = info.mtimeMs;
  for (const name of readdirSync(path)) time = Math.max(time, newest(join(path, name)));
  return time;
}

/**
 * Finds or builds the npm build.
 *
 * @param mode How.
 * @param tmp The bench's temp directory (a fresh build goes under it).
 * @returns The directory holding `server.js` and `client.js`, or a note saying why there is none;
 * with a note about which build was used.
 */
export async function nodeBuild(
  mode: NodeBuildMode,
  tmp: string,
): Promise<{ dir?: string; note: string }> {
  if (mode === "skip") return { note: "Node: not measured (--node-build skip)." };
  const repoBuild = join(REPO, "npm");
  // package.json is written after the compiler is done, so with it the build is complete.
  const hasRepoBuild = ["server.js", "client.js", "package.json"]
    .every((name) => existsSync(join(repoBuild, name)));
  // The build is copied, not used in place: a build_npm.ts run elsewhere starts by deleting it.
  const snapshot = async (note: string) => {
    const dir = join(tmp, "npm-repo");
    await cp(repoBuild, dir, {
      recursive: true,
      filter: (path) => !/\/npm\/(tests|examples)(\/|$)/.test(path),
    });
    return { dir, note };
  };
  if (mode === "repo") {
    return hasRepoBuild
      ? await snapshot("Node: the repository's npm/ build (a copy taken at the start).")
      : { note: "Node: not measured: no npm/ build (`deno run -A build_npm.ts --no-test`)." };
  }
  if (mode === "auto" && hasRepoBuild) {
    const built = statSync(join(repoBuild, "server.js")).mtimeMs;
    const sources = Math.max(
      ...["mod.ts", "client.ts", "server.ts", "adapters", "lib"].map((p) => newest(join(REPO, p))),
    );
    if (built >= sources) {
      return await snapshot("Node: the repository's npm/ build (a copy taken at the start).");
    }
  }
  const copy = join(tmp, "npm-build");
  await mkdir(join(copy, ".tmp"), { recursive: true });
  for (const path of [...SOURCES, ...EXTRA]) {
    if (existsSync(join(REPO, path))) {
      await cp(join(REPO, path), join(copy, path), { recursive: true });
    }
  }
  const tools = join(REPO, ".tmp", "npm-tools");
  if (existsSync(tools)) await symlink(tools, join(copy, ".tmp", "npm-tools"));
  process.stderr.write("building the npm package from the working tree (for Node)...\n");
  try {
    const deno = "Deno" in globalThis ? process.execPath : "deno";
    await runTimed(
      deno,
      ["run", "-A", "build_npm.ts", "--no-test"],
      300e3,
      join(tmp, "npm.times"),
      {
        cwd: copy,
      },
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { note: `Node: not measured: the npm build of the working tree failed: ${message}` };
  }
  return {
    dir: join(copy, "npm"),
    note: "Node: a fresh npm build of the working tree (build_npm.ts --no-test in a temp copy).",
  };
}
