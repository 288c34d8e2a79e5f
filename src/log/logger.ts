import pino from 'pino';
import type { LogLevel } from '../config/config';
import { currentRequest } from './request-scope';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Fields that hold a credential wherever they sit: headers, a connection_init payload, options. */
const REDACTED_PATHS = [
  'authorization',
  'Authorization',
  '["x-api-key"]',
  'apiKey',
  'token',
  '*.authorization',
  '*.Authorization',
  '*["x-api-key"]',
  '*.apiKey',
  '*.token',
  '*.*.authorization',
  '*.*.Authorization',
  '*.*["x-api-key"]',
];

/** An API key ("gq_<id>_<secret>") or a bearer credential inside free text, such as an error message. */
const CREDENTIAL_IN_TEXT = /\bgq_[0-9a-f]{12}_[A-Za-z0-9_-]+|\b(Bearer\s+)\S+/gi;

function scrub(text: string): string {
  return text.replace(CREDENTIAL_IN_TEXT, (_match, bearer?: string) => (bearer ? `${bearer}[Redacted]` : '[Redacted]'));
}

function scrubFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) out[name] = typeof value === 'string' ? scrub(value) : value;
  return out;
}

/**
 * JSON lines on stderr (through pino), so stdout stays free for tools that parse it: `time`, `level`,
 * `message`, the request's id when written on behalf of a request, then the call's fields. Credentials
 * are redacted. `write` receives each line without its newline (tests collect them).
 */
export function createLogger(level: LogLevel, write?: (line: string) => void): Logger {
  const destination = write ? { write: (chunk: string) => write(chunk.replace(/\n$/, '')) } : pino.destination({ fd: 2, sync: true });
  const base = pino(
    {
      level,
      base: undefined,
      messageKey: 'message',
      timestamp: () => `,"time":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      mixin: () => ({ ...currentRequest() }),
      redact: { paths: REDACTED_PATHS, censor: '[Redacted]' },
    },
    destination,
  );
  const at =
    (method: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, fields?: Record<string, unknown>): void => {
      if (!base.isLevelEnabled(method)) return;
      base[method](fields ? scrubFields(fields) : {}, scrub(message));
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
