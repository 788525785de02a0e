/**
 * pure-ftpd for the client's interop tests: one virtual user (puredb) mapped to the system
 * `ftp` account, chrooted to a temporary root. The password is stored as SHA-512 crypt, since
 * pure-pw's default (argon2id) costs seconds per login. Runs in the foreground as root.
 *
 * With `tls`, pure-ftpd 1.0.50 runs FTPS: `--tls=3` (`-Y 3`: TLS required on the control and
 * the data connections; 1 would allow it, 2 require it on the control connection only), and
 * `--certfile` (`-2`) naming one PEM file that holds the certificate chain followed by the key
 * (a `cert,key` pair of files is accepted too). Without `--certfile` it looks for
 * `/etc/ssl/private/pure-ftpd.pem`.
 *
 * @module
 */

import { chown, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { run } from "../_util.ts";
import { TEST_SERVER_CERT, TEST_SERVER_KEY } from "../fixtures/tls.ts";
import { isRoot, launchPeer, peerDirs, type PeerServer, pickPorts, removeDirs } from "./peer.ts";

/** The unpacked pure-ftpd binary. */
export const PURE_FTPD = "/opt/streamftp/pure-ftpd/usr/sbin/pure-ftpd";
/** Its password-database tool. */
export const PURE_PW = "/opt/streamftp/pure-ftpd/usr/bin/pure-pw";

const FTP_UID = 102;
const FTP_GID = 105;
const USER = "streamftp";
const PASSWORD = "streamftp-secret";

/** Options of {@linkcode startPureFtpd}. */
export interface PureFtpdOptions {
  /** Run FTPS with TLS required on control and data connections; plain FTP when absent. */
  tls?: boolean;
}

/**
 * Starts pure-ftpd.
 *
 * @param options FTPS, when wanted.
 * @returns The running server; `base` is `/`.
 */
export async function startPureFtpd(options: PureFtpdOptions = {}): Promise<PeerServer> {
  if (!isRoot) throw new Error("pure-ftpd tests need root (chroot and the ftp account)");
  const dirs = await peerDirs("pure-ftpd");
  const pdb = join(dirs.state, "pureftpd.pdb");
  const pem = join(dirs.state, "pure-ftpd.pem");
  try {
    if (options.tls) await writeFile(pem, TEST_SERVER_CERT + TEST_SERVER_KEY, { mode: 0o600 });
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
      ...(options.tls ? ["-Y", "3", "-2", pem] : []),
    ],
    port,
    dirs,
    user: USER,
    password: PASSWORD,
  });
}
