// Evidence bundles over HTTP: GET /audit/export streams the same JSON-lines file `arbiter audit
// export` writes (format: src/audit/bundle.ts) to the compliance and admin roles, and records the
// export as an AuditBundleExported event with the key as actor. A bad selection is refused with
// 400 before a byte is sent.
import { BadRequestException, Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PassThrough } from 'node:stream';
import { AsOfError } from '../../audit/as-of.js';
import { AuditService } from '../../audit/point-in-time.module.js';
import { BUNDLE_MEDIA_TYPE } from '../../audit/bundle.js';
import { prepareExport, writeBundle } from '../../audit/export-bundle.js';
import { SQL_CLIENT } from '../../ledger/ledger.module.js';
import type { SqlClient } from '../../shared/sql/sql-client.js';
import { Roles } from '../auth/decorators.js';
import { actorOf, principalOf } from '../auth/principal.js';
import { Logger } from '@nestjs/common';
import { Doc } from './openapi.js';

const PARAMS = ['from', 'to', 'stream', 'correlation', 'report'];

@Controller('audit')
export class AuditController {
  private readonly logger = new Logger('AuditExport');

  constructor(
    private readonly audit: AuditService,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
  ) {}

  @Doc({
    tag: 'audit', summary: 'Download an evidence bundle',
    description:
      'Query parameters (all optional): from, to (ISO-8601 times, [from, to), or global positions, inclusive), stream or correlation (not both), ' +
      'report (daily_transactions, suspicious_activity; comma-separated). Answers one JSON-lines file (README: Audits): events with their hashes, ' +
      'stream anchors, seals, the ledger\'s verification and point-in-time reports; `arbiter audit check FILE` re-verifies it offline. ' +
      'Records AuditBundleExported with the key as actor. 400 names a bad selection (a time in the future, a position past the head, more than 50,000 events …).',
    success: { status: 200, description: 'The bundle', contentType: 'application/x-ndjson' }, errors: [400, 401, 403],
  })
  @Get('export')
  @Roles('compliance')
  async export(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const q = (req.query ?? {}) as Record<string, unknown>;
    const problems: string[] = [];
    for (const k of Object.keys(q)) if (!PARAMS.includes(k)) problems.push(`query parameter "${k.slice(0, 40)}" is not known; use ${PARAMS.join(', ')}`);
    const one = (k: string): string | null => {
      const v = q[k];
      if (v === undefined) return null;
      if (typeof v !== 'string') {
        problems.push(`${k} must be given once`);
        return null;
      }
      return v;
    };
    const from = one('from');
    const to = one('to');
    const stream = one('stream');
    const correlation = one('correlation');
    const report = one('report');
    if (problems.length) throw new BadRequestException({ message: problems.join('; '), problems });
    const principal = (await principalOf(this.sql, req))!;
    let prepared;
    try {
      prepared = await prepareExport(
        this.audit.store,
        {
          from, to, streamId: stream, correlationId: correlation,
          reports: report ? report.split(',').map((r) => r.trim()).filter(Boolean) : [],
          actor: actorOf(principal), via: 'rest',
        },
        Date.now(),
      );
    } catch (err) {
      if (err instanceof AsOfError) throw new BadRequestException({ message: err.message, problems: [err.message] });
      throw err;
    }
    const body = new PassThrough();
    const name = `arbiter-evidence-${prepared.fromPosition}-${prepared.toPosition}.jsonl`;
    void reply
      .header('content-type', `${BUNDLE_MEDIA_TYPE}; charset=utf-8`)
      .header('content-disposition', `attachment; filename="${name}"`)
      .header('cache-control', 'no-store')
      .send(body);
    const write = (chunk: string) =>
      new Promise<void>((resolve, reject) => {
        if (body.destroyed) return reject(new Error('the client went away'));
        if (body.write(chunk)) resolve();
        else body.once('drain', resolve);
      });
    try {
      const written = await writeBundle(this.audit.store, this.audit.pointInTime, prepared, write, Date.now());
      this.logger.log(`bundle ${written.exportId} (${written.events} events, positions ${prepared.fromPosition}-${prepared.toPosition}) exported by ${actorOf(principal)}`);
      body.end();
    } catch (err) {
      // Headers are gone: cut the body short; the missing trailer makes `audit check` refuse it.
      this.logger.error(`export failed half-way: ${(err as Error).message}`);
      body.destroy(err as Error);
    }
  }
}
