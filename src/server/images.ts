import { Router, type Response } from 'express';
import type { Principal } from '../auth/principal';
import { ErrorCode } from '../errors/error-code';
import { isGanqlError } from '../errors/ganql-error';
import type { Logger } from '../log/logger';
import type { ImageResult } from '../metrics/metrics';
import type { SamplePng } from '../samples/sample-png.cache';

/** Where GET serves stored samples' PNGs: <IMAGES_PATH>/<sample id>.png. */
export const IMAGES_PATH = '/images';

/** Sample ids are UUIDs; anything not shaped like an id is a 404 without a database lookup. */
const FILE_NAME = /^([A-Za-z0-9-]{1,64})\.png$/;

/** A year, the longest RFC 9111 asks caches to honour; `immutable` tells browsers not to revalidate on reload. */
const FOREVER = 'max-age=31536000, immutable';

/** Image.url of a stored sample: relative, or absolute under `publicUrl` (GANQL_PUBLIC_URL, no trailing slash). */
export function sampleImageUrl(publicUrl: string | undefined): (sampleId: string) => string {
  return (sampleId) => `${publicUrl ?? ''}${IMAGES_PATH}/${encodeURIComponent(sampleId)}.png`;
}

export interface ImagesOptions {
  /** The service behind the route (SampleService.png). */
  png(sampleId: string): Promise<SamplePng & { cached: boolean }>;
  log: Logger;
  onServed?: (result: ImageResult) => void;
}

/**
 * RFC 9110 13.1.2: If-None-Match holds "*" or a list of entity tags, compared weakly (a W/ prefix
 * ignored). Express's req.fresh is not used: it answers 200 whenever the request also says
 * Cache-Control: no-cache, which fetch() adds to every request carrying If-None-Match, though a 304
 * from the origin is a validation too.
 */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const bare = (tag: string): string => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(etag));
}

function fail(res: Response, status: number, code: ErrorCode, message: string): void {
  res
    .status(status)
    .set('Cache-Control', 'no-store')
    .json({ errors: [{ message, extensions: { code } }] });
}

/**
 * GET (and HEAD) <sample id>.png under IMAGES_PATH, mounted after auth and the "sample" scope check:
 * the PNG with a strong ETag (304 for a matching If-None-Match) and cacheable for good, since a
 * sample's bytes never change. `public` for requests without a key, so shared caches may keep what
 * anyone allowed in may fetch; `private` for requests with a key, so a shared cache never hands a
 * keyed response to someone without the key. Unknown ids and other names are 404 NOT_FOUND.
 */
export function imagesRouter(options: ImagesOptions): Router {
  const router = Router();
  router.get('/:file', (req, res, next) => {
    const match = FILE_NAME.exec(req.params.file);
    if (match === null) {
      fail(res, 404, ErrorCode.NOT_FOUND, `expected ${IMAGES_PATH}/<sample id>.png, got ${JSON.stringify(req.originalUrl.split('?')[0])}`);
      return;
    }
    options.png(match[1]).then(
      ({ png, etag, cached }) => {
        options.onServed?.(cached ? 'cached' : 'regenerated');
        const principal = res.locals.principal as Principal;
        res.set({
          'Content-Type': 'image/png',
          ETag: etag,
          'Cache-Control': `${principal.kind === 'key' ? 'private' : 'public'}, ${FOREVER}`,
          'X-Content-Type-Options': 'nosniff',
        });
        if (matchesIfNoneMatch(req.headers['if-none-match'], etag)) res.status(304).end();
        else res.send(png);
      },
      (error: unknown) => {
        if (!isGanqlError(error)) {
          options.onServed?.('failed');
          next(error);
          return;
        }
        options.onServed?.(error.code === ErrorCode.NOT_FOUND ? 'not_found' : 'failed');
        switch (error.code) {
          case ErrorCode.NOT_FOUND:
            return fail(res, 404, error.code, error.message);
          case ErrorCode.OVERLOADED:
          case ErrorCode.UNAVAILABLE:
            res.set('Retry-After', '1');
            return fail(res, 503, error.code, error.message);
          case ErrorCode.TIMEOUT:
            return fail(res, 504, error.code, error.message);
          default:
            options.log.error('image not served', { code: error.code, error: error.message });
            return fail(res, 500, ErrorCode.INTERNAL_SERVER_ERROR, 'internal server error');
        }
      },
    );
  });
  router.use((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.set('Allow', 'GET, HEAD');
      fail(res, 405, ErrorCode.BAD_REQUEST, `expected GET ${IMAGES_PATH}/<sample id>.png, got ${req.method}`);
      return;
    }
    fail(res, 404, ErrorCode.NOT_FOUND, `expected ${IMAGES_PATH}/<sample id>.png, got ${JSON.stringify(req.originalUrl.split('?')[0])}`);
  });
  return router;
}
