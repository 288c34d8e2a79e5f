import type http from 'node:http';
import { GraphQLError, parse, specifiedRules, validate, type GraphQLFormattedError, type GraphQLSchema, type ValidationRule } from 'graphql';
import type { useServer as UseServer } from 'graphql-ws/dist/use/ws';
import { WebSocketServer } from 'ws';
import type { Principal } from '../auth/principal';
import { ErrorCode } from '../errors/error-code';
import { GanqlError } from '../errors/ganql-error';
import { enterRequest, newRequestId, requestIdFrom } from '../log/request-scope';
import { documentNesting, MAX_DOCUMENT_NESTING } from './document-nesting';
import { lonelySurrogatePath } from './well-formed-text';

// graphql-ws ships its ws adapter only as the subpath export "graphql-ws/use/ws", which this project's
// moduleResolution ("node") cannot see; the types come from the file itself, the code through exports.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { useServer } = require('graphql-ws/use/ws') as { useServer: typeof UseServer };

export interface SubscriptionServerOptions {
  httpServer: http.Server;
  /** Where clients connect: the same path as the HTTP endpoint. */
  path: string;
  schema: GraphQLSchema;
  /** Rules on top of graphql's own (the query shape limits, as over HTTP). */
  validationRules: readonly ValidationRule[];
  /**
   * Who the socket belongs to, decided once at connection_init from its payload ({ authorization: "Bearer gq_..." })
   * or the upgrade request's headers; a rejection (bad key) closes the socket with 4403 Forbidden.
   */
  authenticate: (request: http.IncomingMessage, connectionParams: Readonly<Record<string, unknown>> | undefined) => Promise<Principal>;
  /** The context of one operation, from the socket's upgrade request, its connection_init payload and its principal. */
  context: (request: http.IncomingMessage, connectionParams: Readonly<Record<string, unknown>> | undefined, principal: Principal) => Promise<object> | object;
  /** Told about a connection refused by authenticate (to log it). */
  onRefused?: (error: unknown) => void;
  /** The HTTP server's error formatter, so codes and masking are the same over both transports. */
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
}

export interface SubscriptionServer {
  /** Closes every socket (1001 Going away) and stops accepting new ones. */
  close(): Promise<void>;
}

/** `error` with extensions.code set to `code` unless it has one. */
function withCode(error: GraphQLError, code: ErrorCode): GraphQLError {
  if (error.extensions?.code !== undefined) return error;
  const { nodes, source, positions, path, originalError } = error;
  return new GraphQLError(error.message, { nodes, source, positions, path, originalError, extensions: { ...error.extensions, code } });
}

function formatted(errors: readonly GraphQLError[], format: SubscriptionServerOptions['formatError']): GraphQLFormattedError[] {
  return errors.map((error) => format(error.toJSON(), error));
}

/**
 * GraphQL over WebSocket (the graphql-transport-ws protocol of graphql-ws) on the HTTP server's
 * port and path, for subscriptions (trainingProgress); queries and mutations work over it too.
 */
export function createSubscriptionServer(options: SubscriptionServerOptions): SubscriptionServer {
  const wsServer = new WebSocketServer({ server: options.httpServer, path: options.path });
  const rules = [...specifiedRules, ...options.validationRules];
  const principals = new WeakMap<object, Principal>();
  // Log scopes: the connection has the id of its upgrade request (returned in X-Request-Id); each operation its own.
  const connectionIds = new WeakMap<http.IncomingMessage, string>();
  wsServer.on('headers', (headers, request) => {
    const id = requestIdFrom(request.headers['x-request-id']);
    connectionIds.set(request, id);
    headers.push(`X-Request-Id: ${id}`);
  });
  const connectionIdOf = (request: http.IncomingMessage): string => connectionIds.get(request) ?? newRequestId();
  // Registered before useServer's, so each message starts in its connection's scope; onSubscribe narrows it to the operation.
  wsServer.on('connection', (socket, request) => {
    socket.on('message', () => enterRequest({ requestId: connectionIdOf(request) }));
  });
  const server = useServer(
    {
      schema: options.schema,
      // Internal details never go to clients, over this transport either (socket close reasons included).
      isProd: true,
      // Coded as Apollo codes them over HTTP; uncoded, formatError would mask them as internal.
      validate: (schema, document) => validate(schema, document, rules).map((error) => withCode(error, ErrorCode.GRAPHQL_VALIDATION_FAILED)),
      onConnect: async (ctx) => {
        try {
          principals.set(ctx.extra.socket, await options.authenticate(ctx.extra.request, ctx.connectionParams));
          return true;
        } catch (error) {
          options.onRefused?.(error);
          return false;
        }
      },
      context: (ctx) => {
        const principal = principals.get(ctx.extra.socket);
        // onConnect ran first and either stored a principal or closed the socket.
        if (principal === undefined) throw new Error('subscription context without an authenticated connection');
        return options.context(ctx.extra.request, ctx.connectionParams, principal);
      },
      // graphql-ws parses outside its error handling: a syntax error would close the whole socket (4500)
      // rather than fail the one operation as over HTTP. Parsed here first, it fails alone, coded.
      onSubscribe: (ctx, _id, payload) => {
        enterRequest({ requestId: newRequestId(), connectionId: connectionIdOf(ctx.extra.request) });
        const malformed = lonelySurrogatePath(payload.variables ?? {}, 'variables');
        if (malformed !== undefined) {
          return [
            new GraphQLError(`${malformed}: expected well-formed Unicode text, got a lone UTF-16 surrogate`, {
              extensions: { code: ErrorCode.BAD_USER_INPUT },
            }),
          ];
        }
        // The same bound as over HTTP (rejectDeepDocuments), before the recursive parser can overflow.
        const nesting = documentNesting(payload.query);
        if (nesting > MAX_DOCUMENT_NESTING) {
          const refusal = new GanqlError(ErrorCode.QUERY_TOO_COMPLEX, `document: expected at most ${MAX_DOCUMENT_NESTING} nested brackets, got ${nesting}`);
          return [new GraphQLError(refusal.message, { originalError: refusal, extensions: { code: refusal.code } })];
        }
        try {
          parse(payload.query);
          return undefined;
        } catch (error) {
          if (!(error instanceof GraphQLError)) throw error;
          return [withCode(error, ErrorCode.GRAPHQL_PARSE_FAILED)];
        }
      },
      onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? { ...result, errors: formatted(result.errors, options.formatError) } : undefined),
      onError: (_ctx, _id, _payload, errors) => formatted(errors, options.formatError),
    },
    wsServer,
  );
  return {
    close: async () => {
      await server.dispose();
    },
  };
}
