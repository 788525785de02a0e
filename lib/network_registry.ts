/**
 * The default {@linkcode Network}: the entry points register the running runtime's adapter
 * here, so that `Client` and `Server` work without one being passed.
 *
 * @module
 */

import type { Network } from "./socket.ts";

let current: Network | undefined;

/**
 * Sets the network used when a client or server is given none.
 *
 * @param network The adapter to use by default.
 */
export function setDefaultNetwork(network: Network): void {
  current = network;
}

/**
 * Returns the default network.
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
