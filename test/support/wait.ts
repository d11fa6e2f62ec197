// Polling for something asynchronous (a log line, a metric) with a generous deadline: the machine may
// be slow, so the deadline only bounds a hang; the test itself measures what it reports.

export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000, everyMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
