/**
 * streamftp's own server for the client's interop tests: one user on a `LocalFileSystem` over a
 * temporary root, in this process, on a free loopback port.
 *
 * @module
 */

import { LocalFileSystem } from "../../lib/fs/local.ts";
import { Server, type ServerOptions } from "../../lib/server/server.ts";
import { User } from "../../lib/server/user.ts";
import { testNetwork } from "../_util.ts";
import { peerDirs, type PeerServer, removeDirs } from "./peer.ts";

const USER = "streamftp";
const PASSWORD = "streamftp-secret";

/**
 * Starts the project's server.
 *
 * @param options Extra server options (a passive address, limits...).
 * @returns The running server; `base` is `/`.
 */
export async function startOwnServer(options: ServerOptions = {}): Promise<PeerServer> {
  const dirs = await peerDirs("streamftp");
  const server = new Server({
    users: [new User({ login: USER, password: PASSWORD })],
    fileSystem: new LocalFileSystem(dirs.root),
    network: testNetwork(),
    ...options,
  });
  try {
    await server.start("127.0.0.1", 0);
  } catch (error) {
    await removeDirs(dirs);
    throw error;
  }
  return {
    name: "streamftp",
    host: "127.0.0.1",
    port: server.address.port,
    user: USER,
    password: PASSWORD,
    root: dirs.root,
    base: "/",
    async stop() {
      await server.close();
      await removeDirs(dirs);
    },
  };
}
