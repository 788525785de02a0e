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
 */
export type CommandRequirement = "login" | "data-channel";

/** What a path argument must be, checked after the permission (which hides existence). */
export type PathCondition = "exists" | "file" | "dir" | "absent";

/**
 * The path rule of a command whose argument is a path. The rights are checked on the path as
 * named and, when the file system resolves symbolic links (`realPath`), on the path it leads to.
 *
 * @example
 * ```ts
 * import type { PathRule } from "../../server.ts";
 * // STOR: a new file needs "write", replacing an existing one needs "overwrite".
 * const stor: PathRule = { access: "write", existing: "overwrite", creating: true };
 * console.log(stor.existing);
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

/** One received command, as a handler gets it. */
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
 */
export type CommandHandler = (ctx: CommandContext, request: CommandRequest) => void | Promise<void>;

/**
 * What the dispatcher does with a command that arrives while a transfer runs:
 * - `"after-opening"` (the default): it waits until the transfer's `150` is out, so replies
 *   keep the order of the commands, then runs beside the transfer (NOOP, STAT...);
 * - `"at-once"`: it runs without waiting (ABOR and QUIT, which may be what ends that wait);
 * - `"refuse"`: it is answered `503` (AUTH, USER, PASS: the session must not change under a
 *   running transfer).
 */
export type WhileTransferring = "after-opening" | "at-once" | "refuse";

/** A verb's entry in the command table. */
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

/** A command table whose keys are upper-cased, so lookups are case-insensitive. */
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
