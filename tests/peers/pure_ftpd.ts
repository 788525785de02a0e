/**
 * pure-ftpd for the client's interop tests: one virtual user (puredb) mapped to the system
 * `ftp` account, chrooted to a temporary root. The password is stored as SHA-512 crypt, since
 * pure-pw's default (argon2id) costs seconds per login. Runs in the foreground as root.
 *
 * @module
 */

import { chown, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { run } from "../_util.ts";
import { isRoot, launchPeer, peerDirs, type PeerServer, pickPorts, removeDirs } from "./peer.ts";

/** The unpacked pure-ftpd binary. */
export const PURE_FTPD = "/opt/streamftp/pure-ftpd/usr/sbin/pure-ftpd";
/** Its password-database tool. */
export const PURE_PW = "/opt/streamftp/pure-ftpd/usr/bin/pure-pw";

const FTP_UID = 102;
const FTP_GID = 105;
const USER = "streamftp";
const PASSWORD = "streamftp-secret";

/**
 * Starts pure-ftpd.
 *
 * @returns The running server; `base` is `/`.
 */
export async function startPureFtpd(): Promise<PeerServer> {
  if (!isRoot) throw new Error("pure-ftpd tests need root (chroot and the ftp account)");
  const dirs = await peerDirs("pure-ftpd");
  const pdb = join(dirs.state, "pureftpd.pdb");
  try {
    await chown(dirs.root, FTP_UID, FTP_GID);
    const hash = await run("openssl", ["passwd", "-6", "-stdin"], { input: `${PASSWORD}\n` });
    if (hash.code !== 0) throw new Error(`openssl passwd failed: ${hash.stderr}`);
    const passwd = join(dirs.state, "pureftpd.passwd");
    await writeFile(
      passwd,
      `${USER}:${hash.stdout.trim()}:${FTP_UID}:${FTP_GID}::${dirs.root}/./::::::::::::\n`,
      { mode: 0o600 },
    );
    const made = await run(PURE_PW, ["mkdb", pdb, "-f", passwd]);
    if (made.code !== 0) throw new Error(`pure-pw mkdb failed: ${made.stderr}`);
  } catch (error) {
    await removeDirs(dirs);
    throw error;
  }
  const { port, pasvMin, pasvMax } = await pickPorts();
  return await launchPeer({
    name: "pure-ftpd",
    command: PURE_FTPD,
    args: [
      "-S",
      `127.0.0.1,${port}`,
      "-l",
      `puredb:${pdb}`,
      "-E", // no anonymous login
      "-A", // chroot everyone
      "-H", // no DNS lookups
      "-4",
      "-p",
      `${pasvMin}:${pasvMax}`,
      "-c",
      "50",
      "-C",
      "50",
      "-f",
      "none", // no syslog
    ],
    port,
    dirs,
    user: USER,
    password: PASSWORD,
  });
}
