/**
 * Login and logout: USER, PASS, ACCT, QUIT.
 *
 * USER tells nobody which accounts exist: every name gets `331 password required` (or `230`
 * for an account that needs no password, the anonymous one included), and a name that will
 * not log in (unknown, refused by the user manager, or whose account has all its sessions)
 * fails at PASS like a wrong password: `530 login incorrect`, after the same delay
 * (`loginFailureDelay`, counted from the PASS). After `maxLoginAttempts` failures in the
 * session, or `maxLoginFailuresPerIp` from the address, the session ends with `421`; an
 * address that used up its failures is refused before anything is checked, and while the
 * attempts still being checked would fill its budget, a new one waits for them. Where the TLS
 * policy requires a secured control connection, a USER in clear text is refused with `530`
 * before any account is looked up.
 *
 * @module
 */

import type { CommandSpec } from "../command_table.ts";
import type { CommandContext } from "../command_context.ts";
import type { LoginFailureReason } from "../hooks.ts";
import type { LoginAttempt } from "../login_guard.ts";
import type { LoginContext } from "../user_manager.ts";

/** Why a login failed: the reason for the hooks, the detail for the log, the reply text. */
interface LoginFailure {
  reason: LoginFailureReason;
  /** What the log says. */
  detail: string;
  /** The `530` text, when not the usual one (a `login` hook's refusal). */
  text?: string;
}

/** Names that will not log in (USER refused them), until the session's next USER. */
const refusedNames = new WeakMap<CommandContext, LoginFailure>();

/** The login verbs. */
export const authCommands: Record<string, CommandSpec> = {
  USER: {
    help: "<SP> <username>",
    whileTransferring: "refuse",
    async handler(ctx, { argument }) {
      await ctx.setUser(undefined);
      // A new login starts afresh: what the previous one prepared does not carry over.
      ctx.setRenameFrom(undefined);
      ctx.setRestOffset(0);
      refusedNames.delete(ctx);
      if (!ctx.secure && ctx.server.tlsPolicy.loginNeedsTls(argument)) {
        await ctx.reply(530, "TLS required: send AUTH TLS before USER");
        return;
      }
      const attempt = await beginAttempt(ctx);
      if (!attempt) return;
      const started = performance.now();
      try {
        const result = await ctx.server.userManager.getUser(argument, loginContext(ctx));
        if (result.state !== "ok") {
          if (result.state === "error") {
            await ctx.setUser(undefined, { loginName: argument });
            refusedNames.set(ctx, { reason: result.reason ?? "refused", detail: result.info });
          } else await ctx.setUser(result.user, { loginName: argument });
          attempt.end(false);
          await ctx.reply(331, "password required");
          return;
        }
        await ctx.setUser(result.user, { loginName: argument });
        const refusal = await ctx.completeLogin();
        if (refusal === undefined) {
          attempt.end(false);
          await ctx.reply(230, result.info);
          return;
        }
        attempt.end(true);
        await refuseLogin(ctx, { reason: "refused", detail: refusal, text: refusal }, started);
      } finally {
        attempt.end(true);
      }
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
      if (ctx.loginName === undefined) {
        await ctx.reply(503, "bad sequence of commands (no user (use USER firstly))");
        return;
      }
      const attempt = await beginAttempt(ctx);
      if (!attempt) return;
      const started = performance.now();
      try {
        const failure = await checkPassword(ctx, argument);
        if (!failure) {
          attempt.end(false);
          await ctx.reply(230, "normal login");
          return;
        }
        attempt.end(true);
        await refuseLogin(ctx, failure, started);
      } finally {
        attempt.end(true);
      }
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

/** The session as the user manager sees it; its signal lets a lookup stop once it closes. */
function loginContext(ctx: CommandContext): LoginContext {
  return { remoteAddr: ctx.remoteAddr, secure: ctx.secure, sessionId: ctx.id, signal: ctx.signal };
}

/**
 * Admits a login attempt from the client's address (waiting while the attempts in flight
 * fill its budget), or ends the session with `421` once the address has used up its failed
 * logins. The attempt ends by itself when the session closes, so that a handler left behind
 * (its user manager hangs) does not hold the address's budget.
 */
async function beginAttempt(ctx: CommandContext): Promise<LoginAttempt | undefined> {
  const ip = ctx.remoteAddr.hostname;
  const attempt = await ctx.server.loginGuard.begin(ip, ctx.signal);
  if (attempt) return attempt;
  ctx.log("info", `Refused a login from ${ip}: too many failed logins`);
  await ctx.reply(421, "too many failed logins from your address, closing control connection");
  ctx.close();
  return undefined;
}

/** PASS for the named user: `undefined` once logged in, else why it failed. */
async function checkPassword(
  ctx: CommandContext,
  password: string,
): Promise<LoginFailure | undefined> {
  const user = ctx.user;
  if (!user) return refusedNames.get(ctx) ?? { reason: "unknown-user", detail: "no such user" };
  if (!await ctx.server.userManager.authenticate(user, password, loginContext(ctx))) {
    return { reason: "wrong-password", detail: "wrong password" };
  }
  const refusal = await ctx.completeLogin();
  return refusal === undefined ? undefined : { reason: "refused", detail: refusal, text: refusal };
}

/**
 * Answers a failed login once the failure delay has passed since the command arrived (so that
 * an unknown name, a wrong password and a slow password hash take the same time): `530`, or
 * `421` and the end of the session once the attempts are used up.
 */
async function refuseLogin(
  ctx: CommandContext,
  failure: LoginFailure,
  started: number,
): Promise<void> {
  const { loginFailureDelay, maxLoginAttempts } = ctx.server.options;
  const ip = ctx.remoteAddr.hostname;
  ctx.log("info", `Failed login from ${ip} as ${JSON.stringify(ctx.loginName)}: ${failure.detail}`);
  const failures = await ctx.countLoginFailure(failure.reason);
  const wait = started + loginFailureDelay - performance.now();
  if (wait > 0) await ctx.sleep(wait);
  if (failures >= maxLoginAttempts || ctx.server.loginGuard.blocked(ip)) {
    await ctx.reply(421, "too many failed login attempts, closing control connection");
    ctx.close();
    return;
  }
  await ctx.reply(530, failure.text ?? "login incorrect");
}
