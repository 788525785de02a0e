/**
 * {@linkcode SessionThrottles}: the speed limits that apply to one session's data connections
 * (the server's, the per-connection ones, the user's shared by all of the user's sessions,
 * and the user's per connection).
 *
 * @module
 */

import { Throttle } from "../stream/throttle.ts";
import type { ServerOptions, UserThrottles } from "./server.ts";
import type { User, UserOptions } from "./user.ts";

/**
 * The four limits by direction, an aioftp name standing in where the direction's name is
 * missing (the direction's name wins when both are given).
 *
 * @example
 * ```ts
 * import { resolveSpeedLimits } from "./session_throttles.ts";
 * import assert from "node:assert/strict";
 *
 * const limits = resolveSpeedLimits({ readSpeedLimit: 100, downloadLimit: 200, writeSpeedLimit: 1 });
 * assert.deepEqual(limits, {
 *   uploadLimit: 100,
 *   downloadLimit: 200,
 *   uploadLimitPerConnection: undefined,
 *   downloadLimitPerConnection: undefined,
 * });
 * ```
 *
 * @param options Limits under either name.
 * @returns The limits by direction (bytes per second; `undefined`: none).
 */
export function resolveSpeedLimits(options: UserOptions | ServerOptions): {
  uploadLimit: number | undefined;
  downloadLimit: number | undefined;
  uploadLimitPerConnection: number | undefined;
  downloadLimitPerConnection: number | undefined;
} {
  return {
    uploadLimit: options.uploadLimit ?? options.readSpeedLimit,
    downloadLimit: options.downloadLimit ?? options.writeSpeedLimit,
    uploadLimitPerConnection: options.uploadLimitPerConnection ??
      options.readSpeedLimitPerConnection,
    downloadLimitPerConnection: options.downloadLimitPerConnection ??
      options.writeSpeedLimitPerConnection,
  };
}

/**
 * Where a session's limits come from (a `Server` is one).
 *
 * @example
 * ```ts
 * import { Server } from "../../server.ts";
 * import type { ThrottleSource } from "./session_throttles.ts";
 * import assert from "node:assert/strict";
 *
 * const source: ThrottleSource = new Server({ downloadLimitPerConnection: 1 << 20 });
 * assert.equal(source.options.downloadLimitPerConnection, 1 << 20);
 * assert.equal(source.uploadThrottle.limit, undefined); // no limit for the whole server
 * ```
 */
export interface ThrottleSource {
  /** The per-connection limits. */
  readonly options: {
    readonly uploadLimitPerConnection?: number;
    readonly downloadLimitPerConnection?: number;
  };
  /** Limit on bytes received by the whole server (uploads). */
  readonly uploadThrottle: Throttle;
  /** Limit on bytes sent by the whole server (downloads). */
  readonly downloadThrottle: Throttle;
  /**
   * The throttles shared by all sessions of a user.
   *
   * @param user The user.
   */
  userThrottles(user: User): UserThrottles;
}

const NONE: readonly Throttle[] = Object.freeze([]);

/**
 * The throttles of one session. A limit may change at any time, so each transfer asks for the
 * throttles that have one when it starts.
 *
 * @example
 * ```ts
 * import { Server } from "../../server.ts";
 * import { SessionThrottles } from "./session_throttles.ts";
 * import { User } from "./user.ts";
 * import assert from "node:assert/strict";
 *
 * const server = new Server({ downloadLimit: 8 << 20 }); // 8 MiB/s for all downloads together
 * const user = new User({ login: "guest", downloadLimitPerConnection: 1 << 20 });
 * const throttles = new SessionThrottles(server);
 * assert.equal(throttles.forDirection("write").length, 1); // the server's
 * throttles.setUser(user); // the user's limits from now on
 * const limits = throttles.forDirection("write"); // what a download goes through
 * assert.deepEqual(limits.map((throttle) => throttle.limit), [8 << 20, 1 << 20]);
 * assert.deepEqual(throttles.forDirection("read"), []); // uploads are not limited
 * ```
 */
export class SessionThrottles {
  readonly #server: ThrottleSource;
  readonly #upload = new Throttle();
  readonly #download = new Throttle();
  #user: User | undefined;
  #userUpload: Throttle | undefined;
  #userDownload: Throttle | undefined;

  /**
   * Creates the throttles of a session that has no user yet.
   *
   * @param server The server's throttles and per-connection limits.
   */
  constructor(server: ThrottleSource) {
    this.#server = server;
    this.#upload.limit = server.options.uploadLimitPerConnection;
    this.#download.limit = server.options.downloadLimitPerConnection;
  }

  /**
   * Installs the limits of the session's user (fresh per-connection ones for a new USER).
   *
   * @param user The user, or `undefined` for none.
   */
  setUser(user: User | undefined): void {
    this.#user = user;
    this.#userUpload = user && new Throttle(user.uploadLimitPerConnection);
    this.#userDownload = user && new Throttle(user.downloadLimitPerConnection);
  }

  /**
   * The throttles with a limit that apply to the session's data in one direction.
   *
   * @param direction `"read"` (bytes the server receives: uploads) or `"write"` (bytes it
   * sends: downloads and listings), as the data connection names its sides.
   * @returns The limited throttles; empty for none.
   */
  forDirection(direction: "read" | "write"): readonly Throttle[] {
    const server = this.#server;
    const user = this.#user;
    const shared = user && server.userThrottles(user);
    const candidates = direction === "read"
      ? [server.uploadThrottle, this.#upload, shared?.upload, this.#userUpload]
      : [server.downloadThrottle, this.#download, shared?.download, this.#userDownload];
    if (!candidates.some(limited)) return NONE;
    return candidates.filter(limited);
  }
}

function limited(throttle: Throttle | undefined): throttle is Throttle {
  return throttle !== undefined && throttle.limit !== undefined;
}
