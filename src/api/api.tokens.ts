// Injection token of the API's edge settings (api.config.ts), provided by the API modules.
export const API_CONFIG = Symbol('API_CONFIG');

/**
 * The SqlClient GraphQL's read resolvers query through. On PostgreSQL its own small pool whose
 * statement_timeout is the GraphQL time budget, so the server cancels a read the budget gave up
 * on; on the embedded PGlite (one connection, no statement timers) the app's own client.
 */
export const GRAPHQL_SQL = Symbol('GRAPHQL_SQL');

/** Where GraphQL is served (mercurius, not a controller: the OpenAPI document names it from here). */
export const GRAPHQL_PATH = '/graphql';
