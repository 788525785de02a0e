/**
 * streamftp's client as the bench drives it, one process per operation, in Deno, Bun and Node
 * alike: plain JavaScript, so Node 20 runs it unchanged on the npm build.
 *
 * Usage: `<runtime> bench/_client_driver.mjs CLIENT_MODULE_URL OP HOST PORT USER PASSWORD ARGS`,
 * the module being the repository's `client.ts` (Deno, Bun) or the npm build's `client.js`
 * (Node). The operations (the same protocol as `_ftplib_driver.py`):
 *
 * - `retr REMOTE LOCAL`: `download(REMOTE, LOCAL, { writeInto: true })`;
 * - `stor LOCAL REMOTE`: `upload(LOCAL, REMOTE, { writeInto: true })`;
 * - `mretr LIST_FILE LOCAL_DIR`: every remote path of LIST_FILE (one per line) downloaded
 *   into LOCAL_DIR, one after the other on one session;
 * - `pretr LIST_FILE LOCAL_DIR`: the same, all at once, one session (client) per file;
 * - `list REMOTE_DIR OUT_FILE`: `list(REMOTE_DIR)`, one entry name per line into OUT_FILE.
 *
 * On success it prints one JSON line, `{"seconds": S, "cpu": C}`: the time from `connect` to
 * the end of `quit()` and the CPU it took, start-up left out (the bench times the whole
 * process too). On failure it prints the error and exits 1.
 *
 * @module
 */

// In Deno, what a Deno program would use: `node:fs`, `node:path` and `node:process` would cost
// it 35–50 ms of start-up that no Deno user of the client pays.
const system = globalThis.Deno ? denoSystem(globalThis.Deno) : await nodeSystem();
const [moduleUrl, op, host, port, user, password, ...args] = system.args;
const { Client } = await import(moduleUrl);

function denoSystem(deno) {
  const encoder = new TextEncoder();
  return {
    args: deno.args,
    readText: (path) => deno.readTextFileSync(path),
    writeText: (path, text) => deno.writeTextFileSync(path, text),
    cpuUsage: () => deno.cpuUsage(),
    stdout: (text) => deno.stdout.writeSync(encoder.encode(text)),
    stderr: (text) => deno.stderr.writeSync(encoder.encode(text)),
    exit: (code) => deno.exit(code),
  };
}

async function nodeSystem() {
  const { readFileSync, writeFileSync } = await import("node:fs");
  const { default: process } = await import("node:process");
  return {
    args: process.argv.slice(2),
    readText: (path) => readFileSync(path, "utf8"),
    writeText: (path, text) => writeFileSync(path, text),
    cpuUsage: () => process.cpuUsage(),
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    exit: (code) => process.exit(code),
  };
}

// The bench runs on Linux: local paths are joined with "/".
const join = (dir, name) => `${dir}/${name}`;
const basename = (path) => path.slice(path.lastIndexOf("/") + 1);

async function session(work) {
  const client = await Client.connect(host, Number(port));
  try {
    await client.login(user, password);
    await work(client);
  } finally {
    await client.quit();
  }
}

const remotes = () => system.readText(args[0]).split("\n").filter((line) => line !== "");
const cpu0 = system.cpuUsage();
const started = performance.now();
try {
  switch (op) {
    case "retr":
      await session((client) => client.download(args[0], args[1], { writeInto: true }));
      break;
    case "stor":
      await session((client) => client.upload(args[0], args[1], { writeInto: true }));
      break;
    case "mretr": {
      const paths = remotes();
      await session(async (client) => {
        for (const path of paths) {
          await client.download(path, join(args[1], basename(path)), { writeInto: true });
        }
      });
      break;
    }
    case "pretr":
      await Promise.all(
        remotes().map((path) =>
          session((client) =>
            client.download(path, join(args[1], basename(path)), { writeInto: true })
          )
        ),
      );
      break;
    case "list": {
      const names = [];
      await session(async (client) => {
        for await (const item of client.list(args[0])) names.push(item.info.name);
      });
      system.writeText(args[1], names.length ? `${names.join("\n")}\n` : "");
      break;
    }
    default:
      throw new Error(`unknown operation ${op}`);
  }
} catch (error) {
  // The whole chain of causes: a wrapped socket error says more than its wrapper.
  for (let cause = error; cause !== undefined; cause = cause?.cause) {
    system.stderr(`${cause === error ? "" : "caused by: "}${cause?.stack ?? cause}\n`);
  }
  system.exit(1);
}
const seconds = (performance.now() - started) / 1000;
const used = system.cpuUsage();
const cpu = (used.user - cpu0.user + used.system - cpu0.system) / 1e6;
system.stdout(`${JSON.stringify({ seconds, cpu })}\n`);
system.exit(0);
