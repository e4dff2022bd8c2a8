import { describe, expect, it } from '@jest/globals';
import { understand } from '@app/ml/chat/nlu/understand';
import { EVAL_CATALOG } from '@test/chat-eval/catalog.fixture';
import { CASES, type EvalCase } from '@test/chat-eval/cases';

/** The accuracy the embedded understanding must keep (issue 16). */
const REQUIRED = 0.95;

function at(value: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), value);
}

interface Outcome {
  case: EvalCase;
  agentOk: boolean;
  toolOk: boolean;
  args: { name: string; ok: boolean }[];
  got: string;
}

/** Plan mode's understanding of one case, scored: agent, tool (or question, or none), each key argument. */
function evaluate(evalCase: EvalCase): Outcome {
  const understood = understand(evalCase.q, EVAL_CATALOG, structuredClone(evalCase.given ?? {}));
  const got = understood.question !== undefined ? 'ASK' : (understood.steps.map((step) => step.tool).join('+') || 'null');
  const step = understood.steps.find((candidate) => candidate.tool === evalCase.tool);
  const toolOk = evalCase.tool === 'ASK' ? understood.question !== undefined : evalCase.tool === null ? understood.steps.length === 0 && understood.question === undefined : step !== undefined;
  const args = Object.entries(evalCase.args ?? {}).map(([name, expected]) => {
    const actual = at(step?.arguments, name);
    return { name, ok: expected === '*' ? actual !== undefined : JSON.stringify(actual) === JSON.stringify(expected) };
  });
  return { case: evalCase, agentOk: understood.agent === evalCase.agent, toolOk, args, got: `${understood.agent} ${got} ${JSON.stringify(step?.arguments ?? understood.question?.candidates ?? '')}` };
}

function percent(part: number, whole: number): string {
  return `${((100 * part) / whole).toFixed(1)} % (${part}/${whole})`;
}

/**
 * Issue 16's evaluation: every query of cases.ts through the embedded understanding in plan mode
 * (nothing runs) against a fixed tenant catalog; a query counts when its agent, its tool and all its
 * key arguments are right. Prints accuracy per agent and per argument; fails below 95 %.
 */
describe('chat evaluation (embedded language understanding, plan mode)', () => {
  const outcomes = CASES.map(evaluate);

  it('has at least 200 queries, the seed 000 six among them', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(200);
    expect(CASES.filter((evalCase) => evalCase.seed).map((evalCase) => evalCase.q)).toEqual([
      'Train a model to predict customer churn',
      'Tune the learning rate for my churn model',
      'What features are most important for churn?',
      'Deploy the best churn model to production',
      'How accurate is my deployed model?',
      'Profile the customer dataset',
    ]);
  });

  it('understands the seed six', () => {
    const seed = outcomes.filter((outcome) => outcome.case.seed);
    expect(seed.filter((outcome) => !(outcome.agentOk && outcome.toolOk && outcome.args.every((arg) => arg.ok))).map((outcome) => `${outcome.case.q} → ${outcome.got}`)).toEqual([]);
  });

  it(`reaches ${REQUIRED * 100} % per query, per agent and per argument`, () => {
    const right = (outcome: Outcome): boolean => outcome.agentOk && outcome.toolOk && outcome.args.every((arg) => arg.ok);
    const lines: string[] = [`overall: ${percent(outcomes.filter(right).length, outcomes.length)}`];
    const agents = [...new Set(CASES.map((evalCase) => evalCase.agent))];
    for (const agent of agents) {
      const mine = outcomes.filter((outcome) => outcome.case.agent === agent);
      lines.push(`agent ${agent}: ${percent(mine.filter(right).length, mine.length)}`);
    }
    const argumentNames = [...new Set(outcomes.flatMap((outcome) => outcome.args.map((arg) => arg.name)))];
    const allArgs = outcomes.flatMap((outcome) => outcome.args);
    lines.push(`arguments: ${percent(allArgs.filter((arg) => arg.ok).length, allArgs.length)}`);
    for (const name of argumentNames) {
      const these = allArgs.filter((arg) => arg.name === name);
      lines.push(`argument ${name}: ${percent(these.filter((arg) => arg.ok).length, these.length)}`);
    }
    const wrong = outcomes.filter((outcome) => !right(outcome));
    lines.push(...wrong.map((outcome) => `MISS ${outcome.case.q} [want ${outcome.case.agent} ${String(outcome.case.tool)} ${JSON.stringify(outcome.case.args ?? {})}] → ${outcome.got}`));
    process.stdout.write(`${lines.join('\n')}\n`);
    expect(outcomes.filter(right).length / outcomes.length).toBeGreaterThanOrEqual(REQUIRED);
    expect(allArgs.filter((arg) => arg.ok).length / allArgs.length).toBeGreaterThanOrEqual(REQUIRED);
  });
});
