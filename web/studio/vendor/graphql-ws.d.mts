// Types of graphql-ws's browser client, which src/server/studio.ts serves from node_modules as
// /studio/vendor/graphql-ws.mjs (this folder holds no copy of it).
export { createClient } from 'graphql-ws';
export type { Client, ClientOptions, Sink } from 'graphql-ws';
