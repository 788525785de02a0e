/**
 * Builds the npm package into `npm/` with `npm:typescript` (in place of dnt, which cannot be
 * installed here) and runs the Node leg of the test suite against that build.
 *
 * Usage: `deno run -A build_npm.ts [--no-test] [--out DIR]`
 *
 * 1. Installs typescript and @types/node into `.tmp/npm-tools` (once).
 * 2. Compiles every module, the tests included, to ESM + `.d.ts` under `npm/` (or `--out`).
 * 3. Makes the `./cli` export the package's `streamftp` command (shebang, executable).
 * 4. Runs `node --test` on the compiled tests, then removes them from the package.
 * 5. Writes `package.json` and checks it with `npm pack --dry-run`.
 *
 * `tests/package/check_package.ts` then installs the packed package outside the repository.
 *
 * @module
 */

import { resolve } from "node:path";
import { parseArgs } from "node:util";

const root = new URL(".", import.meta.url).pathname;
const tools = `${root}.tmp/npm-tools`;
const flags = parseArgs({
  args: Deno.args,
  options: { "no-test": { type: "boolean" }, out: { type: "string", default: `${root}npm` } },
}).values;
const out = resolve(flags.out);
const config = JSON.parse(await Deno.readTextFile(`${root}deno.json`));
const runTests = !flags["no-test"];

async function sh(cmd: string, args: string[], cwd = root): Promise<number> {
  const { code } = await new Deno.Command(cmd, { args, cwd, stdout: "inherit", stderr: "inherit" })
    .output();
  return code;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function walk(dir: string, match: (name: string) => boolean): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) found.push(...await walk(path, match));
    else if (match(entry.name)) found.push(path);
  }
  return found.sort();
}

/**
 * Gives the compiled command a Node shebang (tsc keeps one the source has) and the exec bit.
 * A shebang added here moves the code one line down: its source map gets an empty first line.
 */
async function makeExecutable(file: string): Promise<void> {
  const code = await Deno.readTextFile(file);
  if (!code.startsWith("#!")) {
    await Deno.writeTextFile(file, `#!/usr/bin/env node\n${code}`);
    const map = JSON.parse(await Deno.readTextFile(`${file}.map`));
    map.mappings = `;${map.mappings}`;
    await Deno.writeTextFile(`${file}.map`, JSON.stringify(map));
  }
  await Deno.chmod(file, 0o755);
}

if (!await exists(`${tools}/node_modules/typescript/bin/tsc`)) {
  await Deno.mkdir(tools, { recursive: true });
  await Deno.writeTextFile(`${tools}/package.json`, '{"private":true}\n');
  const code = await sh("npm", [
    "install",
    "--no-audit",
    "--no-fund",
    "--silent",
    "typescript@6.0.3",
    "@types/node@20",
  ], tools);
  if (code !== 0) throw new Error("Cannot install typescript and @types/node");
}

await Deno.remove(out, { recursive: true }).catch(() => {});
const sources = ["mod.ts", "client.ts", "server.ts", "adapters", "lib", "examples", "tests"];
const tsconfig = {
  compilerOptions: {
    target: "ES2022",
    module: "ESNext",
    moduleResolution: "Bundler",
    rewriteRelativeImportExtensions: true,
    verbatimModuleSyntax: true,
    declaration: true,
    sourceMap: true,
    // The maps point at sources the package does not ship otherwise.
    inlineSources: true,
    strict: true,
    skipLibCheck: true,
    lib: ["ES2023", "ESNext.Disposable", "DOM", "DOM.Iterable"],
    types: ["node"],
    typeRoots: [`${tools}/node_modules/@types`],
    rootDir: root,
    outDir: out,
  },
  include: sources.map((s) => s.endsWith(".ts") ? `${root}${s}` : `${root}${s}/**/*.ts`),
  // The runner and the package check drive the legs with Deno's own API: not part of the suite.
  exclude: [`${root}tests/run_all.ts`, `${root}tests/package/**`],
};
await Deno.mkdir(`${root}.tmp`, { recursive: true });
await Deno.writeTextFile(`${root}.tmp/tsconfig.build.json`, JSON.stringify(tsconfig, null, 2));
if (
  await sh("node", [
    `${tools}/node_modules/typescript/bin/tsc`,
    "-p",
    `${root}.tmp/tsconfig.build.json`,
  ]) !== 0
) {
  Deno.exit(1);
}

const exports = config.exports as Record<string, string>;
const exportPath = (ts: string) => ts.replace(/^\.\//, "./").replace(/\.ts$/, "");
const exportsMap: Record<string, { types: string; import: string }> = {};
for (const [key, value] of Object.entries(exports)) {
  exportsMap[key] = { types: `${exportPath(value)}.d.ts`, import: `${exportPath(value)}.js` };
}
if (!exports["./cli"]) throw new Error('deno.json has no "./cli" export for the streamftp command');
const cli = `${exportPath(exports["./cli"])}.js`;
await makeExecutable(`${out}/${cli}`);

await Deno.writeTextFile(
  `${out}/package.json`,
  JSON.stringify(
    {
      name: "streamftp",
      version: config.version,
      description:
        "Asynchronous FTP client and server over Web Streams for Deno, Bun and Node (aioftp's counterpart)",
      license: "MIT",
      type: "module",
      main: "./mod.js",
      types: "./mod.d.ts",
      exports: exportsMap,
      // npm's own spelling (no "./"): npm publish would otherwise rewrite the field.
      bin: { streamftp: cli.replace(/^\.\//, "") },
      // The library: the compiled tests and examples are removed before packing, and these
      // patterns keep anything else that lands in the build directory out.
      files: ["*.js", "*.js.map", "*.d.ts", "adapters/", "lib/"],
      // Tested with Node 20 (the README's Runtimes table names the Deno and Bun releases).
      engines: { node: ">=20.3" },
      sideEffects: [
        "./adapters/auto.js",
        "./adapters/auto_file_access.js",
        "./mod.js",
        "./client.js",
        "./server.js",
        cli,
      ],
      keywords: ["ftp", "ftps", "ftp-server", "ftp-client", "deno", "bun", "web-streams"],
    },
    null,
    2,
  ) + "\n",
);
await Deno.copyFile(`${root}README.md`, `${out}/README.md`);
await Deno.copyFile(`${root}LICENSE`, `${out}/LICENSE`);

let failed = false;
if (runTests) {
  const files = await walk(`${out}/tests`, (name) => name.endsWith("_test.js"));
  console.log(`Node leg: ${files.length} test files on the npm build`);
  failed = await sh("node", ["--test", "--test-reporter=spec", ...files]) !== 0;
}
// The package is the library: the suite and the examples it runs are left out.
await Deno.remove(`${out}/tests`, { recursive: true });
await Deno.remove(`${out}/examples`, { recursive: true });
if (await sh("npm", ["pack", "--dry-run", "--silent"], out) !== 0) failed = true;
if (failed) Deno.exit(1);
