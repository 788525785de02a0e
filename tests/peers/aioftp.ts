/**
 * aioftp 0.21.4 (Debian's python3-aioftp) for the client's interop tests, through its command
 * line: one user, a temporary root, IPv4, kernel-chosen passive ports.
 *
 * @module
 */

import { systemPython } from "../_util.ts";
import { launchPeer, peerDirs, type PeerServer, pickPorts } from "./peer.ts";

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
  return await launchPeer({
    name: "aioftp",
    command: systemPython,
    args: [
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
    dirs,
    user: USER,
    password: PASSWORD,
  });
}
