/** A health probe that has not answered by then fails: a dead connection may never answer. */
export const CHECK_TIMEOUT_MS = 2000;

/** Runs `probe` for at most CHECK_TIMEOUT_MS: `'ok'`, or why not (`what` names the silent party). */
export async function healthCheck(probe: () => Promise<void>, what?: string): Promise<'ok' | string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        const message = what ? `${what} did not answer within ${CHECK_TIMEOUT_MS} ms` : `no answer within ${CHECK_TIMEOUT_MS} ms`;
        timer = setTimeout(() => reject(new Error(message)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}
