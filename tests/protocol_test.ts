/**
 * The control-channel codec: replies (parse, match, format), commands (encode, parse),
 * data-connection addresses (PASV, EPSV, PORT, EPRT) and quoted paths.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidCommandError, ProtocolError } from "../lib/errors.ts";
import {
  formatEprtArgument,
  formatEpsvAddress,
  formatPasvAddress,
  formatPortArgument,
  parseEprtArgument,
  parseEpsvReply,
  parsePasvReply,
  parsePortArgument,
} from "../lib/protocol/address.ts";
import { encodeCommand, parseCommand } from "../lib/protocol/command.ts";
import { parseQuotedPath, quotePath } from "../lib/protocol/path_quote.ts";
import {
  formatReply,
  matchesCode,
  type Reply,
  ReplyParser,
  replyText,
  toPatterns,
} from "../lib/protocol/reply.ts";

/** Feeds lines to a fresh parser and collects the replies. */
function parseReplies(...lines: string[]): Reply[] {
  const parser = new ReplyParser();
  const replies: Reply[] = [];
  for (const line of lines) {
    const reply = parser.push(line);
    if (reply) replies.push(reply);
  }
  return replies;
}

describe("ReplyParser", () => {
  it("parses a single-line reply", () => {
    assert.deepEqual(parseReplies("220 Welcome"), [{ code: 220, lines: ["Welcome"] }]);
  });

  it("keeps the text of a single-line reply verbatim, spaces included", () => {
    assert.deepEqual(parseReplies("250  two spaces "), [{ code: 250, lines: [" two spaces "] }]);
  });

  it("parses a code with no text", () => {
    assert.deepEqual(parseReplies("200"), [{ code: 200, lines: [""] }]);
  });

  it("parses a multi-line reply and strips the code of continuation lines", () => {
    assert.deepEqual(
      parseReplies("211-Features:", " MDTM", "211-SIZE", "211 End"),
      [{ code: 211, lines: ["Features:", " MDTM", "SIZE", "End"] }],
    );
  });

  it("keeps lines without a code in the middle, even ones starting with digits", () => {
    assert.deepEqual(
      parseReplies("220-Banner", "no code here", "  123 indented", "4 short", "220 Ready"),
      [{ code: 220, lines: ["Banner", "no code here", "  123 indented", "4 short", "Ready"] }],
    );
  });

  it("keeps a line with another code and a hyphen inside a block as text", () => {
    assert.deepEqual(
      parseReplies("220-Banner", "221-not the end", "220 Ready"),
      [{ code: 220, lines: ["Banner", "221-not the end", "Ready"] }],
    );
  });

  it("ends a multi-line reply on the bare code", () => {
    assert.deepEqual(
      parseReplies("230-Hello", "230"),
      [{ code: 230, lines: ["Hello", ""] }],
    );
  });

  it("keeps a bare other code inside a block as text", () => {
    assert.deepEqual(
      parseReplies("220-Banner", "404", "220 Ready"),
      [{ code: 220, lines: ["Banner", "404", "Ready"] }],
    );
  });

  it("parses consecutive replies with one parser", () => {
    assert.deepEqual(
      parseReplies("150 Opening", "226-Done", "226 Bye"),
      [{ code: 150, lines: ["Opening"] }, { code: 226, lines: ["Done", "Bye"] }],
    );
  });

  it("reports a pending multi-line reply", () => {
    const parser = new ReplyParser();
    assert.equal(parser.pending, false);
    parser.push("220-a");
    assert.equal(parser.pending, true);
    parser.push("220 b");
    assert.equal(parser.pending, false);
  });

  it("rejects a multi-line reply ending with another code, then recovers", () => {
    const parser = new ReplyParser();
    parser.push("220-Banner");
    assert.throws(() => parser.push("221 Bye"), ProtocolError);
    assert.equal(parser.pending, false);
    assert.deepEqual(parser.push("200 ok"), { code: 200, lines: ["ok"] });
  });

  it("rejects a first line without a code", () => {
    assert.throws(() => new ReplyParser().push("hello"), ProtocolError);
    assert.throws(() => new ReplyParser().push("22 x"), ProtocolError);
    assert.throws(() => new ReplyParser().push("2200 x"), ProtocolError);
    assert.throws(() => new ReplyParser().push(""), ProtocolError);
  });

  it("joins the lines with replyText", () => {
    assert.equal(replyText({ code: 211, lines: ["a", "b"] }), "a\nb");
  });
});

describe("matchesCode", () => {
  const cases: [number, Parameters<typeof matchesCode>[1], boolean][] = [
    [226, "226", true],
    [226, "2xx", true],
    [226, "22x", true],
    [226, "2", true],
    [226, "22", true],
    [226, "3xx", false],
    [226, "225", false],
    [226, 226, true],
    [226, 250, false],
    [550, ["226", "250"], false],
    [250, ["226", "250"], true],
    [150, ["1xx", 226], true],
    [226, ["1xx", 226], true],
    [226, [], false],
    [226, "", false],
    [226, "2266", false],
  ];
  for (const [code, expected, result] of cases) {
    it(`${code} against ${JSON.stringify(expected)} is ${result}`, () => {
      assert.equal(matchesCode(code, expected), result);
    });
  }

  it("normalizes patterns to strings", () => {
    assert.deepEqual(toPatterns(226), ["226"]);
    assert.deepEqual(toPatterns("2xx"), ["2xx"]);
    assert.deepEqual(toPatterns(["1xx", 226]), ["1xx", "226"]);
  });
});

describe("formatReply", () => {
  it("formats one line", () => {
    assert.equal(formatReply(200, "ok"), "200 ok\r\n");
  });

  it("formats an empty text with the separating space", () => {
    assert.equal(formatReply(200, ""), "200 \r\n");
    assert.equal(formatReply(200, []), "200 \r\n");
  });

  it("formats several lines with hyphens and the last with a space", () => {
    assert.equal(formatReply(250, ["a", "b", "c"]), "250-a\r\n250-b\r\n250 c\r\n");
  });

  it("sends body lines starting with a space as they are", () => {
    assert.equal(
      formatReply(211, ["Features:", " SIZE", " MDTM", "End"]),
      "211-Features:\r\n SIZE\r\n MDTM\r\n211 End\r\n",
    );
  });

  it("prefixes a first line that starts with a space", () => {
    assert.equal(formatReply(211, [" a", "b"]), "211- a\r\n211 b\r\n");
  });

  it("replaces CR and LF so that a text cannot forge a reply line", () => {
    assert.equal(formatReply(550, 'No "a\r\n226 ok"'), '550 No "a  226 ok"\r\n');
    assert.equal(formatReply(211, ["x\ny", "z"]), "211-x y\r\n211 z\r\n");
  });

  it("round-trips through the parser", () => {
    const wire = formatReply(211, ["Features:", " UTF8", "End"]);
    const lines = wire.split("\r\n").slice(0, -1);
    assert.deepEqual(parseReplies(...lines), [{
      code: 211,
      lines: ["Features:", " UTF8", "End"],
    }]);
  });
});

describe("encodeCommand", () => {
  it("appends CRLF", () => {
    assert.equal(encodeCommand("RETR a b.txt"), "RETR a b.txt\r\n");
  });

  for (
    const [what, line] of [["CR", "RETR a\rDELE b"], ["LF", "RETR a\nDELE b"], [
      "NUL",
      "RETR a\0b",
    ]]
  ) {
    it(`refuses ${what}`, () => {
      assert.throws(() => encodeCommand(line), InvalidCommandError);
    });
  }
});

describe("parseCommand", () => {
  it("upper-cases the verb and keeps the argument verbatim", () => {
    assert.deepEqual(parseCommand("stor my  file.txt "), {
      verb: "STOR",
      argument: "my  file.txt ",
    });
  });

  it("parses a verb without argument", () => {
    assert.deepEqual(parseCommand("noop"), { verb: "NOOP", argument: "" });
  });

  it("keeps leading spaces of the argument after the first space", () => {
    assert.deepEqual(parseCommand("CWD  x"), { verb: "CWD", argument: " x" });
  });
});

describe("PASV addresses", () => {
  it("formats host and port", () => {
    assert.equal(formatPasvAddress("127.0.0.1", 1025), "127,0,0,1,4,1");
    assert.equal(formatPasvAddress("10.1.2.3", 65535), "10,1,2,3,255,255");
    assert.equal(formatPasvAddress("::ffff:127.0.0.1", 256), "127,0,0,1,1,0");
  });

  it("refuses a non-IPv4 host or a bad port when formatting", () => {
    assert.throws(() => formatPasvAddress("::1", 21), RangeError);
    assert.throws(() => formatPasvAddress("localhost", 21), RangeError);
    assert.throws(() => formatPasvAddress("127.0.0.1", 0), RangeError);
    assert.throws(() => formatPasvAddress("127.0.0.1", 65536), RangeError);
  });

  const replies: [string, string, number][] = [
    ["Entering Passive Mode (127,0,0,1,4,1).", "127.0.0.1", 1025],
    ["227 Entering Passive Mode (127,0,0,1,4,1)", "127.0.0.1", 1025],
    ["Entering Passive Mode 127,0,0,1,4,1", "127.0.0.1", 1025],
    ["=127,0,0,1,4,1", "127.0.0.1", 1025],
    ["Entering passive mode (192, 168, 1, 20, 200, 10) ok", "192.168.1.20", 51210],
    ["(0,0,0,0,255,255)", "0.0.0.0", 65535],
  ];
  for (const [text, hostname, port] of replies) {
    it(`parses ${JSON.stringify(text)}`, () => {
      assert.deepEqual(parsePasvReply(text), { hostname, port });
    });
  }

  for (
    const text of [
      "Entering Passive Mode",
      "(127,0,0,1,4)",
      "(256,0,0,1,4,1)",
      "(127,0,0,1,300,1)",
      "(127,0,0,1,0,0)",
    ]
  ) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(() => parsePasvReply(text), ProtocolError);
    });
  }

  it("round-trips", () => {
    for (const port of [1, 255, 256, 1025, 40000, 65535]) {
      assert.deepEqual(
        parsePasvReply(`Entering Passive Mode (${formatPasvAddress("10.0.0.7", port)}).`),
        { hostname: "10.0.0.7", port },
      );
    }
  });
});

describe("EPSV replies", () => {
  it("formats the port", () => {
    assert.equal(formatEpsvAddress(1025), "|||1025|");
    assert.throws(() => formatEpsvAddress(0), RangeError);
    assert.throws(() => formatEpsvAddress(1.5), RangeError);
  });

  const replies: [string, number][] = [
    ["Entering Extended Passive Mode (|||1025|)", 1025],
    ["229 Entering Extended Passive Mode (|||1025|).", 1025],
    ["Entering Extended Passive Mode (!!!65535!)", 65535],
    ["(###1#) and more text", 1],
    ["EPSV ok (|||6446|) (|||7|)", 6446],
  ];
  for (const [text, port] of replies) {
    it(`parses ${JSON.stringify(text)}`, () => {
      assert.equal(parseEpsvReply(text), port);
    });
  }

  for (
    const text of [
      "Entering Extended Passive Mode",
      "(|||1025|",
      "(||1025|)",
      "(|||1025!)",
      "(!||1025|)",
      "(|||0|)",
      "(|||65536|)",
      "(|||abc|)",
      "|||1025|",
    ]
  ) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseEpsvReply(text), ProtocolError);
    });
  }

  it("round-trips", () => {
    for (const port of [1, 1025, 65535]) {
      assert.equal(parseEpsvReply(`Extended (${formatEpsvAddress(port)})`), port);
    }
  });
});

describe("PORT arguments", () => {
  it("formats and parses", () => {
    assert.equal(formatPortArgument("127.0.0.1", 1025), "127,0,0,1,4,1");
    assert.deepEqual(parsePortArgument("127,0,0,1,4,1"), { hostname: "127.0.0.1", port: 1025 });
    assert.deepEqual(parsePortArgument(" 10, 0, 0, 2, 0, 21 "), { hostname: "10.0.0.2", port: 21 });
  });

  for (
    const arg of [
      "",
      "127,0,0,1,4",
      "127,0,0,1,4,1,9",
      "127,0,0,256,4,1",
      "127,0,0,1,4,256",
      "127,0,0,1,0,0",
      "a,b,c,d,e,f",
      "127,0,0,1,4,-1",
      "127,0,0,1,4,1.5",
      "(127,0,0,1,4,1)",
      "1270,0,0,1,4,1",
    ]
  ) {
    it(`rejects ${JSON.stringify(arg)}`, () => {
      assert.throws(() => parsePortArgument(arg), ProtocolError);
    });
  }

  it("refuses to format an IPv6 host", () => {
    assert.throws(() => formatPortArgument("::1", 1025), RangeError);
  });
});

describe("EPRT arguments", () => {
  it("formats IPv4 and IPv6 hosts", () => {
    assert.equal(formatEprtArgument("127.0.0.1", 1025), "|1|127.0.0.1|1025|");
    assert.equal(formatEprtArgument("::1", 1025), "|2|::1|1025|");
    assert.equal(formatEprtArgument("[fe80::1]", 80), "|2|fe80::1|80|");
    assert.equal(formatEprtArgument("::ffff:10.0.0.1", 80), "|1|10.0.0.1|80|");
  });

  it("refuses names and bad ports when formatting", () => {
    assert.throws(() => formatEprtArgument("localhost", 21), RangeError);
    assert.throws(() => formatEprtArgument("127.0.0.1", 0), RangeError);
  });

  const good: [string, string, number, "IPv4" | "IPv6"][] = [
    ["|1|132.235.1.2|6275|", "132.235.1.2", 6275, "IPv4"],
    ["|2|1080::8:800:200C:417A|5282|", "1080::8:800:200C:417A", 5282, "IPv6"],
    ["|2|::1|1025|", "::1", 1025, "IPv6"],
    ["!2!::ffff:127.0.0.1!1025!", "::ffff:127.0.0.1", 1025, "IPv6"],
    ["|2|1:2:3:4:5:6:7:8|1|", "1:2:3:4:5:6:7:8", 1, "IPv6"],
    ["|2|1:2:3:4:5:6:1.2.3.4|1|", "1:2:3:4:5:6:1.2.3.4", 1, "IPv6"],
    [" |1|10.0.0.1|65535| ", "10.0.0.1", 65535, "IPv4"],
  ];
  for (const [arg, hostname, port, family] of good) {
    it(`parses ${JSON.stringify(arg)}`, () => {
      assert.deepEqual(parseEprtArgument(arg), { hostname, port, family });
    });
  }

  for (
    const arg of [
      "",
      "|1|127.0.0.1|1025",
      "|3|127.0.0.1|1025|",
      "|1|::1|1025|",
      "|2|127.0.0.1|1025|",
      "|1|256.0.0.1|1025|",
      "|1|127.0.0.01|1025|",
      "|1|localhost|1025|",
      "|2|1:2:3:4:5:6:7:8:9|1|",
      "|2|1::2::3|1|",
      "|2|:::|1|",
      "|2|fe80::1%eth0|1|",
      "|1|127.0.0.1|0|",
      "|1|127.0.0.1|65536|",
      "|1|127.0.0.1|x|",
      "|1|127.0.0.1|1025|x|",
      "1|1|127.0.0.1|1025|1",
    ]
  ) {
    it(`rejects ${JSON.stringify(arg)}`, () => {
      assert.throws(() => parseEprtArgument(arg), ProtocolError);
    });
  }

  it("round-trips", () => {
    for (const [host, family] of [["127.0.0.1", "IPv4"], ["2001:db8::42", "IPv6"]] as const) {
      assert.deepEqual(parseEprtArgument(formatEprtArgument(host, 4242)), {
        hostname: host,
        port: 4242,
        family,
      });
    }
  });
});

describe("quoted paths", () => {
  it("quotes and doubles inner quotes", () => {
    assert.equal(quotePath("/"), '"/"');
    assert.equal(quotePath('/a"b'), '"/a""b"');
    assert.equal(quotePath('"'), '""""');
    assert.equal(quotePath("/with space"), '"/with space"');
  });

  const texts: [string, string][] = [
    ['"/" is the current directory', "/"],
    ['257 "/a""b" created', '/a"b'],
    ['Current directory is "/home/x y" ("old")', "/home/x y"],
    ['""""', '"'],
    ['"" is empty', ""],
  ];
  for (const [text, path] of texts) {
    it(`parses ${JSON.stringify(text)}`, () => {
      assert.equal(parseQuotedPath(text), path);
    });
  }

  for (const text of ["no quotes", '"unterminated', '"/end""']) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseQuotedPath(text), ProtocolError);
    });
  }

  it("round-trips", () => {
    for (const path of ["/", '/a"b', '""', "/x/ y /z"]) {
      assert.equal(parseQuotedPath(`${quotePath(path)} is current`), path);
    }
  });
});
