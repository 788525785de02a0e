/**
 * aioftp 0.21.4 (Debian's python3-aioftp) for the client's interop tests, through its command
 * line: one user, a temporary root, IPv4, kernel-chosen passive ports.
 *
 * @module
 */

import { systemPython } from "../_util.ts";
import { peerDirs, type PeerServer, pickPorts, removeDirs, startPeerProcess } from "./peer.ts";

const USER = "streamftp";
const PASSWORD = "streamftp-secret";

/**
 * Starts the aioftp server.
 *
 * @returns The running server; `base` is `/`.
 */
export async function startAioftp(): Promise<PeerServer> {
  const dirs = await peerDirs("aioftp");
  const { port } = await pickPorts();
  let proc;
  try {
    proc = await startPeerProcess(
      systemPython,
      [
        "-m",
        "aioftp",
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
        "--user",
        USER,
        "--pass",
        PASSWORD,
        "-d",
        dirs.root,
        "-q",
        "--family",
        "ipv4",
      ],
      port,
      dirs.state,
    );
  } catch (error) {
    await removeDirs(dirs);
    throw error;
  }
  return {
    name: "aioftp",
    host: "127.0.0.1",
    port,
    user: USER,
    password: PASSWORD,
    root: dirs.root,
    base: "/",
    supports: { active: false, mlsd: true },
    async stop() {
      await proc.stop();
      await removeDirs(dirs);
    },
  };
}
