/**
 * A scripted FTP server for client tests that need a misbehaving or precisely timed peer (a
 * foreign PASV address, an oversized listing, a 226 that races an ABOR...). Each test writes the
 * session as a function; the helper handles sockets, lines and data listeners.
 *
 * @module
 */

import type { Conn, Listener } from "../../lib/socket.ts";
import { LineReader } from "../../lib/stream/line_reader.ts";
import { testNetwork } from "../_util.ts";

/** One control connection on the fake server. */
export class FakeSession {
  /** The control connection. */
  readonly conn: Conn;
  readonly #lines: LineReader;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #listeners: Listener[] = [];
  /** Every command line received, in order. */
  readonly received: string[] = [];

  /** Wraps an accepted connection. */
  constructor(conn: Conn) {
    this.conn = conn;
    this.#lines = new LineReader(conn.readable);
    this.#writer = conn.writable.getWriter();
  }

  /**
   * Sends reply lines (CRLF added to each).
   *
   * @param lines The lines, e.g. `"220 hello"`.
   */
  async send(...lines: string[]): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(lines.map((l) => `${l}\r\n`).join("")));
  }

  /**
   * Reads the next command line.
   *
   * @returns The line, or `null` when the client closed.
   */
  async read(): Promise<string | null> {
    const line = await this.#lines.readLine().catch(() => null);
    if (line !== null) this.received.push(line);
    return line;
  }

  /**
   * Answers the commands every session needs: USER, PASS, TYPE, PWD, NOOP, QUIT (which ends the
   * session) and anything in `extra`.
   *
   * @param line The command.
   * @param extra Replies for more verbs.
   * @returns `true` when the command was answered.
   */
  async standard(line: string, extra: Record<string, string> = {}): Promise<boolean> {
    const verb = line.split(" ", 1)[0].toUpperCase();
    if (verb in extra) {
      await this.send(extra[verb]);
      return true;
    }
    switch (verb) {
      case "USER":
        await this.send("331 password please");
        return true;
      case "PASS":
        await this.send("230 logged in");
        return true;
      case "TYPE":
        await this.send("200 type set");
        return true;
      case "PWD":
        await this.send('257 "/" is the current directory');
        return true;
      case "NOOP":
        await this.send("200 ok");
        return true;
      case "QUIT":
        await this.send("221 bye");
        this.conn.close();
        return true;
    }
    return false;
  }

  /**
   * Opens a data listener.
   *
   * @param hostname Address to bind (default: the control connection's local address).
   * @param port Port (default: any).
   * @returns The listener.
   */
  async listen(hostname = this.conn.localAddr.hostname, port = 0): Promise<Listener> {
    const listener = await testNetwork().listen({ hostname, port });
    this.#listeners.push(listener);
    return listener;
  }

  /**
   * Answers `EPSV` with a new listener's port.
   *
   * @returns The listener the client will connect to.
   */
  async epsv(): Promise<Listener> {
    const listener = await this.listen();
    await this.send(`229 Entering Extended Passive Mode (|||${listener.addr.port}|)`);
    return listener;
  }

  /** Closes the session and its listeners. */
  async close(): Promise<void> {
    this.conn.close();
    for (const listener of this.#listeners) await listener.close().catch(() => {});
  }
}

/** A fake FTP server running one script per connection. */
export class FakeFtpServer {
  /** The control listener. */
  readonly listener: Listener;
  /** Sessions accepted so far. */
  readonly sessions: FakeSession[] = [];
  readonly #done: Promise<void>[] = [];
  /** Errors thrown by scripts (a test should assert there are none). */
  readonly errors: unknown[] = [];

  private constructor(listener: Listener, script: (session: FakeSession) => Promise<void>) {
    this.listener = listener;
    void (async () => {
      while (true) {
        let conn: Conn;
        try {
          conn = await listener.accept();
        } catch {
          return;
        }
        const session = new FakeSession(conn);
        this.sessions.push(session);
        this.#done.push(
          script(session).catch((e) => void this.errors.push(e)).finally(() => session.close()),
        );
      }
    })();
  }

  /**
   * Starts the server.
   *
   * @param script Runs once per connection; the session closes when it returns.
   * @param hostname Address to listen on (default 127.0.0.1).
   * @returns The server.
   */
  static async start(
    script: (session: FakeSession) => Promise<void>,
    hostname = "127.0.0.1",
  ): Promise<FakeFtpServer> {
    const listener = await testNetwork().listen({ hostname, port: 0 });
    return new FakeFtpServer(listener, script);
  }

  /** The control port. */
  get port(): number {
    return this.listener.addr.port;
  }

  /** Stops listening and closes every session. */
  async close(): Promise<void> {
    await this.listener.close().catch(() => {});
    for (const session of this.sessions) await session.close();
    await Promise.all(this.#done);
  }
}

/**
 * Writes bytes to a data connection and closes it.
 *
 * @param conn The data connection.
 * @param data The bytes.
 */
export async function sendAndClose(conn: Conn, data: Uint8Array | string): Promise<void> {
  const writer = conn.writable.getWriter();
  await writer.write(typeof data === "string" ? new TextEncoder().encode(data) : data);
  await writer.close().catch(() => {});
  conn.close();
}
