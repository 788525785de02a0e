/**
 * The server's FTPS policy (RFC 4217): where TLS is offered, and for whom it is required on
 * the control connection (before login) and on data connections (PROT P).
 *
 * @module
 */

import type { TlsServerOptions } from "../socket.ts";
import { DEFAULT_ANONYMOUS_NAMES, isAnonymousName } from "./anonymous_names.ts";

/**
 * Who must use TLS: nobody, every user, or every user but anonymous ones.
 *
 * @example Passwords only over TLS, anonymous logins in the clear
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { Server, type TlsRequirement, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const requireTls: TlsRequirement = "non-anonymous";
 * await using server = new Server({
 *   users: [new User({ login: "alice", password: "secret" }), new User()],
 *   tls: { cert: "<PEM certificate chain>", key: "<PEM private key>" }, // read from files
 *   requireTls,
 * });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await assert.rejects(client.login("alice", "secret"), { code: 530 }); // no AUTH TLS first
 * await client.login(); // anonymous
 * ```
 */
export type TlsRequirement = "none" | "all" | "non-anonymous";

/**
 * The FTPS settings of a server, as `ServerOptions` takes them.
 *
 * @example A server that offers AUTH TLS
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { Server, type ServerTlsOptions } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * // The PEM texts, read from files (`await readFile("cert.pem", "utf8")`...).
 * const tls: ServerTlsOptions = { cert: "<PEM certificate chain>", key: "<PEM private key>" };
 * await using server = new Server({ tls });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * assert.equal((await client.features()).get("AUTH"), "TLS");
 * ```
 */
export interface ServerTlsOptions {
  /** PEM certificate chain and private key. */
  cert: string;
  /** PEM private key. */
  key: string;
}

/**
 * {@linkcode TlsPolicy}'s requirements, one for logins and one for data connections.
 *
 * @example Logins in the clear, but files only over TLS
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { Server, type TlsRequirements } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const requireTls: TlsRequirements = { login: "none", data: "all" };
 * await using server = new Server({
 *   tls: { cert: "<PEM certificate chain>", key: "<PEM private key>" }, // read from files
 *   requireTls,
 * });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await assert.rejects(client.listAll(), { code: 521 }); // PROT P first
 * ```
 */
export interface TlsRequirements {
  /** Who must secure the control connection (AUTH TLS) before USER. */
  login: TlsRequirement;
  /** Who must protect data connections (PROT P) before a transfer or listing. */
  data: TlsRequirement;
}

/**
 * What a server's TLS settings allow and demand: `server.tlsPolicy`, built from its options.
 *
 * @example Asking a server's policy
 * ```ts
 * import { Server, type TlsPolicy } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({
 *   tls: { cert: "<PEM certificate chain>", key: "<PEM private key>" }, // read from files
 *   requireTls: { login: "non-anonymous", data: "all" },
 * });
 * const policy: TlsPolicy = server.tlsPolicy;
 * assert.equal(policy.implicit, false);
 * assert.equal(policy.loginNeedsTls("alice"), true);
 * assert.equal(policy.loginNeedsTls("anonymous"), false);
 * assert.equal(policy.dataNeedsTls("anonymous"), true);
 * ```
 */
export class TlsPolicy {
  /** The certificate and key, or `undefined` when the server offers no TLS. */
  readonly certificate: ServerTlsOptions | undefined;
  /** Whether the listener speaks TLS from the first byte. */
  readonly implicit: boolean;
  /** Who must use TLS where. */
  readonly required: TlsRequirements;
  /** Whether protected data connections must resume the control connection's session. */
  readonly requireSessionReuse: boolean;
  /** The names `"non-anonymous"` spares. */
  readonly #anonymousNames: readonly string[];

  /**
   * Builds the policy from the server's options.
   *
   * @param options The certificate, implicit mode, requirements and session reuse.
   * @throws {TypeError} When TLS is required or implicit but no certificate is given.
   */
  constructor(options: {
    tls?: ServerTlsOptions;
    implicitTls?: boolean;
    requireTls?: TlsRequirement | Partial<TlsRequirements>;
    requireTlsSessionReuse?: boolean;
    anonymousNames?: readonly string[];
  }) {
    this.#anonymousNames = options.anonymousNames ?? DEFAULT_ANONYMOUS_NAMES;
    this.certificate = options.tls;
    this.implicit = options.implicitTls ?? false;
    const required = options.requireTls ?? "none";
    this.required = typeof required === "string"
      ? { login: required, data: required }
      : { login: required.login ?? "none", data: required.data ?? "none" };
    this.requireSessionReuse = options.requireTlsSessionReuse ?? false;
    const demands = this.implicit || this.required.login !== "none" ||
      this.required.data !== "none" || this.requireSessionReuse;
    if (demands && !this.certificate) {
      throw new TypeError("TLS is required or implicit, but no tls certificate and key are set");
    }
  }

  /**
   * The options of a server-role handshake.
   *
   * @param sessionScope The control connection's scope: its data connections can resume its
   * TLS session, and only they.
   * @returns The options, or `undefined` when the server offers no TLS.
   */
  handshake(sessionScope: object): TlsServerOptions | undefined {
    if (!this.certificate) return undefined;
    return { role: "server", ...this.certificate, sessionScope };
  }

  /**
   * Whether a user must log in over a secured control connection.
   *
   * @param login The name sent with USER.
   * @returns `true` when USER must come after AUTH TLS.
   */
  loginNeedsTls(login: string): boolean {
    return this.#applies(this.required.login, login);
  }

  /**
   * Whether a user's data connections must be protected.
   *
   * @param login The user's login name (`undefined`: the anonymous catch-all).
   * @returns `true` when transfers need PROT P.
   */
  dataNeedsTls(login: string | undefined): boolean {
    return this.#applies(this.required.data, login ?? this.#anonymousNames[0] ?? "anonymous");
  }

  #applies(requirement: TlsRequirement, login: string): boolean {
    return requirement === "all" ||
      (requirement === "non-anonymous" && !isAnonymousName(login, this.#anonymousNames));
  }
}
