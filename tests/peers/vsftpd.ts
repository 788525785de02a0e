/**
 * vsftpd for the client's interop tests: anonymous access with uploads, directory creation,
 * deletion and renames allowed, chrooted to a temporary root whose writable part is `/pub`
 * (vsftpd refuses a writable chroot). Runs in the foreground as root on a free loopback port.
 *
 * With `tls`, vsftpd runs FTPS with the test certificate (`tests/fixtures/tls.ts`), TLS forced
 * on logins and data connections (`allow_anon_ssl`, `force_anon_logins_ssl`,
 * `force_anon_data_ssl`: the anonymous counterparts of the `force_local_*` settings), explicit
 * (`AUTH TLS`) or implicit (`implicit_ssl`). vsftpd 3.0.3 defaults `ssl_ciphers` to
 * `DES-CBC3-SHA`, which no ECDSA key can serve and OpenSSL 3 no longer offers, so TLS 1.2
 * handshakes fail without `ssl_ciphers=HIGH`; TLS 1.3 suites are not governed by that list.
 *
 * @module
 */

import { chown, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { TEST_CA_CERT, TEST_SERVER_CERT, TEST_SERVER_KEY } from "../fixtures/tls.ts";
import { isRoot, launchPeer, peerDirs, type PeerServer, pickPorts } from "./peer.ts";

/** The vsftpd binary. */
export const VSFTPD = "/usr/sbin/vsftpd";

/** The system account vsftpd maps anonymous users to (Debian's `ftp`, uid 102). */
const FTP_UID = 102;
const FTP_GID = 105;

/** FTPS settings of {@linkcode startVsftpd}. */
export interface VsftpdTlsOptions {
  /** `require_ssl_reuse`: refuse data connections that do not resume the control session. */
  requireReuse: boolean;
  /** `implicit_ssl`: TLS from the first byte instead of `AUTH TLS`. */
  implicit?: boolean;
}

/** Options of {@linkcode startVsftpd}. */
export interface VsftpdOptions {
  /** Run FTPS (TLS forced on logins and data); plain FTP when absent. */
  tls?: VsftpdTlsOptions;
}

/**
 * Starts vsftpd.
 *
 * @param options FTPS, when wanted.
 * @returns The running server; `base` is `/pub`.
 */
export async function startVsftpd(options: VsftpdOptions = {}): Promise<PeerServer> {
  if (!isRoot) throw new Error("vsftpd tests need root (chroot and the ftp account)");
  const dirs = await peerDirs("vsftpd");
  const pub = join(dirs.root, "pub");
  await mkdir(pub, { mode: 0o755 });
  await chown(pub, FTP_UID, FTP_GID);
  const empty = join(dirs.state, "empty");
  await mkdir(empty, { mode: 0o755 });
  const { port, pasvMin, pasvMax } = await pickPorts();
  const tls = options.tls;
  let tlsConfig = ["ssl_enable=NO"];
  if (tls) {
    const cert = join(dirs.state, "cert.pem");
    const key = join(dirs.state, "key.pem");
    await writeFile(cert, TEST_SERVER_CERT, { mode: 0o600 });
    await writeFile(key, TEST_SERVER_KEY, { mode: 0o600 });
    tlsConfig = [
      "ssl_enable=YES",
      `rsa_cert_file=${cert}`,
      `rsa_private_key_file=${key}`,
      "ssl_ciphers=HIGH",
      "ssl_request_cert=NO",
      "allow_anon_ssl=YES",
      "force_anon_logins_ssl=YES",
      "force_anon_data_ssl=YES",
      `require_ssl_reuse=${tls.requireReuse ? "YES" : "NO"}`,
      `implicit_ssl=${tls.implicit ? "YES" : "NO"}`,
    ];
  }
  const config = [
    "listen=YES",
    "listen_ipv6=NO",
    "listen_address=127.0.0.1",
    `listen_port=${port}`,
    "background=NO",
    "anonymous_enable=YES",
    "local_enable=NO",
    "no_anon_password=YES",
    `anon_root=${dirs.root}`,
    "write_enable=YES",
    "anon_upload_enable=YES",
    "anon_mkdir_write_enable=YES",
    "anon_other_write_enable=YES",
    "anon_world_readable_only=NO",
    "anon_umask=022",
    "chown_uploads=NO",
    "ftp_username=ftp",
    "pasv_enable=YES",
    "pasv_address=127.0.0.1",
    `pasv_min_port=${pasvMin}`,
    `pasv_max_port=${pasvMax}`,
    "port_enable=YES",
    "connect_from_port_20=NO",
    `secure_chroot_dir=${empty}`,
    "seccomp_sandbox=NO",
    "isolate=NO",
    "isolate_network=NO",
    "max_clients=0",
    "max_per_ip=0",
    "xferlog_enable=NO",
    "dual_log_enable=NO",
    "syslog_enable=NO",
    "log_ftp_protocol=NO",
    `vsftpd_log_file=${join(dirs.state, "vsftpd.log")}`,
    "dirmessage_enable=NO",
    "use_localtime=NO",
    ...tlsConfig,
    "idle_session_timeout=120",
    "data_connection_timeout=120",
    "",
  ].join("\n");
  const configPath = join(dirs.state, "vsftpd.conf");
  await writeFile(configPath, config, { mode: 0o600 });
  return await launchPeer({
    name: "vsftpd",
    command: VSFTPD,
    args: [configPath],
    port,
    dirs,
    user: "anonymous",
    password: "anon@",
    root: pub,
    base: "/pub",
    greetingTls: tls?.implicit
      ? { role: "client", serverName: "localhost", caCerts: [TEST_CA_CERT] }
      : undefined,
  });
}
