import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
// Jest runs from the repository root (package.json's scripts), as the other e2e specs assume.
const ROOT = process.cwd();

/** The version this repository's lock installed, so the host's install finds it in npm's cache. */
function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The host's own code: its configuration names, its own tenant resolver, MlModule from the package. */
const HOST_MAIN = `
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { CommonModule, MlModule, configureApp, type ResolvedCaller, type TenantResolver } from 'ai-service';

/** What a host does after verifying its own session: the user and tenant land in headers it controls. */
class SessionTenantResolver implements TenantResolver {
  resolve(request: { headers: Record<string, string | string[] | undefined> }): Promise<ResolvedCaller | null> {
    const tenant = request.headers['x-host-tenant'];
    return Promise.resolve(typeof tenant === 'string' ? { tenantId: tenant, actor: 'host-user' } : null);
  }
}

@Module({
  imports: [
    ConfigModule.forRoot({ ignoreEnvFile: true }),
    CommonModule,
    MlModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        mlServiceUrl: config.getOrThrow<string>('HOST_ML_BASE_URL'),
        serviceToken: config.getOrThrow<string>('HOST_ML_SECRET'),
        tenantResolver: new SessionTenantResolver(),
      }),
    }),
  ],
})
class HostModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(HostModule, { bodyParser: false, logger: ['error', 'warn'] });
  configureApp(app);
  await app.listen(0, '127.0.0.1');
  console.log('HOST_URL ' + (await app.getUrl()));
}
void main();
`;

const HOST_TSCONFIG = {
  compilerOptions: {
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'ES2023',
    lib: ['ES2023', 'DOM'],
    types: [],
    strict: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    skipLibCheck: true,
    outDir: 'dist',
  },
  files: ['main.ts'],
};

/** Waits for the host's `HOST_URL <url>` line; rejects with its output if it exits first. */
function hostUrl(host: ChildProcess): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /HOST_URL (\S+)/.exec(output);
      if (match?.[1] !== undefined) {
        resolvePromise(match[1].replace('[::1]', '127.0.0.1'));
      }
    };
    host.stdout?.on('data', onData);
    host.stderr?.on('data', onData);
    host.once('exit', (code) => reject(new Error(`the host exited with ${code}:\n${output}`)));
  });
}

describe('a host application outside the repository, with the packed package installed', () => {
  let work: string;
  let host: ChildProcess | undefined;
  let url: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'ml-host-'));
    // npm pack builds first (prepack), so the tarball is what `npm publish` would ship.
    const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', work], { cwd: ROOT });
    const tarball = join(work, stdout.trim().split('\n').pop() ?? '');
    const hostDir = join(work, 'host');
    const hostDependencies = Object.fromEntries(
      ['@nestjs/common', '@nestjs/config', '@nestjs/core', '@nestjs/platform-express', '@nestjs/platform-ws', 'reflect-metadata', 'rxjs'].map((name) => [name, installedVersion(name)]),
    );
    mkdirSync(hostDir);
    writeFileSync(join(hostDir, 'package.json'), JSON.stringify({ name: 'ml-host', private: true, dependencies: { 'ai-service': `file:${tarball}`, ...hostDependencies } }, null, 2));
    writeFileSync(join(hostDir, 'tsconfig.json'), JSON.stringify(HOST_TSCONFIG, null, 2));
    writeFileSync(join(hostDir, 'main.ts'), HOST_MAIN);
    // From npm's cache where it can (the repository's own install filled it); no install scripts.
    await run('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: hostDir });
    // The host type-checks against the package's declarations with the repository's compiler.
    await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', hostDir]);
    host = spawn(process.execPath, [join(hostDir, 'dist', 'main.js')], {
      cwd: hostDir,
      // The host's own variable names only: nothing of this repository's configuration.
      env: {
        PATH: process.env.PATH,
        HOST_ML_BASE_URL: process.env.ML_SERVICE_URL_E2E,
        HOST_ML_SECRET: process.env.ML_SERVICE_TOKEN,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    url = await hostUrl(host);
  });

  afterAll(() => {
    host?.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  });

  it('serves an ML route for the tenant its own resolver names, answered by the real ML Service', async () => {
    const response = await fetch(`${url}/api/v1/ml/train/algorithms`, { headers: { 'X-Host-Tenant': 'host-tenant' } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { algorithms: Array<{ name: string }> };
    expect(body.algorithms.map((algorithm) => algorithm.name)).toContain('xgboost');

    const models = await fetch(`${url}/api/v1/ml/registry/models`, { headers: { 'X-Host-Tenant': 'host-tenant' } });
    expect(models.status).toBe(200);
  });

  it("refuses a request its resolver cannot place, in the package's error shape", async () => {
    const response = await fetch(`${url}/api/v1/ml/registry/models`);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ message: expect.any(String), request_id: expect.any(String) });
  });
});
