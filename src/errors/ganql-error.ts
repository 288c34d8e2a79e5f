import { ErrorCode } from './error-code';

/** An error whose message is safe to show to clients. Anything else is masked as internal. */
export class GanqlError extends Error {
  override name = 'GanqlError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function badInput(message: string): GanqlError {
  return new GanqlError(ErrorCode.BAD_USER_INPUT, message);
}

export function notFound(what: string, id: string): GanqlError {
  return new GanqlError(ErrorCode.NOT_FOUND, `${what} ${JSON.stringify(id)} not found`);
}

export function isGanqlError(error: unknown): error is GanqlError {
  return error instanceof GanqlError;
}
