// Prints the mutation score per folder from StrykerJS's JSON reports (npm run mutate), and the
// mutants that survived, by file and line: what the suite would let through.
// Score = killed (incl. timeouts) / (killed + survived + no coverage), as Stryker counts it;
// compile errors and ignored mutants do not count.
import { readFileSync } from 'node:fs';
import path from 'node:path';

const files = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const GOAL = 85;
const folders = new Map();
const survivors = [];
const results = files.flatMap((file) => Object.entries(JSON.parse(readFileSync(file, 'utf8')).files));
for (const [name, result] of results) {
  const folder = name.startsWith('src/capture/') || name.startsWith('src/conversation/') ? name : path.dirname(name);
  const f = folders.get(folder) ?? { killed: 0, survived: 0, noCoverage: 0, timeout: 0, other: 0 };
  for (const m of result.mutants) {
    if (m.status === 'Killed') f.killed++;
    else if (m.status === 'Timeout') f.timeout++;
    else if (m.status === 'Survived') f.survived++;
    else if (m.status === 'NoCoverage') f.noCoverage++;
    else f.other++;
    if (m.status === 'Survived' || m.status === 'NoCoverage') {
      survivors.push(`${name}:${m.location.start.line} ${m.mutatorName}${m.replacement !== undefined ? ` -> ${JSON.stringify(m.replacement).slice(0, 60)}` : ''} (${m.status})`);
    }
  }
  folders.set(folder, f);
}
console.log('| folder | killed | timeout | survived | no coverage | score | goal 85% |');
console.log('|---|---|---|---|---|---|---|');
let all = { killed: 0, timeout: 0, survived: 0, noCoverage: 0 };
for (const [folder, f] of [...folders].sort()) {
  const detected = f.killed + f.timeout;
  const score = (100 * detected) / (detected + f.survived + f.noCoverage || 1);
  console.log(`| ${folder} | ${f.killed} | ${f.timeout} | ${f.survived} | ${f.noCoverage} | ${score.toFixed(1)}% | ${score >= GOAL ? 'met' : 'NOT met'} |`);
  for (const k of Object.keys(all)) all[k] += f[k];
}
const detected = all.killed + all.timeout;
console.log(`| all | ${all.killed} | ${all.timeout} | ${all.survived} | ${all.noCoverage} | ${((100 * detected) / (detected + all.survived + all.noCoverage || 1)).toFixed(1)}% | |`);
if (process.argv.includes('--survivors')) {
  console.log(`\nSurvivors (${survivors.length}):`);
  for (const s of survivors) console.log(`  ${s}`);
}
