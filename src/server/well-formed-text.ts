import type express from 'express';
import { ErrorCode } from '../errors/error-code';

// A surrogate code unit without its partner: JSON's "\ud800" decodes to one, but it is no Unicode
// text, and the database driver fails on it (an internal error instead of the client's).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Where the first string (key or value) in `value` holds a lone surrogate, as a JSON path ("variables.ids[0]"),
 * or undefined when every string is well-formed. Iterative: a body may nest deeper than the call stack.
 */
export function lonelySurrogatePath(value: unknown, root = ''): string | undefined {
  const stack: [unknown, string][] = [[value, root]];
  while (stack.length > 0) {
    const [v, at] = stack.pop()!;
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return at || '(body)';
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push([item, `${at}[${i}]`]));
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, item] of Object.entries(v)) {
        const child = at ? `${at}.${k}` : k;
        if (LONE_SURROGATE.test(k)) return child;
        stack.push([item, child]);
      }
    }
  }
  return undefined;
}

/** GET parameters as Apollo reads them: variables and extensions are JSON text. */
function getParameters(query: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...query };
  for (const key of ['variables', 'extensions']) {
    if (typeof out[key] !== 'string') continue;
    try {
      out[key] = JSON.parse(out[key]);
    } catch {
      // Not JSON: Apollo refuses it with its own BAD_REQUEST.
    }
  }
  return out;
}

/** Answers 400 BAD_REQUEST for a GraphQL request whose body or GET parameters hold a lone surrogate. */
export const rejectMalformedText: express.RequestHandler = (req, res, next) => {
  const at = lonelySurrogatePath(req.body) ?? lonelySurrogatePath(getParameters(req.query));
  if (at === undefined) return next();
  res
    .status(400)
    .json({ errors: [{ message: `${at}: expected well-formed Unicode text, got a lone UTF-16 surrogate`, extensions: { code: ErrorCode.BAD_REQUEST } }] });
};
