// GraphiQL served by the app itself: the page, React and GraphiQL come from this process (the
// npm packages in node_modules), never from a public CDN, and the page's Content-Security-Policy
// allows scripts and styles from this origin only. The page holds no data; queries go to
// /graphql with the API key the user types into GraphiQL's headers editor.
import { Controller, Get, Header, NotFoundException, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Public } from '../auth/decorators.js';
import { Undocumented } from '../http/openapi.js';

const require = createRequire(import.meta.url);
const pkgDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

/** Asset name → file on disk and content type. */
const ASSETS: Record<string, { file: () => string; type: string }> = {
  'react.production.min.js': { file: () => join(pkgDir('react'), 'umd/react.production.min.js'), type: 'text/javascript; charset=utf-8' },
  'react-dom.production.min.js': { file: () => join(pkgDir('react-dom'), 'umd/react-dom.production.min.js'), type: 'text/javascript; charset=utf-8' },
  'graphiql.min.js': { file: () => join(pkgDir('graphiql'), 'graphiql.min.js'), type: 'text/javascript; charset=utf-8' },
  'graphiql.min.css': { file: () => join(pkgDir('graphiql'), 'graphiql.min.css'), type: 'text/css; charset=utf-8' },
};

const INIT_JS = `// Starts GraphiQL on /graphql; the API key goes in the headers editor.
const fetcher = GraphiQL.createFetcher({ url: new URL('/graphql', location.href).toString() });
const root = ReactDOM.createRoot(document.getElementById('graphiql'));
root.render(React.createElement(GraphiQL, {
  fetcher,
  defaultEditorToolsVisibility: 'headers',
  defaultHeaders: JSON.stringify({ authorization: 'Bearer arb_…' }, null, 2),
}));
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Arbiter GraphiQL</title>
  <style>body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }</style>
  <link rel="stylesheet" href="/graphiql/assets/graphiql.min.css">
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="/graphiql/assets/react.production.min.js"></script>
  <script src="/graphiql/assets/react-dom.production.min.js"></script>
  <script src="/graphiql/assets/graphiql.min.js"></script>
  <script src="/graphiql/assets/init.js"></script>
</body>
</html>
`;

export const GRAPHIQL_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/** Why /graphiql is not in the OpenAPI document: GraphQL is documented by its own schema (POST /graphql is). */
const NOT_API = 'the GraphiQL page and its assets: a browser tool for POST /graphql, which the document lists';

const cache = new Map<string, Buffer>();

@Controller('graphiql')
@Public()
export class GraphiqlController {
  @Undocumented(NOT_API)
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', GRAPHIQL_CSP)
  page(): string {
    return PAGE;
  }

  @Undocumented(NOT_API)
  @Get('assets/:name')
  asset(@Param('name') name: string, @Res() reply: FastifyReply): void {
    if (name === 'init.js') {
      reply.header('content-type', 'text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(INIT_JS);
      return;
    }
    const a = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!a) throw new NotFoundException(`no GraphiQL asset named "${name.slice(0, 80)}"`);
    let body = cache.get(name);
    if (!body) {
      body = readFileSync(a.file());
      cache.set(name, body);
    }
    reply.header('content-type', a.type).header('cache-control', 'public, max-age=86400').send(body);
  }
}
