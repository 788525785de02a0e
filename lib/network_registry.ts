/**
 * The default {@linkcode Network}: the entry points register the running runtime's adapter
 * here, so that `Client` and `Server` work without one being passed.
 *
 * @module
 */

import type { Network } from "./socket.ts";

let current: Network | undefined;

/**
 * Sets the network used when a client or server is given none. The entry points register the
 * running runtime's adapter on import; call this to choose another for the whole program.
 *
 * @example node:net everywhere, even under Deno
 * ```ts
 * import { defaultNetwork, setDefaultNetwork } from "./network_registry.ts";
 * import { nodeNetwork } from "../adapters/node.ts";
 * import { Server } from "../server.ts";
 * import assert from "node:assert/strict";
 *
 * const previous = defaultNetwork();
 * setDefaultNetwork(nodeNetwork);
 * try {
 *   assert.equal(new Server().network.name, "node");
 * } finally {
 *   setDefaultNetwork(previous);
 * }
 * ```
 *
 * @param network The adapter to use by default.
 */
export function setDefaultNetwork(network: Network): void {
  current = network;
}

/**
 * Returns the default network: the one {@linkcode setDefaultNetwork} registered last.
 *
 * @example The running runtime's adapter
 * ```ts
 * import { defaultNetwork } from "./network_registry.ts";
 * import { detectNetwork } from "../adapters/auto.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(defaultNetwork(), detectNetwork()); // what adapters/auto.ts registered
 * ```
 *
 * @returns The registered adapter.
 * @throws {Error} When no adapter was registered (import `mod.ts`, `client.ts` or `server.ts`).
 */
export function defaultNetwork(): Network {
  if (!current) {
    throw new Error(
      "No network adapter registered: import streamftp through mod.ts, client.ts or server.ts, or pass a network",
    );
  }
  return current;
}
