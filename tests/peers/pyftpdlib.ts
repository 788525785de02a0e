/**
 * pyftpdlib for the client's interop tests: Debian's system Python with a small inline server
 * (one DummyAuthorizer user with full permissions on a temporary root).
 *
 * @module
 */

import { systemPython } from "../_util.ts";
import { launchPeer, peerDirs, type PeerServer, pickPorts } from "./peer.ts";

const USER = "streamftp";
const PASSWORD = "streamftp-secret";

const SCRIPT = `
import logging, sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.log import config_logging
from pyftpdlib.servers import FTPServer
port, root, user, password, pmin, pmax = sys.argv[1:7]
config_logging(level=logging.ERROR)
auth = DummyAuthorizer()
auth.add_user(user, password, root, perm="elradfmwMT")
handler = FTPHandler
handler.authorizer = auth
handler.passive_ports = list(range(int(pmin), int(pmax) + 1))
server = FTPServer(("127.0.0.1", int(port)), handler)
server.serve_forever()
`;

/**
 * Starts pyftpdlib.
 *
 * @returns The running server; `base` is `/`.
 */
export async function startPyftpdlib(): Promise<PeerServer> {
  const dirs = await peerDirs("pyftpdlib");
  const { port, pasvMin, pasvMax } = await pickPorts();
  return await launchPeer({
    name: "pyftpdlib",
    command: systemPython,
    args: [
      "-c",
      SCRIPT,
      String(port),
      dirs.root,
      USER,
      PASSWORD,
      String(pasvMin),
      String(pasvMax),
    ],
    port,
    dirs,
    user: USER,
    password: PASSWORD,
  });
}
