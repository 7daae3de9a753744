// The Worker's stdout as lines (its JSON request logs), for tests that check what was logged.
export interface CapturedLogs {
  lines: string[];
  /** Miniflare options that route the Worker's stdout into `lines` (pass as `miniflare`). */
  miniflare: { handleRuntimeStdio(stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream): void };
  /** The request log line of one request id; waits a little, since stdout arrives after the response. */
  request(id: string | null): Promise<Record<string, any>>;
}

export function captureLogs(): CapturedLogs {
  const lines: string[] = [];
  return {
    lines,
    miniflare: {
      handleRuntimeStdio(stdout, stderr) {
        let buf = '';
        stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          const parts = buf.split('\n');
          buf = parts.pop()!;
          lines.push(...parts);
        });
        stderr.resume();
      },
    },
    async request(id) {
      for (let i = 0; i < 50; i++) {
        const line = lines.map((l) => { try { return JSON.parse(l); } catch { return null; } }).find((l) => l?.msg === 'request' && l.request_id === id);
        if (line) return line;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no log line for ${id}; got ${lines.slice(-5).join('\n')}`);
    },
  };
}
