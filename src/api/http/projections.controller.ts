// Rebuilding a read model from the API: POST records who asked and why and starts the rebuild in
// the background (202); GET follows its progress and shows the final digest.
import { Controller, Get, Header, HttpCode, NotFoundException, Param, Post, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { allProjections, findProjection } from '../../../projections/index.js';
import type { CommandReceipt } from '../../ledger/decide-and-append.js';
import { RebuildProjection, RebuildTracker, type RebuildStatus } from '../../projections/rebuild-projection.js';
import { Roles } from '../auth/decorators.js';
import { ReasonBody, readBody } from './body-schema.js';
import { IdempotencyService } from './idempotency.js';
import { COMMAND_ERRORS, Doc } from './openapi.js';

const NAME_PARAM = { name: 'name', description: 'Projection name', schema: { type: 'string' } };

@Controller('projections')
export class ProjectionsController {
  constructor(
    private readonly bus: CommandBus,
    private readonly idempotency: IdempotencyService,
    private readonly tracker: RebuildTracker,
  ) {}

  @Doc({
    tag: 'projections', summary: 'Rebuild a read model',
    description: 'Records ProjectionRebuildRequested and rebuilds the projection in the background into a new generation while the live one keeps serving. 409 when a rebuild of it is already running. Follow it at the Location.',
    params: [NAME_PARAM],
    body: ReasonBody, success: { status: 202, description: 'Accepted: the recorded request and where to follow it', schema: 'RebuildAccepted' }, errors: [...COMMAND_ERRORS, 404], idempotent: true,
  })
  @Post(':name/rebuild')
  @Roles('admin')
  @HttpCode(202)
  @Header('cache-control', 'no-store')
  async rebuild(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Param('name') name: string,
  ): Promise<CommandReceipt & { statusUrl: string }> {
    this.known(name);
    const body = readBody(req, ReasonBody);
    const statusUrl = `/projections/${name}/rebuild`;
    reply.header('location', statusUrl);
    const receipt = await this.idempotency.run(
      req,
      { route: 'POST /projections/:name/rebuild', params: { name }, body, successStatus: 202 },
      async (ctx) => ({ ...(await this.bus.execute(new RebuildProjection(ctx, name, body.reason))), statusUrl }),
    );
    return receipt;
  }

  @Doc({
    tag: 'projections', summary: 'Progress of the latest rebuild',
    description: 'state idle|running|completed|failed; progress (positions scanned, events applied, rate, ETA) and, when completed, the digest of the new generation.',
    params: [NAME_PARAM],
    success: { status: 200, description: 'Rebuild status', schema: 'RebuildStatus' }, errors: [401, 404],
  })
  @Get(':name/rebuild')
  rebuildStatus(@Param('name') name: string): RebuildStatus {
    this.known(name);
    return this.tracker.status(name);
  }

  private known(name: string): void {
    if (!findProjection(name)) {
      throw new NotFoundException(`there is no projection "${name.slice(0, 100)}"; projections: ${allProjections.map((p) => p.name).join(', ')}`);
    }
  }
}
