/**
 * The control-channel line reader (lib/stream/line_reader.ts): line ends, chunking, the length
 * cap, lossy UTF-8 and Telnet IAC handling.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { concatBytes } from "../lib/stream/bytes.ts";
import { LineReader, LineTooLongError, stripTelnet } from "../lib/stream/line_reader.ts";

const T = { timeout: 20000 };
const IAC = 0xff;
const IP = 244;
const DM = 242;

const bytes = (...parts: (string | number[])[]): Uint8Array => {
  const chunks = parts.map((p) =>
    typeof p === "string" ? new TextEncoder().encode(p) : Uint8Array.from(p)
  );
  return concatBytes(chunks);
};

/** A stream that delivers the given chunks, then ends. */
function streamOf(...chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

/** Reads every line until the end, recording errors by name. */
async function readAll(reader: LineReader): Promise<(string | null)[]> {
  const out: (string | null)[] = [];
  while (true) {
    try {
      const line = await reader.readLine();
      out.push(line);
      if (line === null) return out;
    } catch (error) {
      assert.ok(error instanceof LineTooLongError, String(error));
      out.push(`<${error.name} ${error.maxLength}>`);
    }
  }
}

describe("LineReader", () => {
  it("reads CRLF lines from one chunk", T, async () => {
    const reader = new LineReader(streamOf(bytes("USER a\r\nPASS b\r\nQUIT\r\n")));
    assert.deepEqual(await readAll(reader), ["USER a", "PASS b", "QUIT", null]);
  });

  it("reads a line split over many chunks, byte by byte", T, async () => {
    const text = bytes("RETR some file.txt\r\nNOOP\r\n");
    const chunks = Array.from(text, (b) => Uint8Array.of(b));
    assert.deepEqual(await readAll(new LineReader(streamOf(...chunks))), [
      "RETR some file.txt",
      "NOOP",
      null,
    ]);
  });

  it("accepts a bare LF and a CRLF split between chunks", T, async () => {
    const reader = new LineReader(streamOf(bytes("a\nb\r"), bytes("\nc\r\n")));
    assert.deepEqual(await readAll(reader), ["a", "b", "c", null]);
  });

  it("returns empty lines", T, async () => {
    assert.deepEqual(await readAll(new LineReader(streamOf(bytes("\r\n\n\r\nx\r\n")))), [
      "",
      "",
      "",
      "x",
      null,
    ]);
  });

  it("returns a trailing fragment at the end, then null", T, async () => {
    const reader = new LineReader(streamOf(bytes("220 hi\r\nQUI"), bytes("T")));
    assert.deepEqual(await readAll(reader), ["220 hi", "QUIT", null]);
    assert.equal(await reader.readLine(), null);
  });

  it("drops the CR of a trailing fragment", T, async () => {
    assert.deepEqual(await readAll(new LineReader(streamOf(bytes("QUIT\r")))), ["QUIT", null]);
  });

  it("keeps a bare CR inside a line unless told otherwise", T, async () => {
    assert.deepEqual(await readAll(new LineReader(streamOf(bytes("a\rb\r\n")))), ["a\rb", null]);
  });

  it(
    "with bareCrEndsLine, answers a CR at the end of what arrived without waiting",
    T,
    async () => {
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes("ABOR\r"));
        },
      });
      const reader = new LineReader(stream, { bareCrEndsLine: true });
      assert.equal(await reader.readLine(), "ABOR");
      assert.equal(reader.buffered, 0);
    },
  );

  it("with bareCrEndsLine, a CR ends a line before any byte but LF", T, async () => {
    const reader = new LineReader(
      streamOf(bytes("A\rB\r", [0], "C\r"), bytes("\nD\r"), bytes([0], "E\r\r\nF\r\n")),
      { bareCrEndsLine: true },
    );
    assert.deepEqual(await readAll(reader), ["A", "B", "C", "D", "E", "", "F", null]);
  });

  it("with bareCrEndsLine, leaves nothing buffered after a line's CR LF or CR NUL", T, async () => {
    const reader = new LineReader(streamOf(bytes("A\r\n"), bytes("B\r", [0])), {
      bareCrEndsLine: true,
    });
    assert.equal(await reader.readLine(), "A");
    assert.equal(reader.buffered, 0);
    assert.equal(await reader.readLine(), "B");
    assert.equal(reader.buffered, 0);
    assert.equal(await reader.readLine(), null);
  });

  it("with bareCrEndsLine, caps lines that end in a bare CR", T, async () => {
    const reader = new LineReader(streamOf(bytes(`${"x".repeat(17)}\rNOOP\r`)), {
      maxLineLength: 16,
      bareCrEndsLine: true,
    });
    assert.deepEqual(await readAll(reader), ["<LineTooLongError 16>", "NOOP", null]);
  });

  it("returns null at once for an empty stream", T, async () => {
    assert.deepEqual(await readAll(new LineReader(streamOf())), [null]);
  });

  it("accepts a line of exactly the cap, CR excluded", T, async () => {
    const line = "x".repeat(16);
    const reader = new LineReader(streamOf(bytes(`${line}\r\n${line}\n`)), { maxLineLength: 16 });
    assert.deepEqual(await readAll(reader), [line, line, null]);
  });

  it("skips an overlong line with LineTooLongError and reads the next one", T, async () => {
    const reader = new LineReader(streamOf(bytes(`${"x".repeat(17)}\r\nNOOP\r\n`)), {
      maxLineLength: 16,
    });
    assert.deepEqual(await readAll(reader), ["<LineTooLongError 16>", "NOOP", null]);
  });

  it("skips an overlong line spread over many chunks", T, async () => {
    const chunks = Array.from({ length: 100 }, () => bytes("y".repeat(1000)));
    const reader = new LineReader(streamOf(bytes("A\r\n"), ...chunks, bytes("\r\nB\r\n")), {
      maxLineLength: 4096,
    });
    assert.deepEqual(await readAll(reader), ["A", "<LineTooLongError 4096>", "B", null]);
  });

  it("reports an overlong trailing fragment at the end", T, async () => {
    const reader = new LineReader(streamOf(bytes("ok\n"), bytes("z".repeat(40))), {
      maxLineLength: 16,
    });
    assert.deepEqual(await readAll(reader), ["ok", "<LineTooLongError 16>", null]);
    const short = new LineReader(streamOf(bytes("z".repeat(17))), { maxLineLength: 16 });
    assert.deepEqual(await readAll(short), ["<LineTooLongError 16>", null]);
  });

  it("decodes UTF-8, also split between chunks", T, async () => {
    const text = bytes("CWD été/日本\r\n");
    const reader = new LineReader(
      streamOf(text.subarray(0, 6), text.subarray(6, 9), text.subarray(9)),
    );
    assert.deepEqual(await readAll(reader), ["CWD été/日本", null]);
  });

  it("decodes invalid UTF-8 lossily and keeps going", T, async () => {
    const reader = new LineReader(
      streamOf(bytes("RETR a", [0xc3, 0x28, 0x80], "b\r\n", "NOOP\r\n")),
    );
    assert.deepEqual(await readAll(reader), ["RETR a\ufffd(\ufffdb", "NOOP", null]);
  });

  it("removes Telnet IP and Synch before ABOR", T, async () => {
    const reader = new LineReader(streamOf(bytes([IAC, IP, IAC, DM], "ABOR\r\n")));
    assert.deepEqual(await readAll(reader), ["ABOR", null]);
  });

  it("keeps the A of ABOR when the kernel removed the urgent DM", T, async () => {
    const reader = new LineReader(streamOf(bytes([IAC, IP, IAC], "ABOR\r\n")));
    assert.deepEqual(await readAll(reader), ["ABOR", null]);
  });

  it("keeps IAC bytes when Telnet stripping is off", T, async () => {
    const reader = new LineReader(streamOf(bytes([IAC, IP], "X\r\n")), { stripTelnet: false });
    assert.deepEqual(await readAll(reader), ["\ufffd\ufffdX", null]);
  });

  it("hands over unread bytes and the stream on releaseLock", T, async () => {
    const stream = streamOf(bytes("AUTH TLS\r\n", [0x16, 0x03, 0x01]), bytes([0x02]));
    const reader = new LineReader(stream);
    assert.equal(await reader.readLine(), "AUTH TLS");
    assert.deepEqual(reader.releaseLock(), Uint8Array.of(0x16, 0x03, 0x01));
    const raw = stream.getReader();
    assert.deepEqual((await raw.read()).value, Uint8Array.of(0x02));
    raw.releaseLock();
  });

  it("cancels the stream", T, async () => {
    let reason: unknown = "not cancelled";
    const stream = new ReadableStream<Uint8Array>({
      pull() {},
      cancel(r) {
        reason = r;
      },
    });
    const reader = new LineReader(stream);
    await reader.cancel();
    assert.equal(reason, undefined);
  });
});

describe("stripTelnet", () => {
  const cases: [string, number[], number[]][] = [
    ["plain bytes", [0x41, 0x42], [0x41, 0x42]],
    ["IAC IAC is one 0xFF", [0x41, IAC, IAC, 0x42], [0x41, IAC, 0x42]],
    ["IAC IP and IAC DM", [IAC, IP, IAC, DM, 0x41], [0x41]],
    ["IAC NOP, IAC AYT, IAC GA", [IAC, 241, 0x41, IAC, 246, IAC, 249], [0x41]],
    ["IAC WILL/WONT/DO/DONT with option", [
      IAC,
      251,
      1,
      IAC,
      252,
      3,
      IAC,
      253,
      0,
      IAC,
      254,
      24,
      0x41,
    ], [
      0x41,
    ]],
    ["IAC SB ... IAC SE", [0x41, IAC, 250, 24, 0, 0x78, IAC, IAC, IAC, 240, 0x42], [0x41, 0x42]],
    ["IAC before a letter drops the IAC only", [IAC, IP, IAC, 0x41, 0x42], [0x41, 0x42]],
    ["IAC at the end", [0x41, IAC], [0x41]],
    ["IAC DO at the end", [0x41, IAC, 253], [0x41]],
    ["unterminated subnegotiation", [0x41, IAC, 250, 1, 2], [0x41]],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => {
      assert.deepEqual(stripTelnet(Uint8Array.from(input)), Uint8Array.from(expected));
    });
  }
});
