// The boundaries between Arbiter's bounded contexts, checked on every `npm test` (and so in CI).
// docs/architecture.md draws the same picture. A context's published surface is its events, its
// commands, its ports (*.port.ts), its published decisions (decisions.ts), its typed errors and
// its settings (*.config.ts); everything else in its folder is its own. A new crossing is a
// decision: add it here, next to its reason.
const DOMAIN = '(market|risk|compliance|signing|execution|notifications)';
const PUBLISHED = '^src/[^/]+/(events|decisions|commands|errors|[a-z-]+[.]port|[a-z-]+[.]config)[.]ts$|^src/[^/]+/commands/';
const ROOT = '^src/(app[.]module|main|event-catalog)[.]ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'foundation-stays-foundation',
      comment: 'ledger, config and shared are used by every context and know none of them.',
      severity: 'error',
      from: { path: '^src/(ledger|config|shared)/' },
      to: { path: `^src/(api|cli|trading|projections|reports|${DOMAIN.slice(1, -1)})/|^projections/|${ROOT}` },
    },
    {
      name: 'domain-to-domain-events-only',
      comment: 'A domain context may fold another one\'s events (risk folds fills), never use its decisions, adapters or state.',
      severity: 'error',
      from: { path: `^src/${DOMAIN}/` },
      to: { path: `^src/${DOMAIN}/`, pathNot: ['^src/$1/', '^src/[^/]+/events[.]ts$'] },
    },
    {
      name: 'trading-through-published-surfaces',
      comment:
        'The saga drives the domain contexts through their ports, published decisions, events and commands. ' +
        'It also imports their Nest modules in trading.module.ts: that is wiring, which Nest requires to be explicit.',
      severity: 'error',
      from: { path: '^src/trading/', pathNot: '^src/trading/trading[.]module[.]ts$' },
      to: { path: `^src/${DOMAIN}/`, pathNot: PUBLISHED },
    },
    {
      name: 'trading-module-imports-modules-only',
      severity: 'error',
      from: { path: '^src/trading/trading[.]module[.]ts$' },
      to: { path: `^src/${DOMAIN}/`, pathNot: [PUBLISHED, '^src/[^/]+/[a-z-]+[.]module[.]ts$'] },
    },
    {
      name: 'audit-through-published-surfaces',
      comment:
        'The audit context reaches other contexts through their published surfaces, with two named crossings. ' +
        '(1) It seals the ledger through the Signer port, opening its own seal key with the signing context\'s factory ' +
        '(signer.factory.ts, from SEAL_* settings) and importing SigningModule only to refuse the trading key. ' +
        '(2) State as of a past position (state-as-of.ts) is folded with the owning context\'s own pure fold, so an ' +
        'auditor sees what the code held then: trading\'s foldSaga (saga.ts) and risk\'s engine fold (engine-state.ts, ' +
        'the event types it reads, limits.ts for the configured limits).',
      severity: 'error',
      from: { path: '^src/audit/' },
      to: {
        path: `^src/(trading|api|cli|${DOMAIN.slice(1, -1)})/`,
        pathNot: [
          PUBLISHED,
          '^src/signing/(signer[.]factory|signing[.]module)[.]ts$',
          '^src/trading/(events|outcomes|saga)[.]ts$',
          '^src/risk/(engine-state|engine-state[.]service|limits)[.]ts$',
        ],
      },
    },
    {
      name: 'nothing-imports-trading',
      comment:
        'Only the composition root wires the saga. Its events and its outcome words (outcomes.ts) are published: the ' +
        'executions read model and GraphQL speak them.',
      severity: 'error',
      from: { path: '^(src|projections)/', pathNot: [`^src/trading/`, '^src/audit/', '^src/api/', ROOT] },
      to: { path: '^src/trading/', pathNot: '^src/trading/(events|outcomes)[.]ts$' },
    },
    {
      name: 'api-sends-trading-commands-only',
      comment:
        'The API reaches trading like any context: its events and outcome words, and its commands (commands.ts): ' +
        'POST /engine/flatten sends FlattenInventory, which starts inventory-sale sagas (decision 0019).',
      severity: 'error',
      from: { path: '^src/api/' },
      to: { path: '^src/trading/', pathNot: '^src/trading/(events|outcomes|commands)[.]ts$' },
    },
    {
      name: 'nothing-imports-the-edges',
      comment: 'api and cli are the edges: no context depends on them. Their events (API keys) are in the catalog (root).',
      severity: 'error',
      from: { path: '^(src|projections)/', pathNot: ['^src/(api|cli)/', ROOT] },
      to: { path: '^src/(api|cli)/' },
    },
    {
      name: 'cli-uses-auth-keys-only',
      comment: 'The CLI issues, lists and revokes API keys: the key table and its events belong to api/auth.',
      severity: 'error',
      from: { path: '^src/cli/' },
      to: { path: '^src/api/', pathNot: '^src/api/auth/(api-keys|events)[.]ts$' },
    },
    {
      name: 'api-sends-commands-and-reads',
      comment:
        'The API sends commands, reads the ledger and the read models. risk/limits.ts is read for the limits in force ' +
        '(their JSON shape is part of the ChangeRiskLimits command).',
      severity: 'error',
      from: { path: '^src/(api|cli)/' },
      to: { path: `^src/${DOMAIN}/`, pathNot: [PUBLISHED, '^src/risk/limits[.]ts$'] },
    },
    {
      name: 'read-models-consume-events',
      comment: '/projections fold any context\'s events (and the saga\'s outcome words); they use nothing else of a context.',
      severity: 'error',
      from: { path: '^projections/' },
      to: { path: '^src/', pathNot: ['^src/(ledger|shared)/', '^src/projections/projection[.]ts$', '^src/[^/]+/events[.]ts$', '^src/trading/outcomes[.]ts$'] },
    },
    {
      name: 'runner-knows-only-the-ledger',
      comment: 'The projection runner reads the log and runs the /projections it is given; it never reaches into a context.',
      severity: 'error',
      from: { path: '^src/(projections|reports)/' },
      to: { path: `^src/(api|cli|trading|${DOMAIN.slice(1, -1)})/` },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^(src|projections)/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
