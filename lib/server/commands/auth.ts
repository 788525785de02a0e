/**
 * Login and logout: USER, PASS, ACCT, QUIT. Failed logins are slowed down by the server's
 * `loginFailureDelay` and, after `maxLoginAttempts` in the session or `maxLoginFailuresPerIp`
 * from the address, end the session with `421`.
 *
 * @module
 */

import type { CommandSpec } from "../command_table.ts";
import type { Session } from "../session.ts";

/** The login verbs. */
export const authCommands: Record<string, CommandSpec> = {
  USER: {
    help: "<SP> <username>",
    async handler(session, { argument }) {
      await session.setUser(undefined, false);
      const result = await session.server.userManager.getUser(argument);
      if (result.state === "error") {
        await refuseLogin(session, result.info);
        return;
      }
      await session.setUser(result.user, result.state === "ok");
      await session.reply(result.state === "ok" ? 230 : 331, result.info);
    },
  },
  PASS: {
    help: "<SP> <password>",
    secret: true,
    async handler(session, { argument }) {
      if (session.loggedIn) {
        await session.reply(503, "already logged in");
        return;
      }
      const user = session.user;
      if (!user) {
        await session.reply(503, "bad sequence of commands (no user (use USER firstly))");
        return;
      }
      if (!await session.server.userManager.authenticate(user, argument)) {
        await refuseLogin(session, "wrong password");
        return;
      }
      session.loggedIn = true;
      session.loginFailures = 0;
      await session.reply(230, "normal login");
    },
  },
  ACCT: {
    help: "<SP> <account-information>",
    async handler(session) {
      if (session.loggedIn) await session.reply(202, "account not needed");
      else await session.reply(503, "bad sequence of commands (log in with USER and PASS first)");
    },
  },
  QUIT: {
    help: "(terminate the session)",
    async handler(session) {
      await session.abortTransfer();
      await session.reply(221, "bye");
      session.close();
    },
  },
};

/**
 * Answers a failed USER or PASS after the failure delay: `530 <info>`, or `421` and the end of
 * the session once the attempts are used up.
 */
async function refuseLogin(session: Session, info: string): Promise<void> {
  const { loginFailureDelay, maxLoginAttempts } = session.server.options;
  const ip = session.remoteAddr.hostname;
  session.loginFailures++;
  session.server.loginGuard.recordFailure(ip);
  session.log("info", `Failed login from ${ip}: ${info}`);
  if (loginFailureDelay > 0) await session.sleep(loginFailureDelay);
  if (session.loginFailures >= maxLoginAttempts || session.server.loginGuard.blocked(ip)) {
    await session.reply(421, "too many failed login attempts, closing control connection");
    session.close();
    return;
  }
  await session.reply(530, info);
}
