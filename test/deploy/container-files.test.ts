// The Dockerfile and compose.yaml, checked by parsing them (no Docker on the machines that run
// the suite): the structure a deployment relies on, and that every command, flag and
// environment variable they give Taskyard is one the CLI really has.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { Copy, DockerfileParser, type Instruction, type JSONInstruction } from 'dockerfile-ast';
import { parse } from 'yaml';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.js';
import { configFromEnv } from '../../src/config.js';
import { OTEL_VARIABLES } from '../../src/observability/tracing.js';

const ROOT = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, ROOT), 'utf8');

/** Every environment variable Taskyard reads: the config's, and the CLI flags' own (`.env()`). */
function variablesRead(): Set<string> {
  const names = new Set<string>();
  configFromEnv(new Proxy({}, { get: (_target, key) => (typeof key === 'string' && names.add(key), undefined) }));
  const walk = (command: Command): void => {
    for (const option of command.options) if (option.envVar) names.add(option.envVar);
    command.commands.forEach(walk);
  };
  walk(buildProgram());
  for (const name of OTEL_VARIABLES) names.add(name);
  return names;
}
const VARIABLES = variablesRead();

/** `taskyard <args>` must be a real command whose flags it knows. */
function assertRealCommand(args: readonly string[]): void {
  const [name, ...flags] = args;
  const command = buildProgram().commands.find((c) => c.name() === name);
  assert.ok(command, `taskyard has no command "${name}"`);
  for (const flag of flags.filter((arg) => arg.startsWith('-'))) {
    assert.ok(command.options.some((option) => option.long === flag.split('=')[0] || option.short === flag), `taskyard ${name} has no flag ${flag}`);
  }
}

describe('Dockerfile', () => {
  const dockerfile = DockerfileParser.parse(read('Dockerfile'));
  const froms = dockerfile.getFROMs();
  const line = (instruction: Instruction): number => instruction.getRange()!.start.line;
  /** The instructions of the stage that starts at `froms[i]`. */
  const stage = (i: number): Instruction[] =>
    dockerfile.getInstructions().filter((instruction) => line(instruction) > line(froms[i]!) && (i + 1 >= froms.length || line(instruction) < line(froms[i + 1]!)));
  const final = stage(froms.length - 1);
  const ofKind = (instructions: Instruction[], keyword: string): Instruction[] => instructions.filter((instruction) => instruction.getKeyword() === keyword);
  const json = (instruction: Instruction): string[] => (instruction as JSONInstruction).getJSONStrings().map((s) => s.getJSONValue());

  test('is multi-stage: a build stage runs `npm ci` and `npm run build`; the final stage is node slim', () => {
    assert.ok(froms.length >= 2, `${froms.length} stage(s)`);
    const build = froms.findIndex((from) => from.getBuildStage() === 'build');
    assert.ok(build >= 0, 'a stage named build');
    const runs = ofKind(stage(build), 'RUN').map((run) => run.getArgumentsContent());
    assert.ok(runs.includes('npm ci'), JSON.stringify(runs));
    assert.ok(runs.includes('npm run build'), JSON.stringify(runs));
    assert.match(froms.at(-1)!.getImage() ?? '', /^node:\d+-slim$/);
  });

  test('the final stage has the production dependencies only, the build output and bin/, and no sources', () => {
    const copies = ofKind(final, 'COPY') as Copy[];
    const from = (copy: Copy): string | null => copy.getFromFlag()?.getValue() ?? null;
    const sources = copies.map((copy) => ({ from: from(copy), source: copy.getArguments()[0]!.getValue() }));
    assert.ok(sources.some(({ from, source }) => from === 'build' && source === '/app/dist'), JSON.stringify(sources));
    const modules = sources.find(({ source }) => source.endsWith('/node_modules'));
    assert.ok(modules?.from, 'node_modules from another stage');
    const depsStage = froms.findIndex((f) => f.getBuildStage() === modules.from);
    assert.ok(ofKind(stage(depsStage), 'RUN').some((run) => /npm ci --omit=dev/.test(run.getArgumentsContent() ?? '')), 'that stage installs with --omit=dev');
    assert.ok(sources.some(({ from, source }) => from === null && source === 'bin'));
    // With src/ beside dist/, bin/taskyard.js would rebuild when the sources look newer.
    assert.ok(!sources.some(({ source }) => /(^|\/)src$/.test(source)), 'no src/ in the runtime image');
  });

  test('runs as a non-root user, listens on 0.0.0.0:3000, and sets only variables Taskyard reads', () => {
    const users = ofKind(final, 'USER').map((user) => user.getArgumentsContent());
    assert.equal(users.length, 1);
    assert.doesNotMatch(users[0]!, /^(root|0)(:|$)/);
    assert.deepEqual(ofKind(final, 'EXPOSE').map((e) => e.getArgumentsContent()), ['3000']);
    const env = Object.fromEntries(dockerfile.getENVs().flatMap((e) => e.getProperties().map((p) => [p.getName(), p.getValue()])));
    assert.equal(env['HOST'], '0.0.0.0');
    assert.equal(env['PORT'], '3000');
    for (const name of Object.keys(env)) assert.ok(VARIABLES.has(name), `Taskyard does not read ${name}`);
  });

  test('HEALTHCHECK asks /ready with node (the slim image has no curl)', () => {
    const [check, ...more] = dockerfile.getHEALTHCHECKs();
    assert.ok(check && more.length === 0);
    assert.ok(line(check) > line(froms.at(-1)!), 'in the final stage');
    assert.equal(check.getSubcommand()?.getValue(), 'CMD');
    const command = JSON.parse(check.getArgumentsContent()!.replace(/^CMD\s+/, '')) as string[];
    assert.equal(command[0], 'node');
    assert.match(command.join(' '), /\/ready/);
    assert.ok(check.getFlags().some((flag) => flag.getName() === 'start-period'));
  });

  test('runs `node bin/taskyard.js`, `start` by default', () => {
    const [entrypoint] = ofKind(final, 'ENTRYPOINT');
    const [cmd] = ofKind(final, 'CMD');
    assert.deepEqual(json(entrypoint!), ['node', 'bin/taskyard.js']);
    assert.deepEqual(json(cmd!), ['start']);
    assertRealCommand(json(cmd!));
    assert.ok(line(ofKind(final, 'USER')[0]!) < line(entrypoint!), 'USER before the entrypoint');
    assert.ok(existsSync(new URL('bin/taskyard.js', ROOT)));
  });

  test('.dockerignore keeps node_modules, dist and .git out of the build context', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const path of ['node_modules', 'dist', '.git', '.taskyard']) assert.ok(ignored.includes(path), `${path} is not ignored`);
    for (const needed of ['src', 'scripts', 'bin', 'package.json', 'package-lock.json']) assert.ok(!ignored.includes(needed), `${needed} is needed by the build`);
  });
});

describe('compose.yaml', () => {
  interface Service {
    image?: string;
    build?: string | { context: string };
    command?: string[];
    environment?: Record<string, string>;
    ports?: string[];
    healthcheck?: { test: string[] };
    depends_on?: Record<string, { condition: string }> | string[];
    profiles?: string[];
    volumes?: string[];
  }
  const compose = parse(read('compose.yaml'), { merge: true }) as { services: Record<string, Service> };
  const { services } = compose;
  const service = (name: string): Service => {
    assert.ok(services[name], `no service ${name}`);
    return services[name];
  };

  test('has api, worker, redis and postgres, and jaeger and prometheus behind profiles', () => {
    assert.deepEqual(Object.keys(services).sort(), ['api', 'jaeger', 'postgres', 'prometheus', 'redis', 'worker']);
    for (const name of ['api', 'worker', 'redis', 'postgres']) assert.equal(service(name).profiles, undefined, `${name} always runs`);
    assert.deepEqual(service('jaeger').profiles, ['tracing']);
    assert.deepEqual(service('prometheus').profiles, ['metrics']);
  });

  test('api and worker are built from this Dockerfile and run real taskyard commands', () => {
    for (const [name, command] of [['api', 'api'], ['worker', 'worker']] as const) {
      const { build, command: args } = service(name);
      assert.equal(typeof build === 'string' ? build : build?.context, '.');
      assert.equal(args?.[0], command);
      assertRealCommand(args!);
    }
  });

  test('api and worker get only environment variables Taskyard reads, pointing at the redis and postgres services', () => {
    const postgres = service('postgres').environment!;
    for (const name of ['api', 'worker']) {
      const env = service(name).environment!;
      for (const variable of Object.keys(env)) assert.ok(VARIABLES.has(variable), `${name}: Taskyard does not read ${variable}`);
      const database = new URL(env['DATABASE_URL']!);
      assert.equal(database.hostname, 'postgres');
      assert.equal(decodeURIComponent(database.username), postgres['POSTGRES_USER']);
      assert.equal(decodeURIComponent(database.password), postgres['POSTGRES_PASSWORD']);
      assert.equal(database.pathname, `/${postgres['POSTGRES_DB']}`);
      assert.equal(new URL(env['REDIS_URL']!).hostname, 'redis');
    }
    assert.equal(service('api').environment!['HOST'], '0.0.0.0');
    assert.deepEqual(service('api').ports, ['3000:3000']);
    assert.equal(service('worker').ports, undefined, 'no published port, so the worker scales');
    assert.equal(new URL(service('worker').environment!['TASKYARD_URL']!).hostname, 'api');
  });

  test('every core service has a health check; api and worker wait for healthy redis and postgres', () => {
    for (const name of ['api', 'worker', 'redis', 'postgres']) assert.equal(service(name).healthcheck?.test[0], 'CMD', name);
    assert.match(service('api').healthcheck!.test.join(' '), /\/ready/);
    assert.match(service('worker').healthcheck!.test.join(' '), /127\.0\.0\.1:9464\/health/);
    assert.equal(service('worker').environment!['TASKYARD_METRICS_PORT'], '9464', 'the health check asks the port the worker serves');
    assert.deepEqual(service('api').depends_on, { postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    assert.deepEqual(service('worker').depends_on, {
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
      api: { condition: 'service_healthy' },
    });
  });

  test('jaeger takes OTLP; prometheus scrapes the api\'s /metrics with the config it mounts', () => {
    const jaeger = service('jaeger');
    for (const port of ['4317', '4318', '16686']) assert.ok(jaeger.ports?.some((p) => p.endsWith(`:${port}`)), `jaeger publishes ${port}`);
    const mount = service('prometheus').volumes!.find((volume) => volume.endsWith(':/etc/prometheus/prometheus.yml:ro'));
    assert.ok(mount);
    const config = parse(read(mount.split(':')[0]!)) as { scrape_configs: Array<{ metrics_path: string; dns_sd_configs: Array<{ names: string[]; port: number }> }> };
    const [scrape] = config.scrape_configs;
    assert.equal(scrape?.metrics_path, '/metrics');
    assert.deepEqual(scrape?.dns_sd_configs[0], { names: ['api'], type: 'A', port: 3000 });
  });
});
