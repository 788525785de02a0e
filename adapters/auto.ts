/**
 * Picks the running runtime's {@linkcode Network} and registers it as the default on import,
 * with the calls the client makes on local files (`Deno.*` in Deno, `node:fs` elsewhere). A
 * server's local file access is registered by `auto_file_access.ts`, which the server's entry
 * points import: a client never loads it (nor `node:fs`, in Deno).
 * The environment variable `STREAMFTP_ADAPTER` (`node`, `deno` or `bun`) overrides the choice,
 * for instance to run node:net under Bun; `node` also means `node:fs` for local files.
 *
 * Importing the three adapters is cheap: none touches its runtime before it is used.
 *
 * @module
 */

import type { Network } from "../lib/socket.ts";
import { setDefaultNetwork } from "../lib/network_registry.ts";
import { setLocalFiles } from "../lib/client/local_files.ts";
import { denoLocalFiles } from "./_deno_client_files.ts";
import { bunNetwork } from "./bun.ts";
import { denoNetwork } from "./deno.ts";
import { nodeNetwork } from "./node.ts";

/** The socket contract this adapter implements. */
export type * from "../lib/socket.ts";

const byName: Record<string, Network> = {
  node: nodeNetwork,
  deno: denoNetwork,
  bun: bunNetwork,
};

/**
 * Returns the network adapter for the running runtime: Bun's, Deno's, or node:net's
 * otherwise. `STREAMFTP_ADAPTER=node|deno|bun` overrides the detection.
 *
 * @example
 * ```ts
 * import { detectNetwork } from "./auto.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(["bun", "deno", "node"].includes(detectNetwork().name));
 * ```
 *
 * @returns The adapter.
 * @throws {TypeError} When `STREAMFTP_ADAPTER` names no adapter.
 */
export function detectNetwork(): Network {
  const chosen = adapterFromEnvironment();
  if (chosen) {
    const network = byName[chosen];
    if (!network) {
      throw new TypeError(
        `Unknown STREAMFTP_ADAPTER "${chosen}": expected "node", "deno" or "bun"`,
      );
    }
    return network;
  }
  if ("Bun" in globalThis) return bunNetwork;
  if ("Deno" in globalThis) return denoNetwork;
  return nodeNetwork;
}

/**
 * Reads STREAMFTP_ADAPTER where the environment may be read without asking: through
 * `Deno.env` in Deno (`node:process` would cost Deno 10–20 ms of start-up), `process.env`
 * elsewhere.
 */
function adapterFromEnvironment(): string | undefined {
  const global = globalThis as unknown as {
    Deno?: {
      permissions?: { querySync?(d: { name: "env"; variable: string }): { state: string } };
      env: { get(name: string): string | undefined };
    };
    process?: { env: Record<string, string | undefined> };
  };
  // Not `globalThis.process` in Deno: its first read loads node:process (about 10 ms).
  const deno = global.Deno;
  // Deno without --allow-env would prompt (or throw) on the read: look only when granted.
  const query = deno?.permissions?.querySync?.({ name: "env", variable: "STREAMFTP_ADAPTER" });
  if (query && query.state !== "granted") return undefined;
  try {
    return (deno ? deno.env.get("STREAMFTP_ADAPTER") : global.process?.env.STREAMFTP_ADAPTER) ||
      undefined;
  } catch {
    return undefined;
  }
}

const network = detectNetwork();
setDefaultNetwork(network);
if (network === denoNetwork) setLocalFiles(denoLocalFiles);
