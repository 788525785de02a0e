/**
 * A raw FTP control-channel client for the server tests: it sends exact bytes and returns
 * exact replies (code and lines), with no client-library logic in between. Not a test file.
 *
 * @module
 */

import { parsePasvReply } from "../lib/protocol/address.ts";
import { type Reply, ReplyParser } from "../lib/protocol/reply.ts";
import type { Conn, NetAddr, TlsClientOptions } from "../lib/socket.ts";
import { LineReader } from "../lib/stream/line_reader.ts";
import { type FileSystem, Server, type ServerOptions, User } from "../server.ts";
import { TEST_CA_CERT } from "./fixtures/tls.ts";
import { testNetwork, within } from "./_util.ts";

const encoder = new TextEncoder();

/** TLS client settings that trust the test certificate authority. */
export const TEST_CLIENT_TLS: TlsClientOptions = {
  role: "client",
  serverName: "localhost",
  caCerts: [TEST_CA_CERT],
};

/** How long a test waits for one reply. */
export const REPLY_MS = 5000;

/** A control connection driven line by line. */
export class RawControl {
  /** The greeting. */
  greeting!: Reply;
  #conn: Conn;
  #lines: LineReader;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #parser = new ReplyParser();

  private constructor(conn: Conn) {
    this.#conn = conn;
    this.#lines = new LineReader(conn.readable, { maxLineLength: 1 << 20, stripTelnet: false });
    this.#writer = conn.writable.getWriter();
    this.#writer.closed.catch(() => {});
  }

  /** The connection (a new one after {@linkcode RawControl.startTls}). */
  get conn(): Conn {
    return this.#conn;
  }

  /**
   * Connects and reads the greeting.
   *
   * @param addr The server's address.
   * @param tls TLS from the first byte (implicit FTPS).
   * @returns The connected client.
   */
  static async connect(addr: NetAddr, tls?: TlsClientOptions): Promise<RawControl> {
    const conn = await testNetwork().connect({ hostname: addr.hostname, port: addr.port, tls });
    const control = new RawControl(conn);
    control.greeting = await control.read();
    return control;
  }

  /**
   * Turns the connection to TLS in place (after a `234`): the reader and writer are rebuilt on
   * the secured connection.
   *
   * @param tls The client settings (default: trust the test authority).
   */
  async startTls(tls: TlsClientOptions = TEST_CLIENT_TLS): Promise<void> {
    const rest = this.#lines.releaseLock();
    if (rest.length > 0) throw new Error(`${rest.length} bytes arrived before the TLS handshake`);
    this.#writer.releaseLock();
    this.#conn = await within(this.#conn.startTls(tls), REPLY_MS, "TLS handshake");
    this.#lines = new LineReader(this.#conn.readable, {
      maxLineLength: 1 << 20,
      stripTelnet: false,
    });
    this.#writer = this.#conn.writable.getWriter();
    this.#writer.closed.catch(() => {});
  }

  /** AUTH TLS, the handshake, PBSZ 0 and, when `prot` is given, PROT. */
  async secure(prot?: "C" | "P"): Promise<void> {
    const auth = await this.ask("AUTH TLS");
    if (!auth.startsWith("234")) throw new Error(`AUTH TLS failed: ${auth}`);
    await this.startTls();
    if (prot === undefined) return;
    const pbsz = await this.ask("PBSZ 0");
    if (pbsz !== "200 PBSZ=0") throw new Error(`PBSZ failed: ${pbsz}`);
    const level = await this.ask(`PROT ${prot}`);
    if (!level.startsWith("200")) throw new Error(`PROT failed: ${level}`);
  }

  /** Sends raw bytes (a line must carry its own CRLF). */
  async sendRaw(data: string | Uint8Array): Promise<void> {
    await this.#writer.write(typeof data === "string" ? encoder.encode(data) : data);
  }

  /** Sends one command line (CRLF added). */
  async send(line: string): Promise<void> {
    await this.sendRaw(`${line}\r\n`);
  }

  /** Reads the next reply; rejects on EOF or after {@linkcode REPLY_MS}. */
  read(ms = REPLY_MS): Promise<Reply> {
    return within(this.#readReply(), ms, "reply");
  }

  async #readReply(): Promise<Reply> {
    while (true) {
      const line = await this.#lines.readLine();
      if (line === null) throw new Error("Control connection closed while a reply was awaited");
      const reply = this.#parser.push(line);
      if (reply) return reply;
    }
  }

  /** Sends a command and reads its reply. */
  async command(line: string, ms = REPLY_MS): Promise<Reply> {
    await this.send(line);
    return await this.read(ms);
  }

  /** Sends a command and returns `"<code> <first line>"` for compact assertions. */
  async ask(line: string, ms = REPLY_MS): Promise<string> {
    const reply = await this.command(line, ms);
    return `${reply.code} ${reply.lines[0]}`;
  }

  /** Reads the next reply as `"<code> <first line>"`. */
  async next(ms = REPLY_MS): Promise<string> {
    const reply = await this.read(ms);
    return `${reply.code} ${reply.lines[0]}`;
  }

  /** USER (and PASS when asked). */
  async login(user = "anonymous", password = "x"): Promise<void> {
    const first = await this.command(`USER ${user}`);
    if (first.code === 230) return;
    if (first.code !== 331) throw new Error(`USER failed: ${first.code} ${first.lines}`);
    const second = await this.command(`PASS ${password}`);
    if (second.code !== 230) throw new Error(`PASS failed: ${second.code} ${second.lines}`);
  }

  /** PASV, then connects to the announced port. */
  async pasv(): Promise<Conn> {
    const reply = await this.command("PASV");
    if (reply.code !== 227) throw new Error(`PASV failed: ${reply.code} ${reply.lines}`);
    const { hostname, port } = parsePasvReply(reply.lines.join(" "));
    return await testNetwork().connect({ hostname, port });
  }

  /** Waits until the server closes the connection (true) or `ms` pass (false). */
  async waitClosed(ms = REPLY_MS): Promise<boolean> {
    try {
      return await within(
        (async () => {
          while (await this.#lines.readLine() !== null) { /* drain */ }
          return true;
        })(),
        ms,
        "close",
      );
    } catch {
      return false;
    }
  }

  /** Closes the connection. */
  close(): void {
    this.#conn.close();
  }
}

/** Reads a data connection to its end. */
export async function readAll(conn: Conn, ms = REPLY_MS * 4): Promise<Uint8Array> {
  const buffer = await within(new Response(conn.readable).arrayBuffer(), ms, "data");
  return new Uint8Array(buffer);
}

/** Writes bytes to a data connection and closes it (FIN). */
export async function writeAll(conn: Conn, data: Uint8Array): Promise<void> {
  const writer = conn.writable.getWriter();
  await writer.write(data);
  await writer.close();
}

/** Decodes bytes as UTF-8. */
export function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/**
 * Runs `fn` against a started server (on 127.0.0.1, any port) and closes it afterwards. Without
 * `users`, it has an anonymous user with every right (a default `Server` may only read).
 *
 * @param options The server's options.
 * @param fn The test body.
 */
export async function withServer(
  options: ServerOptions,
  fn: (server: Server) => Promise<void>,
): Promise<void> {
  const server = new Server({ users: [new User()], ...options });
  await server.start("127.0.0.1", 0);
  try {
    await fn(server);
  } finally {
    await within(server.close(), 10000, "server close");
  }
}

/** Writes a whole file through a file system's `openWrite`. */
export async function putFile(
  fs: FileSystem,
  path: string,
  data: Uint8Array | string,
): Promise<void> {
  const writer = (await fs.openWrite(path)).getWriter();
  await writer.write(typeof data === "string" ? encoder.encode(data) : data);
  await writer.close();
}

/** Reads a whole file through a file system's `openRead`. */
export async function getFile(fs: FileSystem, path: string): Promise<Uint8Array> {
  return new Uint8Array(await new Response(await fs.openRead(path)).arrayBuffer());
}

/**
 * Runs `fn` with an anonymous, logged-in raw client of a started server; closes both after.
 *
 * @param options The server's options.
 * @param fn The test body.
 */
export async function withSession(
  options: ServerOptions,
  fn: (control: RawControl, server: Server) => Promise<void>,
): Promise<void> {
  await withServer(options, async (server) => {
    const control = await RawControl.connect(server.address);
    try {
      await control.login();
      await fn(control, server);
    } finally {
      control.close();
    }
  });
}
