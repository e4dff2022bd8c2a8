// Stops the ML Service started by the global setup: SIGTERM to its process group, SIGKILL after 15 s.
const fs = require('node:fs');

function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

module.exports = async function stopMlService() {
  const started = globalThis.__ML_SERVICE_E2E__;
  if (started === undefined) {
    return;
  }
  if (groupAlive(started.pid)) {
    process.kill(-started.pid, 'SIGTERM');
    const deadline = Date.now() + 15_000;
    while (groupAlive(started.pid) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    if (groupAlive(started.pid)) {
      process.kill(-started.pid, 'SIGKILL');
    }
  }
  if (process.env.KEEP_ML_SERVICE_DATA === undefined) {
    fs.rmSync(started.dataDir, { recursive: true, force: true });
  }
};
