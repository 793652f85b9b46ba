// The alert rules and their deployment files, checked with the tools Prometheus and
// Alertmanager ship: `promtool check rules`, `promtool test rules` (input series → expected
// alerts, docs/deploy/alerts.test.yml), `promtool check config` on prometheus.yml and
// `amtool check-config` on alertmanager.yml. And the rules only use series the app exports (or
// that are named here as coming from elsewhere), so a renamed metric cannot silently mute one.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../../src/shared/metrics/metrics.js';

const DEPLOY = new URL('../../../docs/deploy/', import.meta.url).pathname;

function tool(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { cwd: DEPLOY, encoding: 'utf8' });
  if (r.error) throw new Error(`${cmd} is not installed (Debian packages prometheus and prometheus-alertmanager; .ci/run installs them): ${r.error.message}`);
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Series the rules use that the app does not export itself. */
const FROM_ELSEWHERE: Record<string, string> = {
  up: 'Prometheus, per scrape target',
  process_start_time_seconds: "prom-client's default process metrics",
  arbiter_engine_leader: 'the high-availability engine lease (not in this build: ArbiterLeaderMissing stays silent without it)',
};

describe('alert rules', () => {
  it('pass promtool check rules', () => {
    const r = tool('promtool', ['check', 'rules', 'alerts.yml']);
    expect(r.out).toMatch(/SUCCESS: 10 rules found/);
    expect(r.status).toBe(0);
  });

  it('pass their unit tests (promtool test rules)', () => {
    const r = tool('promtool', ['test', 'rules', 'alerts.test.yml']);
    expect(r.out).toMatch(/SUCCESS/);
    expect(r.out).not.toMatch(/FAILED/);
    expect(r.status).toBe(0);
  });

  it('have a runbook line and a severity on every rule, and a unit test for every alert', () => {
    const rules = readFileSync(`${DEPLOY}alerts.yml`, 'utf8');
    const tests = readFileSync(`${DEPLOY}alerts.test.yml`, 'utf8');
    const alerts = [...rules.matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    expect(alerts.length).toBe(10);
    expect([...rules.matchAll(/runbook: /g)].length).toBe(alerts.length);
    expect([...rules.matchAll(/severity: (warning|critical)/g)].length).toBe(alerts.length);
    for (const a of alerts) expect(tests, `alerts.test.yml has no case for ${a}`).toMatch(new RegExp(`alertname: ${a}\\n\\s+exp_alerts:\\n\\s+- exp_labels`));
  });

  it('use only series the app exports, or ones named as coming from elsewhere', async () => {
    const exported = new Set((await new Metrics().registry.getMetricsAsJSON()).map((m) => m.name));
    const rules = readFileSync(`${DEPLOY}alerts.yml`, 'utf8');
    const exprs = [...rules.matchAll(/expr: (\|\n(?:\s{10}.*\n)+|.*)/g)].map((m) => m[1]);
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\b(arbiter_\w+|process_\w+|up(?=\{))/g)].map((m) => m[1].replace(/_(bucket|count|sum)$/, ''))));
    expect(used.size).toBeGreaterThan(10);
    for (const name of used) {
      if (name in FROM_ELSEWHERE) continue;
      expect(exported.has(name), `${name} is used by a rule but not exported by src/shared/metrics`).toBe(true);
    }
  });
});

describe('deployment files', () => {
  it('prometheus.yml loads the rules and points at Alertmanager (promtool check config)', () => {
    const r = tool('promtool', ['check', 'config', 'prometheus.yml']);
    expect(r.out).toMatch(/SUCCESS: 1 rule files found/);
    expect(r.status).toBe(0);
    expect(readFileSync(`${DEPLOY}prometheus.yml`, 'utf8')).toMatch(/alertmanager:9093/);
  });

  it('alertmanager.yml is valid and posts to a webhook (amtool check-config)', () => {
    const r = tool('amtool', ['check-config', 'alertmanager.yml']);
    expect(r.out).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
    expect(readFileSync(`${DEPLOY}alertmanager.yml`, 'utf8')).toMatch(/webhook_configs:\n\s+- url: http/);
  });
});
