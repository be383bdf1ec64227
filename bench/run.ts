// The benchmark harness: `npm run bench -- <scenario>|all [--quick] [scenario flags]`.
// Each scenario is a module in bench/scenarios/ exporting `scenario`; each prints
// its tables and writes bench-results/<ISO time>/<scenario>.json.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { describeMachine } from './lib/machine.js';
import { bar, Progress } from './lib/progress.js';
import type { Scenario, ScenarioOptions } from './lib/scenario.js';
import { renderTable } from './lib/table.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCENARIOS_DIR = fileURLToPath(new URL('./scenarios/', import.meta.url));

function scenarioNames(): string[] {
  return readdirSync(SCENARIOS_DIR)
    .filter((file) => /\.ts$/.test(file) && !file.endsWith('.d.ts'))
    .map((file) => file.slice(0, -3))
    .sort();
}

async function loadScenario(name: string): Promise<Scenario> {
  const module = (await import(pathToFileURL(path.join(SCENARIOS_DIR, `${name}.ts`)).href)) as { scenario?: Scenario };
  if (!module.scenario) throw new Error(`bench/scenarios/${name}.ts does not export \`scenario\``);
  return module.scenario;
}

function usage(names: readonly string[], scenarios: ReadonlyMap<string, Scenario>): string {
  const lines = ['usage: npm run bench -- <scenario>|all [--quick] [flags]', '', 'scenarios:'];
  for (const name of names) {
    lines.push(`  ${name.padEnd(10)} ${scenarios.get(name)?.description ?? ''}`);
    for (const flag of scenarios.get(name)?.usage ?? []) lines.push(`    ${flag}`);
  }
  lines.push('', 'common flags:', '  --quick    shorter phases (a smoke run, not figures to quote)', '  --help');
  return `${lines.join('\n')}\n`;
}

/** ISO 8601 basic format (no colons, so the folder name is portable): 20260801T093000Z. */
function stamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const names = scenarioNames();
  const at = argv.findIndex((arg) => !arg.startsWith('-'));
  const wanted = at === -1 ? undefined : argv[at];
  const help = argv.includes('--help') || argv.includes('-h');

  if (!wanted || (wanted !== 'all' && !names.includes(wanted))) {
    const scenarios = new Map(await Promise.all(names.map(async (name) => [name, await loadScenario(name)] as const)));
    if (help && !wanted) {
      process.stdout.write(usage(names, scenarios));
      return 0;
    }
    process.stderr.write(
      `${wanted ? `Unknown scenario "${wanted}".` : 'No scenario given.'} Scenarios: ${[...names, 'all'].join(', ')}\n\n${usage(names, scenarios)}`,
    );
    return 1;
  }

  const selected = wanted === 'all' ? names : [wanted];
  const scenarios = new Map(await Promise.all(selected.map(async (name) => [name, await loadScenario(name)] as const)));
  const options: ScenarioOptions = { quick: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } };
  for (const scenario of scenarios.values()) Object.assign(options, scenario.options ?? {});
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv.filter((_, i) => i !== at), options, allowPositionals: false, strict: true }) as {
      values: Record<string, string | boolean | undefined>;
    });
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${usage(selected, scenarios)}`);
    return 1;
  }
  if (values.help) {
    process.stdout.write(usage(selected, scenarios));
    return 0;
  }

  const startedAt = new Date();
  const resultsDir = path.join(ROOT, 'bench-results', stamp(startedAt));
  mkdirSync(resultsDir, { recursive: true });
  const machine = describeMachine(ROOT);
  const progress = new Progress();
  const quick = values.quick === true;
  progress.note(
    `Taskyard bench — ${selected.join(', ')}${quick ? ' (quick)' : ''} on ${machine.nproc} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}`,
  );
  progress.note(`results: ${path.relative(process.cwd(), resultsDir) || '.'}\n`);

  let failed = 0;
  let index = 0;
  for (const [name, scenario] of scenarios) {
    const scenarioStart = new Date();
    index++;
    if (scenarios.size > 1) progress.note(`${bar((index - 1) / scenarios.size)} scenario ${index}/${scenarios.size}: ${name}`);
    try {
      const result = await scenario.run({ quick, values, progress, resultsDir });
      process.stdout.write('\n');
      for (const table of result.tables) process.stdout.write(`${renderTable(table)}\n`);
      const file = path.join(resultsDir, `${name}.json`);
      const record = {
        scenario: name,
        command: `npm run bench -- ${argv.join(' ')}`,
        quick,
        flags: values,
        startedAt: scenarioStart.toISOString(),
        finishedAt: new Date().toISOString(),
        machine,
        tables: result.tables,
        breached: result.breached ?? [],
        ...result.data,
      };
      writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
      progress.note(`wrote ${path.relative(process.cwd(), file)}\n`);
      if (result.breached?.length) {
        failed++;
        process.stderr.write(`scenario ${name}: thresholds breached — ${result.breached.join('; ')}\n`);
      }
    } catch (error) {
      failed++;
      process.stderr.write(`\nscenario ${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
  }
  return failed > 0 ? 1 : 0;
}

// Exit explicitly: a load generator's sockets must not keep a finished run alive.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
