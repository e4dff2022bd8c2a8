// Sums the pytest JUnit report and the jest JSON reports of one scripts/test.sh run into a single
// closing line: "tests: N passed, N failed, N skipped".
const fs = require('node:fs');
const path = require('node:path');

const dir = process.argv[2];
let passed = 0;
let failed = 0;
let skipped = 0;

for (const file of fs.readdirSync(dir)) {
  const text = fs.readFileSync(path.join(dir, file), 'utf8');
  if (file.endsWith('.json')) {
    const report = JSON.parse(text);
    passed += report.numPassedTests;
    failed += report.numFailedTests + (report.numRuntimeErrorTestSuites ?? 0);
    skipped += report.numPendingTests + (report.numTodoTests ?? 0);
  } else if (file.endsWith('.xml')) {
    // pytest writes one <testsuite tests= failures= errors= skipped=> element.
    const attr = (name) => Number((text.match(new RegExp(`<testsuite[^>]*\\b${name}="(\\d+)"`)) ?? [])[1] ?? 0);
    const total = attr('tests');
    const bad = attr('failures') + attr('errors');
    const skip = attr('skipped');
    passed += total - bad - skip;
    failed += bad;
    skipped += skip;
  }
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
