// .ci/run: one line naming the tests jest skipped (it.skip, a test skipped because
// ../shared is absent, todo), from jest's --json results, so a skip shows in CI's
// summary; the counts are jest's own numPendingTests and numTodoTests.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

let results;
try {
  results = JSON.parse(readFileSync(process.argv[2], 'utf8'));
} catch {
  console.log('skipped: unknown (no jest results)');
  process.exit(0);
}
const pending = results.numPendingTests ?? 0;
const todo = results.numTodoTests ?? 0;
const names = (results.testResults ?? []).flatMap((file) =>
  (file.assertionResults ?? [])
    .filter((test) => ['pending', 'skipped', 'todo', 'disabled'].includes(test.status))
    .map((test) => `${relative(process.cwd(), file.name)}: ${test.fullName}`),
);
console.log(
  `${pending + todo} skipped (numPendingTests ${pending}, numTodoTests ${todo})${names.length ? `: ${names.join('; ')}` : ''}`,
);
