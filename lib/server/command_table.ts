/**
 * The command table: verb → {@linkcode CommandSpec} (a handler plus its declared requirements).
 * The server's table is public and mutable: add, replace or delete verbs with
 * `server.commands.set("NOOP", {...})`, or override `Server.buildCommands()` in a subclass.
 *
 * @module
 */

import type { FileStat } from "../fs/file_system.ts";
import type { CommandContext } from "./command_context.ts";
import type { AccessRight } from "./permission.ts";

/**
 * A precondition the dispatcher checks before a handler runs, in the order given:
 * - `"login"`: the session is logged in, else `530 Please login with USER and PASS`;
 * - `"data-channel"`: PASV, EPSV, PORT or EPRT prepared a data channel, else `503`; no other
 *   transfer runs, else `450`; and when the server's TLS policy requires protected data for the
 *   user, PROT P was given, else `521`. A handler with this requirement may call
 *   `ctx.startTransfer()` without checking again.
 *
 * @example A command for logged-in users only
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { type CommandRequirement, Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const requires: CommandRequirement[] = ["login"];
 * await using server = new Server();
 * server.commands.set("XWHO", { requires, handler: (ctx) => ctx.reply(200, ctx.loginName!) });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * assert.equal((await client.command("XWHO", ["200", "530"])).code, 530);
 * await client.login();
 * assert.deepEqual((await client.command("XWHO", "200")).lines, ["anonymous"]);
 * ```
 */
export type CommandRequirement = "login" | "data-channel";

/**
 * What a path argument must be, checked after the permission (which hides existence).
 *
 * @example A command whose argument must be a directory
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { type PathCondition, Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const must: PathCondition = "dir";
 * await using server = new Server();
 * server.commands.set("XDIR", {
 *   requires: ["login"],
 *   path: { access: "list", must },
 *   handler: (ctx, request) => ctx.reply(200, `${request.path} is a directory`),
 * });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * assert.deepEqual((await client.command("XDIR /", "200")).lines, ["/ is a directory"]);
 * assert.equal((await client.command("XDIR /nowhere", "5xx")).code, 550);
 * ```
 */
export type PathCondition = "exists" | "file" | "dir" | "absent";

/**
 * The path rule of a command whose argument is a path. The rights are checked on the path as
 * named and, when the file system resolves symbolic links (`realPath`), on the path it leads to.
 *
 * @example A command that tells a file's size
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { MemoryFileSystem, type PathRule, Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * // Like SIZE: "read" on the path, which must be a file; the check's stat comes along.
 * const rule: PathRule = { access: "read", must: "file" };
 * await using server = new Server({ users: [new User()], fileSystem: new MemoryFileSystem() });
 * server.commands.set("XLEN", {
 *   requires: ["login"],
 *   path: rule,
 *   handler: (ctx, request) => ctx.reply(213, String(request.stat!.size)),
 * });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("a.txt"));
 * assert.deepEqual((await client.command("XLEN a.txt", "213")).lines, ["5"]);
 * ```
 */
export interface PathRule {
  /**
   * The right the path needs (the nearest-ancestor {@linkcode Permission} decides), or several
   * of which any one will do (MLST, SIZE and MDTM: `["list", "read"]`).
   */
  access: AccessRight | readonly AccessRight[];
  /**
   * The right needed instead of `access` when the path already exists (STOR: `"overwrite"`,
   * APPE: `"append"`). The path is looked up only when the user has one right but not the other.
   */
  existing?: AccessRight;
  /**
   * Whether the command moves the path with everything below it (RNFR, RNTO): it is refused
   * with `550` when another permission's path lies below it, since part of the tree would leave
   * its rule, or come under one.
   */
  moves?: boolean;
  /** What must hold for the path; nothing is checked when left out. */
  must?: PathCondition;
  /** Whether the path names something to create (a bad name is then `553`, not `501`). */
  creating?: boolean;
  /**
   * Whether the argument may be left out, meaning the current directory (listings, CWD). When
   * it may not, an empty argument is `501` (a bare `RMD` must not remove the current directory).
   */
  optional?: boolean;
}

/**
 * One received command, as a handler gets it.
 *
 * @example An echo
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { type CommandRequest, Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const received: CommandRequest[] = [];
 * await using server = new Server();
 * server.commands.set("ECHO", {
 *   handler(ctx, request) {
 *     received.push(request);
 *     return ctx.reply(200, request.argument);
 *   },
 * });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * assert.deepEqual((await client.command("echo  two spaces", "200")).lines, [" two spaces"]);
 * assert.equal(received[0].verb, "ECHO");
 * assert.equal(received[0].path, ""); // no path rule
 * ```
 */
export interface CommandRequest {
  /** The verb in upper case. */
  verb: string;
  /** Everything after the verb and its space, as sent. */
  argument: string;
  /**
   * The argument resolved to an absolute virtual path (the current directory when empty and
   * the rule is `optional`), when the command's spec has a `path` rule; `""` otherwise.
   */
  path: string;
  /**
   * The path's metadata when the path rule looked it up (`must` is `"exists"`, `"file"` or
   * `"dir"`, or an `existing` right had to tell an old file from a new one): use it instead of
   * a second stat, and hand it to `openRead` (one stat per transfer).
   */
  stat?: FileStat;
}

/**
 * Handles one command: it replies through `ctx.reply()` (any number of times) before its
 * promise settles. Long work that must not block the control channel (a data transfer) goes
 * to `ctx.startTransfer()`. A thrown {@linkcode PathError} becomes its mapped reply, any
 * other error `451` (the session goes on).
 *
 * @example A handler that throws
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { type CommandHandler, Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const lookUp: CommandHandler = async (ctx, request) => {
 *   const stat = await ctx.fileSystem.stat(ctx.resolvePath(request.argument)); // may throw
 *   await ctx.reply(200, stat.type);
 * };
 * await using server = new Server();
 * server.commands.set("XTYPE", { requires: ["login"], handler: lookUp });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * assert.deepEqual((await client.command("XTYPE /", "200")).lines, ["dir"]);
 * // The PathError "not-found" the file system threw became its reply.
 * assert.equal((await client.command("XTYPE /nowhere", "5xx")).code, 550);
 * ```
 */
export type CommandHandler = (ctx: CommandContext, request: CommandRequest) => void | Promise<void>;

/**
 * What the dispatcher does with a command that arrives while a transfer runs:
 * - `"after-opening"` (the default): it waits until the transfer's `150` is out, so replies
 *   keep the order of the commands, then runs beside the transfer (NOOP, STAT...);
 * - `"at-once"`: it runs without waiting (ABOR and QUIT, which may be what ends that wait);
 * - `"refuse"`: it is answered `503` (AUTH, USER, PASS: the session must not change under a
 *   running transfer).
 *
 * @example A command that must not wait for the transfer it stops
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { Server, type WhileTransferring } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const whileTransferring: WhileTransferring = "at-once";
 * await using server = new Server();
 * server.commands.set("XSTOP", {
 *   requires: ["login"],
 *   whileTransferring,
 *   async handler(ctx) {
 *     const stopped = await ctx.abortTransfer();
 *     await ctx.reply(200, stopped ? "transfer stopped" : "no transfer running");
 *   },
 * });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * assert.deepEqual((await client.command("XSTOP", "200")).lines, ["no transfer running"]);
 * ```
 */
export type WhileTransferring = "after-opening" | "at-once" | "refuse";

/**
 * A verb's entry in the command table.
 *
 * @example A command with its HELP syntax and its FEAT line
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { type CommandSpec, Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const upper: CommandSpec = {
 *   requires: ["login"],
 *   help: "<SP> <text>",
 *   feature: "XUPR",
 *   handler: (ctx, { argument }) => ctx.reply(200, argument.toUpperCase()),
 * };
 * await using server = new Server();
 * server.commands.set("XUPR", upper);
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * assert.deepEqual((await client.command("XUPR shout", "200")).lines, ["SHOUT"]);
 * assert.ok((await client.features()).has("XUPR"));
 * ```
 */
export interface CommandSpec {
  /** Runs the command. */
  handler: CommandHandler;
  /** Preconditions, checked in order before anything else. */
  requires?: readonly CommandRequirement[];
  /** When set, the argument is a path, resolved and checked against this rule. */
  path?: PathRule;
  /** Argument syntax for HELP (`"<SP> <pathname>"`). */
  help?: string;
  /** Hide the argument in logs (PASS). */
  secret?: boolean;
  /** What happens when the command arrives while a transfer runs (default `"after-opening"`). */
  whileTransferring?: WhileTransferring;
  /**
   * The command's FEAT line without the leading space (`"SIZE"`, `"REST STREAM"`), or a
   * function returning it for the session (`undefined`: nothing to announce).
   */
  feature?: string | ((ctx: CommandContext) => string | undefined);
}

/**
 * A command table whose keys are upper-cased, so lookups are case-insensitive. A server has
 * two: `server.commands` and `server.siteCommands` (the subcommands of SITE).
 *
 * @example A server without DELE
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { MemoryFileSystem, Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()], fileSystem: new MemoryFileSystem() });
 * assert.equal(server.commands.delete("dele"), true); // any case
 * assert.equal(server.commands.has("DELE"), false);
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * assert.equal((await client.command("DELE a.txt", "5xx")).code, 500);
 * ```
 */
export class CommandTable extends Map<string, CommandSpec> {
  /**
   * Creates a table.
   *
   * @param entries Initial verbs and specs.
   */
  constructor(entries?: Iterable<readonly [string, CommandSpec]>) {
    super();
    if (entries) { for (const [verb, spec] of entries) this.set(verb, spec); }
  }

  /** Adds or replaces a verb. */
  override set(verb: string, spec: CommandSpec): this {
    return super.set(verb.toUpperCase(), spec);
  }

  /** Looks a verb up, whatever its case. */
  override get(verb: string): CommandSpec | undefined {
    // Keys are upper case, and so are most verbs as received: look those up as they are.
    return super.get(verb) ?? super.get(verb.toUpperCase());
  }

  /** Whether the verb is in the table, whatever its case. */
  override has(verb: string): boolean {
    return super.has(verb.toUpperCase());
  }

  /** Removes a verb, whatever its case. */
  override delete(verb: string): boolean {
    return super.delete(verb.toUpperCase());
  }
}
