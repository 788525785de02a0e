/**
 * Login and logout: USER, PASS, ACCT, QUIT. Failed logins are slowed down by the server's
 * `loginFailureDelay` and, after `maxLoginAttempts` in the session or `maxLoginFailuresPerIp`
 * from the address, end the session with `421`. Where the TLS policy requires a secured
 * control connection, a USER in clear text is refused with `530` before any account is looked up.
 *
 * @module
 */

import type { CommandSpec } from "../command_table.ts";
import type { CommandContext } from "../command_context.ts";

/** The login verbs. */
export const authCommands: Record<string, CommandSpec> = {
  USER: {
    help: "<SP> <username>",
    whileTransferring: "refuse",
    async handler(ctx, { argument }) {
      await ctx.setUser(undefined, false);
      if (!ctx.secure && ctx.server.tlsPolicy.loginNeedsTls(argument)) {
        await ctx.reply(530, "TLS required: send AUTH TLS before USER");
        return;
      }
      const result = await ctx.server.userManager.getUser(argument);
      if (result.state === "error") {
        await refuseLogin(ctx, result.info);
        return;
      }
      await ctx.setUser(result.user, result.state === "ok", argument);
      await ctx.reply(result.state === "ok" ? 230 : 331, result.info);
    },
  },
  PASS: {
    help: "<SP> <password>",
    secret: true,
    whileTransferring: "refuse",
    async handler(ctx, { argument }) {
      if (ctx.loggedIn) {
        await ctx.reply(503, "already logged in");
        return;
      }
      const user = ctx.user;
      if (!user) {
        await ctx.reply(503, "bad sequence of commands (no user (use USER firstly))");
        return;
      }
      if (!await ctx.server.userManager.authenticate(user, argument)) {
        await refuseLogin(ctx, "wrong password");
        return;
      }
      ctx.completeLogin();
      await ctx.reply(230, "normal login");
    },
  },
  ACCT: {
    help: "<SP> <account-information>",
    async handler(ctx) {
      if (ctx.loggedIn) await ctx.reply(202, "account not needed");
      else await ctx.reply(503, "bad sequence of commands (log in with USER and PASS first)");
    },
  },
  QUIT: {
    help: "(terminate the ctx)",
    async handler(ctx) {
      await ctx.abortTransfer();
      await ctx.reply(221, "bye");
      ctx.close();
    },
  },
};

/**
 * Answers a failed USER or PASS after the failure delay: `530 <info>`, or `421` and the end of
 * the session once the attempts are used up.
 */
async function refuseLogin(ctx: CommandContext, info: string): Promise<void> {
  const { loginFailureDelay, maxLoginAttempts } = ctx.server.options;
  const ip = ctx.remoteAddr.hostname;
  const failures = ctx.countLoginFailure();
  ctx.server.loginGuard.recordFailure(ip);
  ctx.log("info", `Failed login from ${ip}: ${info}`);
  if (loginFailureDelay > 0) await ctx.sleep(loginFailureDelay);
  if (failures >= maxLoginAttempts || ctx.server.loginGuard.blocked(ip)) {
    await ctx.reply(421, "too many failed login attempts, closing control connection");
    ctx.close();
    return;
  }
  await ctx.reply(530, info);
}
