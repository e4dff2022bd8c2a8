// Starts the real ML Service once for the e2e run: a fresh data folder, a free loopback port, and a
// wait for its readiness. The AI Service under test reads the URL from ML_SERVICE_URL_E2E; setting
// that variable beforehand reuses a running ML Service instead.
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

// About 30 s on a quiet machine (Ray, MLflow's tables, the Feast worker); a machine loaded by
// other stacks has taken over 90 s, and a slow start is not what the e2e tests test.
const READY_TIMEOUT_MS = 240_000;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilReady(url, child, logPath) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastProblem = 'no answer yet';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`the ML Service exited with code ${child.exitCode} before it was ready; log: ${logPath}\n${tail(logPath)}`);
    }
    try {
      const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) {
        return;
      }
      lastProblem = `HTTP ${response.status}: ${await response.text()}`;
    } catch (error) {
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the ML Service was not ready within ${READY_TIMEOUT_MS / 1000} s (${lastProblem}); log: ${logPath}\n${tail(logPath)}`);
}

function tail(logPath) {
  return fs.readFileSync(logPath, 'utf8').split('\n').slice(-30).join('\n');
}

module.exports = async function startMlService() {
  if (process.env.ML_SERVICE_URL_E2E !== undefined) {
    // Its token must then be in ML_SERVICE_TOKEN, as the AI Service under test sends it.
    // An ML Service the developer already runs (faster iterations); it is left running afterwards.
    console.log(`\nUsing the ML Service at ${process.env.ML_SERVICE_URL_E2E}`);
    return;
  }
  const root = path.resolve(__dirname, '..');
  const mlServiceDir = path.join(root, 'ml-service');
  const python = path.join(mlServiceDir, '.venv', 'bin', 'python');
  if (!fs.existsSync(python)) {
    throw new Error(`${python} not found: create the ML Service's virtualenv first`);
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mls-e2e-'));
  const logPath = path.join(dataDir, 'ml-service.log');
  const log = fs.openSync(logPath, 'a');
  const port = await freePort();
  // The shared secret of this run; the AI Services under test read it as ML_SERVICE_TOKEN.
  const token = crypto.randomBytes(24).toString('base64url');
  process.env.ML_SERVICE_TOKEN = token;
  const child = spawn(python, ['-m', 'uvicorn', 'app.main:app', '--host', '127.0.0.1', '--port', String(port)], {
    cwd: mlServiceDir,
    // Tenant limits are the ML Service's configuration: globex gets one CPU per job (progress e2e),
    // initech one active job (the tuning e2e's quota check). hooli (chat e2e) and umbrella (workbench
    // e2e) have demo data of their own, so "the best churn model" cannot pick another spec's model.
    env: {
      ...process.env,
      MLS_DATA_DIR: dataDir,
      MLS_RAY_NUM_CPUS: '2',
      MLS_SERVICE_TOKEN: token,
      MLS_DEMO_TENANTS: '["acme-corp","hooli","umbrella"]',
      MLS_TENANT_LIMITS: '{"globex":{"max_cpus_per_job":1},"initech":{"max_concurrent_jobs":1}}',
    },
    // Its own process group, so teardown can stop uvicorn and every Ray worker it started at once.
    detached: true,
    stdio: ['ignore', log, log],
  });
  const url = `http://127.0.0.1:${port}`;
  globalThis.__ML_SERVICE_E2E__ = { pid: child.pid, dataDir, logPath };
  process.env.ML_SERVICE_URL_E2E = url;
  try {
    await waitUntilReady(url, child, logPath);
  } catch (error) {
    process.kill(-child.pid, 'SIGKILL');
    throw error;
  }
  console.log(`\nML Service ready at ${url} (data ${dataDir})`);
};
