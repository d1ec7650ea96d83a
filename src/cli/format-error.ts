// How the CLI shows an error to a person.
import { isTalStreamError, TalStreamHttpError } from '../errors';

/**
 * `error: <code> at byte <offset>: <message>` for talstream errors with an offset,
 * `error: <code>: <message>` without; an HTTP error adds the start of the body on the next lines.
 */
export function formatError(e: unknown): string {
  if (isTalStreamError(e)) {
    const head = `error: ${e.code}${e.offset === undefined ? '' : ` at byte ${e.offset}`}: ${e.message}`;
    if (e instanceof TalStreamHttpError && e.body) return `${head}\n${e.body}`;
    return head;
  }
  return `error: ${e instanceof Error ? e.message : String(e)}`;
}
