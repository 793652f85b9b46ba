// Serves the operator console (built by `npm run build` into dist/console) at /console. The
// files hold no data, so the routes are public; every call the console makes presents the key
// its user logs in with. Only files under the console folder are served (no path escapes it);
// unknown paths get index.html so a reload of any console address works.
import { Controller, Get, Header, Inject, NotFoundException, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARBITER_CONFIG } from '../../config/config.module.js';
import type { ArbiterConfig } from '../../config/config.js';
import { Public } from '../auth/decorators.js';
import { Undocumented } from './openapi.js';

/** Why /console is not in the OpenAPI document: it serves files, not an API. */
const NOT_API = 'the operator console: static files (the SPA and its assets), not an API';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

/** Where the built console is: ARBITER_CONSOLE_DIR, else dist/console beside the code (built or from source). */
export function consoleDir(override: string | null): string | null {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const candidates = override ? [resolve(override)] : [resolve(here, '../../../console'), resolve(here, '../../../dist/console')];
  return candidates.find((d) => existsSync(join(d, 'index.html'))) ?? null;
}

@Controller('console')
@Public()
export class ConsoleController {
  private readonly dir: string | null;

  constructor(@Inject(ARBITER_CONFIG) config: ArbiterConfig) {
    this.dir = consoleDir(config.consoleDir);
  }

  @Undocumented(NOT_API)
  @Get()
  root(@Res() reply: FastifyReply) {
    return reply.redirect('/console/', 302);
  }

  // Fastify's wildcard (find-my-way): the rest of the path is params['*'].
  @Undocumented(NOT_API)
  @Get('*')
  @Header('x-content-type-options', 'nosniff')
  file(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const path = (req.params as Record<string, string | undefined>)['*'] ?? '';
    if (!this.dir) throw new NotFoundException('the console is not built: run `npm run build` (it writes dist/console)');
    const rel = normalize(path.replace(/^\/+/, ''));
    let file = resolve(this.dir, rel);
    if (file !== this.dir && !file.startsWith(this.dir + sep)) throw new NotFoundException('no such file');
    const asset = rel.startsWith('assets' + sep) || rel.startsWith('assets/');
    if (!existsSync(file) || !statSync(file).isFile()) {
      if (asset) throw new NotFoundException(`no console asset ${rel.slice(0, 100)}`);
      file = join(this.dir, 'index.html');
    }
    const type = TYPES[extname(file)] ?? 'application/octet-stream';
    // Built assets carry a content hash in their name: cache them; never cache index.html.
    reply.header('cache-control', file.endsWith('index.html') ? 'no-store' : 'public, max-age=31536000, immutable');
    return reply.type(type).send(readFileSync(file));
  }
}
