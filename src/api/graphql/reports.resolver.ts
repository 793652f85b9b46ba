// GraphQL access to the regulatory reports (src/reports/export.ts): the rows of a report for a
// time range [from, to), and the same report exported as JSON or RFC 4180 CSV text.
import { Inject } from '@nestjs/common';
import { Args, Field, GraphQLISODateTime, Int, ObjectType, Query, Resolver, registerEnumType } from '@nestjs/graphql';
import GraphQLJSON from './json.scalar.js';
import { API_CONFIG, GRAPHQL_SQL } from '../api.tokens.js';
import type { ApiConfig } from '../api.config.js';
import { EVENT_STORE, type EventStore } from '../../ledger/event-store.port.js';
import type { SqlClient, SqlExecutor } from '../../shared/sql/sql-client.js';
import { AuditService } from '../../audit/point-in-time.module.js';
import { reports as reportsProjection } from '../../../projections/reports.js';
import { asBadInput, asOfArgs, pointInTimeWaitMs } from './audit.resolver.js';
import { ReportInputError, exportReport, loadReport, type ReportKind as ExportKind, type ReportRow } from '../../reports/export.js';
import { badInput } from './pagination.js';
import { ComplianceFlagType } from './read-models.resolver.js';

export enum ReportKind {
  DAILY_TRANSACTIONS = 'DAILY_TRANSACTIONS',
  SUSPICIOUS_ACTIVITY = 'SUSPICIOUS_ACTIVITY',
}
export enum ReportFormat {
  JSON = 'JSON',
  CSV = 'CSV',
}
registerEnumType(ReportKind, { name: 'ReportKind' });
registerEnumType(ReportFormat, { name: 'ReportFormat' });

const KIND: Record<ReportKind, ExportKind> = {
  [ReportKind.DAILY_TRANSACTIONS]: 'daily_transactions',
  [ReportKind.SUSPICIOUS_ACTIVITY]: 'suspicious_activity',
};

@ObjectType('DailyTransactionRow', { description: 'One confirmed fill. Amounts are decimal strings; *BaseUnits are integers' })
export class DailyTransactionRowType {
  @Field(() => GraphQLISODateTime) executedAt!: Date;
  @Field() tradeDate!: string;
  @Field() instrument!: string;
  @Field() mintA!: string;
  @Field() mintB!: string;
  @Field({ description: 'round_trip (input mint = output mint) or swap' }) side!: string;
  @Field(() => String, { nullable: true }) quantity!: string | null;
  @Field() quantityBaseUnits!: string;
  @Field() quantityMint!: string;
  @Field(() => String, { nullable: true }) proceeds!: string | null;
  @Field() proceedsBaseUnits!: string;
  @Field() proceedsMint!: string;
  @Field(() => String, { nullable: true, description: 'proceeds ÷ quantity, 12 decimals' }) price!: string | null;
  @Field() priceUnit!: string;
  @Field(() => String, { nullable: true }) realisedPnl!: string | null;
  @Field(() => String, { nullable: true }) realisedPnlBaseUnits!: string | null;
  @Field() feeLamports!: string;
  @Field() feeSol!: string;
  @Field(() => String, { nullable: true }) venue!: string | null;
  @Field() signature!: string;
  @Field() slot!: string;
  @Field() opportunityId!: string;
}

@ObjectType('SuspiciousActivityRow', { description: 'A compliance flag as a suspicious-activity candidate' })
export class SuspiciousActivityRowType extends ComplianceFlagType {
  @Field(() => String, { nullable: true, description: 'The opportunity\'s pair, e.g. SOL/USDC' }) instrument!: string | null;
}

@ObjectType('Report')
export class ReportType {
  @Field(() => ReportKind) kind!: ReportKind;
  @Field(() => ReportFormat) format!: ReportFormat;
  @Field(() => GraphQLISODateTime) from!: Date;
  @Field(() => GraphQLISODateTime) to!: Date;
  @Field(() => Int) rowCount!: number;
  @Field(() => [String], { description: 'Column names, in export order' }) columns!: string[];
  @Field(() => [DailyTransactionRowType], { nullable: true, description: 'Set when kind is DAILY_TRANSACTIONS' })
  dailyTransactions!: DailyTransactionRowType[] | null;
  @Field(() => [SuspiciousActivityRowType], { nullable: true, description: 'Set when kind is SUSPICIOUS_ACTIVITY' })
  suspiciousActivity!: SuspiciousActivityRowType[] | null;
  @Field({ description: 'The report exported in `format` (JSON text, or RFC 4180 CSV with CRLF line ends)' }) content!: string;
  @Field() contentType!: string;
  @Field(() => String, { nullable: true, description: 'Set when asked asOf: the global position the report reflects (null: the live read model)' }) asOfPosition!: string | null;
}

const camel = (s: string) => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
const TIME_FIELDS = new Set(['executedAt', 'raisedAt', 'reviewedAt', 'closedAt']);

function toGqlRow(r: ReportRow): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) {
    const key = camel(k);
    out[key] = v === null ? null : TIME_FIELDS.has(key) ? new Date(v) : key === 'evidence' ? JSON.parse(v) : v;
  }
  return out;
}

@Resolver()
export class ReportsResolver {
  constructor(
    @Inject(GRAPHQL_SQL) private readonly sql: SqlClient,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly audit: AuditService,
    @Inject(API_CONFIG) private readonly api: ApiConfig,
  ) {}

  @Query(() => ReportType, { description: 'A regulatory report for [from, to), as rows and as exported text' })
  async report(
    @Args('kind', { type: () => ReportKind }) kind: ReportKind,
    @Args('from', { type: () => GraphQLISODateTime }) from: Date,
    @Args('to', { type: () => GraphQLISODateTime }) to: Date,
    @Args('format', { type: () => ReportFormat, nullable: true, defaultValue: ReportFormat.JSON }) format: ReportFormat = ReportFormat.JSON,
    @Args('asOf', { type: () => GraphQLISODateTime, nullable: true, description: 'The report as the read model had it at this time (built into a temporary generation)' }) asOf?: Date,
    @Args('asOfPosition', { type: () => String, nullable: true, description: 'The report as the read model had it at this global position' }) asOfPosition?: string,
  ): Promise<ReportType> {
    let report;
    const cut = await asOfArgs(this.store, asOf, asOfPosition);
    try {
      const load = (db: SqlExecutor) => loadReport(db, KIND[kind], from, to);
      report = cut ? await asBadInput(() => this.audit.pointInTime.read([reportsProjection], cut.position, load, { waitMs: pointInTimeWaitMs(this.api) })) : await load(this.sql);
    } catch (err) {
      if (err instanceof ReportInputError) throw badInput(err.message);
      throw err;
    }
    const exported = exportReport(report, format === ReportFormat.CSV ? 'csv' : 'json');
    const rows = report.rows.map(toGqlRow);
    return {
      kind,
      format,
      from: new Date(report.from),
      to: new Date(report.to),
      rowCount: rows.length,
      columns: report.columns,
      dailyTransactions: kind === ReportKind.DAILY_TRANSACTIONS ? (rows as unknown as DailyTransactionRowType[]) : null,
      suspiciousActivity: kind === ReportKind.SUSPICIOUS_ACTIVITY ? (rows as unknown as SuspiciousActivityRowType[]) : null,
      content: exported.content,
      contentType: exported.contentType,
      asOfPosition: cut ? cut.position.toString() : null,
    };
  }
}
