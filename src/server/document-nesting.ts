import type express from 'express';
import { ErrorCode } from '../errors/error-code';

/**
 * Brackets ({ ( [) a document may nest before it is parsed at all. graphql-js parses recursively, so a
 * document of some 10,000 nested braces overflows the call stack inside Apollo (an internal error, found
 * by the fuzz test) before the depth rule (GANQL_MAX_QUERY_DEPTH) could see it. A valid query within the
 * depth limit nests far less: selections, arguments and list or object values each add one level.
 */
export const MAX_DOCUMENT_NESTING = 256;

/** The deepest bracket nesting of a GraphQL document's text, skipping strings, block strings and comments. */
export function documentNesting(text: string): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '#') {
      while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++;
    } else if (c === '"') {
      if (text.startsWith('"""', i)) {
        const end = text.indexOf('"""', i + 3);
        i = end < 0 ? text.length : end + 2;
      } else {
        for (i++; i < text.length && text[i] !== '"' && text[i] !== '\n'; i++) if (text[i] === '\\') i++;
      }
    } else if (c === '{' || c === '(' || c === '[') {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (c === '}' || c === ')' || c === ']') {
      depth = Math.max(0, depth - 1);
    }
  }
  return deepest;
}

/** Answers 400 QUERY_TOO_COMPLEX for a request whose document nests deeper than `limit`, before Apollo parses it. */
export function rejectDeepDocuments(limit = MAX_DOCUMENT_NESTING): express.RequestHandler {
  return (req, res, next) => {
    const body: unknown = req.body;
    const fromBody = typeof body === 'object' && body !== null && 'query' in body ? body.query : undefined;
    const query = typeof fromBody === 'string' ? fromBody : typeof req.query.query === 'string' ? req.query.query : undefined;
    if (query === undefined || documentNesting(query) <= limit) return next();
    res.status(400).json({
      errors: [
        { message: `document: expected at most ${limit} nested brackets, got ${documentNesting(query)}`, extensions: { code: ErrorCode.QUERY_TOO_COMPLEX } },
      ],
    });
  };
}
