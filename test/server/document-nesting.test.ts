import { describe, expect, it } from 'vitest';
import { documentNesting } from '../../src/server/document-nesting';
import { startTestServer } from '../helpers/server';

describe('documentNesting', () => {
  it('counts bracket nesting, skipping strings, block strings and comments', () => {
    expect(documentNesting('{ models { id } }')).toBe(2);
    expect(documentNesting('{ samples(latents: [[0.1]]) { id } }')).toBe(4);
    expect(documentNesting('{ a(s: "{{{{ \\" [[[") # ((((\n b }')).toBe(2);
    expect(documentNesting('{ a(s: """ {{{{{ """) }')).toBe(2);
    expect(documentNesting('}}}{')).toBe(1);
  });
});

describe('a document nested past the parser', () => {
  it('is refused with QUERY_TOO_COMPLEX before parsing, and the server keeps serving', async () => {
    const server = await startTestServer();
    try {
      const deep = `${'{'.repeat(20_000)}${'}'.repeat(20_000)}`;
      const res = await server.http.post('/graphql').set('content-type', 'application/json').send({ query: deep });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ message: 'document: expected at most 256 nested brackets, got 20000', extensions: { code: 'QUERY_TOO_COMPLEX' } }]);
      const get = await server.http
        .get('/graphql')
        .query({ query: `{${'a('.repeat(300)}` })
        .set('apollo-require-preflight', 'true');
      expect(get.status).toBe(400);
      expect(get.body.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
      const ok = await server.gql('{ models { id } }');
      expect(ok.errors).toBeUndefined();
    } finally {
      await server.stop();
    }
  });
});
