/**
 * FTPS on the control and data connections (RFC 4217): AUTH, PBSZ, PROT, CCC.
 *
 * @module
 */

import type { CommandSpec } from "../command_table.ts";
import { PipelinedBeforeTlsError } from "../control_connection.ts";

const MECHANISMS = new Set(["TLS", "TLS-C", "SSL", "TLS-P"]);

/** The FTPS verbs; announced in FEAT only when the server has a certificate. */
export const tlsCommands: Record<string, CommandSpec> = {
  AUTH: {
    help: "<SP> TLS",
    whileTransferring: "refuse",
    feature: (ctx) => ctx.server.tlsPolicy.certificate ? "AUTH TLS" : undefined,
    async handler(ctx, { argument }) {
      const mechanism = argument.trim().toUpperCase();
      if (!ctx.server.tlsPolicy.certificate) {
        await ctx.reply(502, "TLS is not configured on this server");
        return;
      }
      if (ctx.secure) {
        await ctx.reply(503, "the control connection is already secured");
        return;
      }
      if (!MECHANISMS.has(mechanism)) {
        await ctx.reply(504, `security mechanism '${mechanism.slice(0, 16)}' not understood`);
        return;
      }
      try {
        await ctx.upgradeToTls({
          code: 234,
          text: `AUTH ${mechanism} successful, starting the TLS handshake`,
        });
      } catch (error) {
        if (!(error instanceof PipelinedBeforeTlsError)) throw error;
        // CVE-2011-0411: what came behind AUTH in clear text must not run under TLS.
        await ctx.reply(503, "commands sent behind AUTH were discarded, no TLS handshake");
        return;
      }
      // A new security exchange: protection starts over (RFC 4217 §8, §9).
      ctx.setDataProtection("C");
      // A user named before AUTH must log in again, now under TLS (any name: a known and an
      // unknown one must not be told apart by what PASS answers next).
      if (ctx.loginName !== undefined) await ctx.setUser(undefined);
    },
  },
  PBSZ: {
    help: "<SP> 0",
    feature: (ctx) => ctx.server.tlsPolicy.certificate ? "PBSZ" : undefined,
    async handler(ctx, { argument }) {
      if (!ctx.secure) {
        await ctx.reply(503, "bad sequence of commands (PBSZ needs AUTH TLS first)");
        return;
      }
      if (!/^\d{1,10}$/.test(argument.trim())) {
        await ctx.reply(501, "syntax error, use PBSZ 0");
        return;
      }
      ctx.setProtectionBuffer();
      // Any size is answered with 0: TLS needs no buffer (RFC 4217 §8).
      await ctx.reply(200, "PBSZ=0");
    },
  },
  PROT: {
    help: "<SP> C | P",
    feature: (ctx) => ctx.server.tlsPolicy.certificate ? "PROT" : undefined,
    async handler(ctx, { argument }) {
      const level = argument.trim().toUpperCase();
      if (!ctx.secure || !ctx.protectionBufferSet) {
        await ctx.reply(503, "bad sequence of commands (PROT needs AUTH TLS and PBSZ first)");
        return;
      }
      if (level === "C" || level === "P") {
        ctx.setDataProtection(level);
        await ctx.reply(200, `protection level set to ${level}`);
      } else if (level === "S" || level === "E") {
        await ctx.reply(536, `protection level ${level} not supported`);
      } else {
        await ctx.reply(504, `protection level '${level.slice(0, 16)}' not understood`);
      }
    },
  },
  CCC: {
    help: "(clear command channel: refused)",
    async handler(ctx) {
      if (!ctx.secure) {
        await ctx.reply(533, "the control connection is not secured");
        return;
      }
      await ctx.reply(534, "CCC refused: the control connection stays secured");
    },
  },
};
