// REST command endpoints of the control plane: pause/resume the engine, replace the risk limits,
// review or close a compliance flag. Each checks its body, runs under the caller's
// Idempotency-Key, and answers with what was recorded (event id, stream, revision, position).
import { BadRequestException, Controller, HttpCode, Param, Post, Put, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyRequest } from 'fastify';
import { CloseComplianceFlag, ReviewComplianceFlag } from '../../compliance/commands/flag-commands.js';
import type { CloseOutcome } from '../../compliance/events.js';
import { UUID_RE } from '../../ledger/schema.js';
import type { CommandReceipt } from '../../ledger/decide-and-append.js';
import { ChangeRiskLimits, PauseEngine, ReduceEngine, ResumeEngine, validateRiskLimits } from '../../risk/commands/engine-commands.js';
import { FlattenInventory, type FlattenResult } from '../../trading/commands.js';

import { Roles } from '../auth/decorators.js';
import { FlagActionBody, InvalidBodyException, ReasonBody, readBody, RiskLimitsBody, SanctionsListBody } from './body-schema.js';
import { ActivateSanctionsList, sanctionsEntriesProblem, type SanctionsActivation } from '../../compliance/commands/sanctions-commands.js';
import { IdempotencyService } from './idempotency.js';
import { COMMAND_ERRORS, Doc } from './openapi.js';

@Controller()
export class CommandsController {
  constructor(
    private readonly bus: CommandBus,
    private readonly idempotency: IdempotencyService,
  ) {}

  @Doc({
    tag: 'engine', summary: 'Pause trading',
    description: 'Records EnginePaused (cause operator) in the `engine` stream. 409 when already paused.',
    body: ReasonBody, success: { status: 200, description: 'The recorded event', schema: 'CommandReceipt' }, errors: COMMAND_ERRORS, idempotent: true,
  })
  @Post('engine/pause')
  @Roles('operator')
  @HttpCode(200)
  pause(@Req() req: FastifyRequest): Promise<CommandReceipt> {
    const body = readBody(req, ReasonBody);
    return this.idempotency.run(req, { route: 'POST /engine/pause', body, successStatus: 200 }, (ctx) =>
      this.bus.execute(new PauseEngine(ctx, body.reason)),
    );
  }

  @Doc({
    tag: 'engine', summary: 'Resume trading',
    description: 'Records EngineResumed in the `engine` stream (also after a circuit-breaker pause). 409 when already active.',
    body: ReasonBody, success: { status: 200, description: 'The recorded event', schema: 'CommandReceipt' }, errors: COMMAND_ERRORS, idempotent: true,
  })
  @Post('engine/resume')
  @Roles('operator')
  @HttpCode(200)
  resume(@Req() req: FastifyRequest): Promise<CommandReceipt> {
    const body = readBody(req, ReasonBody);
    return this.idempotency.run(req, { route: 'POST /engine/resume', body, successStatus: 200 }, (ctx) =>
      this.bus.execute(new ResumeEngine(ctx, body.reason)),
    );
  }

  @Doc({
    tag: 'engine', summary: 'Wind down: only exposure-reducing trades',
    description: 'Records EngineReducing in the `engine` stream: risk then approves only inventory sales (single-leg swaps of held intermediate tokens back to their base token) and refuses every arbitrage round trip; the engine starts those sales by itself every ENGINE_REDUCING_SALE_EVERY_MS. Resume returns to ACTIVE. 409 when already reducing.',
    body: ReasonBody, success: { status: 200, description: 'The recorded event', schema: 'CommandReceipt' }, errors: COMMAND_ERRORS, idempotent: true,
  })
  @Post('engine/reduce')
  @Roles('operator')
  @HttpCode(200)
  reduce(@Req() req: FastifyRequest): Promise<CommandReceipt> {
    const body = readBody(req, ReasonBody);
    return this.idempotency.run(req, { route: 'POST /engine/reduce', body, successStatus: 200 }, (ctx) =>
      this.bus.execute(new ReduceEngine(ctx, body.reason)),
    );
  }

  @Doc({
    tag: 'engine', summary: 'Sell the inventory back to its base tokens',
    description:
      'Records FlattenRequested in `flatten-<requestId>` and starts one inventory sale per held mint: a single-leg Jupiter swap of the intermediate tokens round trips left behind (inventory) back to the base token, through risk, compliance, signing and the venue like any saga. Allowed when ACTIVE or REDUCING; 409 when PAUSED. With nothing to sell it answers 200 with no sales and records nothing. A retry with the same Idempotency-Key starts the same sales, never new ones.',
    body: ReasonBody, success: { status: 200, description: 'The request event and the sales started', schema: 'FlattenResult' }, errors: COMMAND_ERRORS, idempotent: true,
  })
  @Post('engine/flatten')
  @Roles('operator')
  @HttpCode(200)
  flatten(@Req() req: FastifyRequest): Promise<FlattenResult> {
    const body = readBody(req, ReasonBody);
    return this.idempotency.run(req, { route: 'POST /engine/flatten', body, successStatus: 200 }, (ctx) =>
      this.bus.execute(new FlattenInventory(ctx, body.reason, 'flatten')),
    );
  }

  @Doc({
    tag: 'risk', summary: 'Replace the risk limits',
    description: 'Records RiskLimitsChanged in the `engine` stream. Every limit is required (PUT replaces the set). Amounts are integers or strings of digits, never fractions.',
    body: RiskLimitsBody, success: { status: 200, description: 'The recorded event', schema: 'CommandReceipt' }, errors: COMMAND_ERRORS, idempotent: true,
  })
  @Put('risk/limits')
  @Roles('risk')
  @HttpCode(200)
  changeLimits(@Req() req: FastifyRequest): Promise<CommandReceipt> {
    const body = readBody(req, RiskLimitsBody);
    // Ranges and cross-field rules, checked before anything is claimed or written.
    const v = validateRiskLimits(body.limits);
    if (!v.ok) throw new InvalidBodyException(v.problems.map((p) => `limits.${p}`));
    return this.idempotency.run(req, { route: 'PUT /risk/limits', body, successStatus: 200 }, (ctx) =>
      this.bus.execute(new ChangeRiskLimits(ctx, body.reason, body.limits)),
    );
  }

  @Doc({
    tag: 'compliance', summary: 'Replace the sanctions list in force',
    description: 'Records SanctionsListActivated in the `compliance-sanctions-list` stream, unless the list in force has the same content (changed: false, nothing recorded). Every node screens against the latest one.',
    body: SanctionsListBody, success: { status: 200, description: 'Whether the list changed, its content hash and size, and the recorded event', schema: 'SanctionsListActivation' }, errors: COMMAND_ERRORS, idempotent: true,
  })
  @Put('compliance/sanctions-list')
  @Roles('compliance')
  @HttpCode(200)
  async putSanctionsList(@Req() req: FastifyRequest): Promise<{ changed: boolean; contentHash: string; size: number; event: CommandReceipt | null }> {
    const body = readBody(req, SanctionsListBody);
    const problem = sanctionsEntriesProblem(body.entries);
    if (problem) throw new InvalidBodyException([`entries: ${problem}`]);
    return this.idempotency.run(req, { route: 'PUT /compliance/sanctions-list', body, successStatus: 200 }, async (ctx) => {
      const r: SanctionsActivation = await this.bus.execute(new ActivateSanctionsList(ctx, `api:${ctx.actor}`, body.entries));
      return { changed: r.changed, contentHash: r.contentHash, size: r.size, event: r.event };
    });
  }

  @Doc({
    tag: 'compliance', summary: 'Review or close a compliance flag',
    description: "action 'review' (default): open → reviewed, records ComplianceFlagReviewed. action 'close': reviewed → closed, records ComplianceFlagClosed (optional outcome dismissed|reported). A flag is never closed unreviewed (409). 404 when the flag does not exist.",
    params: [{ name: 'id', description: 'Flag id (UUID)', schema: { type: 'string', pattern: '^[0-9a-fA-F-]{36}$' } }],
    body: FlagActionBody, success: { status: 200, description: 'The recorded event', schema: 'CommandReceipt' }, errors: [...COMMAND_ERRORS, 404], idempotent: true,
  })
  @Post('compliance/flags/:id/review')
  @Roles('compliance')
  @HttpCode(200)
  reviewFlag(@Req() req: FastifyRequest, @Param('id') id: string): Promise<CommandReceipt> {
    const flagId = id.toLowerCase();
    if (!UUID_RE.test(flagId)) throw new BadRequestException(`flag id "${id.slice(0, 100)}" is not a UUID`);
    const body = readBody(req, FlagActionBody);
    const action = body.action ?? 'review';
    if (action === 'review' && body.outcome !== undefined) {
      throw new InvalidBodyException(["outcome is only allowed with action 'close'"]);
    }
    return this.idempotency.run(req, { route: 'POST /compliance/flags/:id/review', params: { id: flagId }, body, successStatus: 200 }, (ctx) =>
      this.bus.execute(
        action === 'close' ? new CloseComplianceFlag(ctx, flagId, body.note, body.outcome) : new ReviewComplianceFlag(ctx, flagId, body.note),
      ),
    );
  }
}
