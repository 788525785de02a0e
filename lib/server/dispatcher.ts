/**
 * The dispatcher of a session: one command line at a time, looked up in the command table,
 * checked against the spec's declared requirements and path rule, then handed to its handler
 * with the session's {@linkcode CommandContext}. SITE subcommands go through
 * {@linkcode Dispatcher.execute} with their own specs, so they get the same checks.
 *
 * @module
 */

import { PathError } from "../errors.ts";
import { type Command, parseCommand } from "../protocol/command.ts";
import type { CommandContext } from "./command_context.ts";
import type { CommandRequest, CommandSpec, CommandTable, PathRule } from "./command_table.ts";
import { pathErrorReply } from "./path_error_reply.ts";

/** What a {@linkcode Dispatcher} needs besides the context. */
export interface DispatcherOptions {
  /** The verbs (the server's table: changes apply to the next command). */
  commands: CommandTable;
  /** Settles once the running transfer's `150` is out (at once when none runs). */
  transferOpened(): Promise<void>;
  /** Whether the TLS policy wants PROT P for this session's transfers but PROT is C. */
  dataProtectionMissing(): boolean;
  /** Whether to log every command (the server has a `log` option). */
  logCommands: boolean;
  /** Called as each command (or SITE subcommand) starts, before any check. */
  commandStarting?(verb: string, rule: PathRule | undefined): void;
  /** Called when a command's handler has returned (its reply is out). */
  commandEnded?(): void;
}

/** Runs the commands of one session. */
export class Dispatcher {
  readonly #ctx: CommandContext;
  readonly #options: DispatcherOptions;

  /**
   * Creates the dispatcher of a session.
   *
   * @param ctx What handlers receive.
   * @param options The table and the session's hooks.
   */
  constructor(ctx: CommandContext, options: DispatcherOptions) {
    this.#ctx = ctx;
    this.#options = options;
  }

  /**
   * Runs one command line; never rejects (a failing handler is answered `451`).
   *
   * @param line The line as received.
   */
  async dispatch(line: string): Promise<void> {
    const ctx = this.#ctx;
    const { verb, argument } = parseCommand(line);
    const spec = this.#options.commands.get(verb);
    if (this.#options.logCommands) ctx.log("debug", `> ${spec?.secret ? `${verb} ****` : line}`);
    if (ctx.transfer) {
      const mode = spec?.whileTransferring ?? "after-opening";
      if (mode === "refuse") {
        await ctx.reply(503, `${verb} not allowed during a transfer`).catch(() => {});
        return;
      }
      if (mode === "after-opening") await this.#options.transferOpened();
    }
    if (!spec) {
      await ctx.reply(500, `unknown command '${printable(verb)}'`).catch(() => {});
      return;
    }
    await this.execute(spec, { verb, argument });
  }

  /**
   * Runs a spec as {@linkcode Dispatcher.dispatch} does once the verb is known: requirements,
   * path rule, handler, and the reply to an error. For SITE subcommands.
   *
   * @param spec The command's spec.
   * @param command The verb (upper case), as the handler will see it, and the argument.
   */
  async execute(spec: CommandSpec, command: Command): Promise<void> {
    const { verb, argument } = command;
    const ctx = this.#ctx;
    this.#options.commandStarting?.(verb, spec.path);
    try {
      if (!await this.#meetsRequirements(spec)) return;
      const request: CommandRequest = { verb, argument, path: "" };
      if (spec.path) {
        if (argument === "" && !spec.path.optional) {
          await ctx.reply(501, `syntax error: ${verb} needs a path`);
          return;
        }
        request.path = ctx.resolvePath(argument);
        const found = await ctx.inspectPath(request.path, spec.path);
        if (!found) return;
        request.stat = found.stat;
      }
      await spec.handler(ctx, request);
      this.#options.commandEnded?.();
    } catch (error) {
      if (ctx.signal.aborted) return;
      if (error instanceof PathError) {
        const { code, text } = pathErrorReply(error, spec.path?.creating);
        await ctx.reply(code, text).catch(() => {});
        return;
      }
      ctx.log("error", `Command ${verb} failed`, { error });
      await ctx.reply(451, "requested action aborted: local error in processing").catch(() => {});
    }
  }

  async #meetsRequirements(spec: CommandSpec): Promise<boolean> {
    const ctx = this.#ctx;
    for (const requirement of spec.requires ?? []) {
      if (requirement === "login" && !ctx.loggedIn) {
        await ctx.reply(530, "Please login with USER and PASS");
        return false;
      }
      if (requirement === "data-channel") {
        if (!await ctx.readyForTransfer()) return false;
        if (this.#options.dataProtectionMissing()) {
          await ctx.reply(521, "data connections must be protected: send PBSZ 0 and PROT P");
          return false;
        }
      }
    }
    return true;
  }
}

/** A verb as it may appear in a reply: control characters dropped, length capped. */
function printable(text: string): string {
  // deno-lint-ignore no-control-regex
  const clean = text.replace(/[\x00-\x1f\x7f]/g, "");
  return clean.length > 32 ? `${clean.slice(0, 32)}...` : clean;
}
