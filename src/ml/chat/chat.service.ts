import { randomUUID } from 'node:crypto';
import { HttpException, HttpStatus, Injectable, Logger } from '@nestjs/common';
import { FieldErrorsException } from '@app/common/filters/field-errors.exception';
import type { TenantContext } from '@app/common/tenant/tenant-context';
import { CatalogService } from '@app/ml/chat/catalog.service';
import type { ConversationEntities, PlannedCall, Understanding } from '@app/ml/chat/chat-types';
import { type Conversation, ConversationStore } from '@app/ml/chat/conversation.store';
import { LlmPlanner } from '@app/ml/chat/llm-planner';
import type { ChatLinkDto, ChatRequestDto, ChatResponseDto, ChatToolCallDto } from '@app/ml/chat/dto/chat.dto';
import { understand } from '@app/ml/chat/nlu/understand';
import { ToolRegistry } from '@app/ml/tools/tool-registry';

// Short answers only: "yes", "yes, do it"; "cancel the sweep" is a new request, not a "no".
const YES = /^\s*(y|yes|yep|yeah|sure|ok|okay|confirm(ed)?|go( ahead)?|do it|proceed|approve[d]?)\b.{0,30}$/i;
const NO = /^\s*(n|no|nope|cancel|stop|abort|don'?t|never ?mind|decline)\s*(it|that)?\s*[.!]*\s*$/i;

/**
 * Hears each step of an answer as it happens (the SSE variant streams them): `understood` (agent,
 * intent, understood_by, the planned calls), `tool_call` before a tool runs, `tool_result` after.
 */
export type ChatStepListener = (event: 'understood' | 'tool_call' | 'tool_result', data: Record<string, unknown>) => void;

const IGNORE_STEPS: ChatStepListener = () => undefined;

/** What a step's tool answered, for the reply and the entities. */
type StepResult = Record<string, unknown>;

/**
 * Chat (issue 16): a message → the embedded understanding (nlu/understand.ts) against the tenant's
 * catalog and the conversation's entities → tool calls of the ToolRegistry, validated and run as
 * REST and MCP run them. A plan with a destructive tool (deploy, stage change, traffic, rollback,
 * cancel, delete: the registry's `destructive` risk) is only answered with its confirmation id; a
 * confirming message ("yes") or call (`confirmation_id` + `confirm: true`) carries it out. `plan`
 * mode answers the plan and does nothing.
 */
@Injectable()
export class ChatService {
  private readonly logger = new Logger(ChatService.name);

  constructor(
    private readonly registry: ToolRegistry,
    private readonly catalog: CatalogService,
    private readonly conversations: ConversationStore,
    private readonly llm: LlmPlanner,
  ) {}

  async chat(request: ChatRequestDto, caller: TenantContext, onStep: ChatStepListener = IGNORE_STEPS): Promise<ChatResponseDto> {
    const conversation = this.conversationFor(request.conversation_id, caller);
    const message = request.message ?? '';
    if (message !== '') this.conversations.addTurn(conversation, 'user', message);
    const response = await this.answer(conversation, request, message, caller, onStep);
    this.conversations.addTurn(conversation, 'assistant', response.reply);
    return response;
  }

  private conversationFor(conversationId: string | undefined, caller: TenantContext): Conversation {
    if (conversationId === undefined) return this.conversations.create(caller.tenantId);
    const conversation = this.conversations.get(caller.tenantId, conversationId);
    if (conversation === undefined) {
      throw new FieldErrorsException(HttpStatus.NOT_FOUND, [{ field: 'conversation_id', message: `no conversation ${conversationId} (conversations are kept in memory and end with a restart)` }]);
    }
    return conversation;
  }

  private async answer(conversation: Conversation, request: ChatRequestDto, message: string, caller: TenantContext, onStep: ChatStepListener): Promise<ChatResponseDto> {
    const pending = conversation.pending;
    if (request.confirmation_id !== undefined && pending?.confirmation_id !== request.confirmation_id) {
      throw new FieldErrorsException(HttpStatus.NOT_FOUND, [{ field: 'confirmation_id', message: `no plan ${request.confirmation_id} waits for confirmation in this conversation` }]);
    }
    const confirming = pending !== undefined && (request.confirm !== undefined || request.confirmation_id !== undefined || YES.test(message) || NO.test(message));
    if (confirming && request.mode !== 'plan') {
      conversation.pending = undefined;
      const yes = request.confirm ?? (request.confirmation_id !== undefined && message === '' ? false : YES.test(message));
      if (!yes) {
        return this.respond(conversation, { agent: pending.agent, intent: 'confirmation', tool_calls: pending.steps.map((step) => ({ tool: step.tool, arguments: step.arguments, status: 'cancelled' })), reply: 'Cancelled: nothing was done.' });
      }
      onStep('understood', { agent: pending.agent, intent: 'confirmation', tool_calls: pending.steps.map((step) => ({ tool: step.tool, arguments: step.arguments, status: 'planned' })) });
      return this.execute(conversation, { agent: pending.agent, intent: pending.intent, steps: pending.steps, entities: {} }, caller, onStep);
    }
    // The model when one is configured and answers; the embedded understanding otherwise.
    const byModel = this.llm.configured ? await this.llm.plan(message, conversation.history, conversation.entities, caller.requestId) : undefined;
    const understood = byModel ?? understand(message, await this.catalog.read(caller), conversation.entities);
    const understoodBy = byModel === undefined ? 'embedded' : 'llm';
    onStep('understood', {
      agent: understood.agent,
      intent: understood.intent,
      understood_by: understoodBy,
      tool_calls: understood.steps.map((step) => ({ tool: step.tool, arguments: step.arguments, status: 'planned' })),
    });
    return this.act(conversation, understood, understoodBy, request, caller, onStep);
  }

  private async act(conversation: Conversation, understood: Understanding, understoodBy: 'embedded' | 'llm', request: ChatRequestDto, caller: TenantContext, onStep: ChatStepListener): Promise<ChatResponseDto> {
    const respond = (partial: Parameters<ChatService['respond']>[1]): ChatResponseDto => this.respond(conversation, { ...partial, understood_by: understoodBy });
    if (understood.question !== undefined) {
      return respond({ agent: understood.agent, intent: understood.intent, reply: understood.question.text, candidates: understood.question.candidates });
    }
    if (understood.steps.length === 0) {
      return respond({ agent: understood.agent, intent: understood.intent, reply: understood.reply ?? '' });
    }
    mergeEntities(conversation.entities, understood.entities);
    const invalid = await this.validate(understood.steps, caller);
    if (invalid !== undefined) {
      return respond({ agent: understood.agent, intent: understood.intent, tool_calls: invalid, reply: `I could not make a valid request of that: ${describeFailures(invalid)}` });
    }
    if (request.mode === 'plan') {
      return respond({ agent: understood.agent, intent: understood.intent, tool_calls: understood.steps.map((step) => ({ tool: step.tool, arguments: step.arguments, status: 'planned' })), reply: `Plan: ${describePlan(understood.steps)}. Nothing was done (plan mode).` });
    }
    if (understood.steps.some((step) => this.registry.get(step.tool)?.risk === 'destructive')) {
      const confirmationId = `confirm-${randomUUID()}`;
      conversation.pending = { confirmation_id: confirmationId, agent: understood.agent, intent: understood.intent, steps: understood.steps };
      return respond({
        agent: understood.agent,
        intent: understood.intent,
        tool_calls: understood.steps.map((step) => ({ tool: step.tool, arguments: step.arguments, status: 'needs_confirmation' })),
        reply: `This changes what is live, so I need a yes first. Plan: ${describePlan(understood.steps)}. Reply "yes" to carry it out or "no" to drop it.`,
        needs_confirmation: true,
        confirmation_id: confirmationId,
      });
    }
    return this.execute(conversation, understood, caller, onStep, understoodBy);
  }

  /** Each step's arguments through the tool's own validation (REST's ValidationPipe); steps filled from an earlier result are checked when they run. */
  private async validate(steps: PlannedCall[], caller: TenantContext): Promise<ChatToolCallDto[] | undefined> {
    const calls: ChatToolCallDto[] = [];
    let failed = false;
    for (const step of steps) {
      const tool = this.registry.get(step.tool);
      if (tool === undefined) throw new Error(`the language understanding planned ${step.tool}, which the tool registry lacks`);
      if (step.from_step !== undefined) {
        calls.push({ tool: step.tool, arguments: step.arguments, status: 'planned' });
        continue;
      }
      try {
        await tool.prepare(step.arguments, caller);
        calls.push({ tool: step.tool, arguments: step.arguments, status: 'planned' });
      } catch (error) {
        failed = true;
        calls.push({ tool: step.tool, arguments: step.arguments, status: 'invalid', result: errorBody(error) });
      }
    }
    return failed ? calls : undefined;
  }

  private async execute(conversation: Conversation, understood: Understanding, caller: TenantContext, onStep: ChatStepListener, understoodBy?: 'embedded' | 'llm'): Promise<ChatResponseDto> {
    const calls: ChatToolCallDto[] = [];
    const results: StepResult[] = [];
    for (const step of understood.steps) {
      const args = { ...step.arguments };
      for (const [field, [index, source]] of Object.entries(step.from_step ?? {})) {
        const value = results[index]?.[source];
        args[field] = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
      }
      const tool = this.registry.get(step.tool);
      if (tool === undefined) throw new Error(`the tool registry lacks ${step.tool}`);
      onStep('tool_call', { tool: step.tool, arguments: args });
      try {
        const result = await tool.run(await tool.prepare(args, caller), caller);
        calls.push({ tool: step.tool, arguments: args, status: 'done', result });
        onStep('tool_result', { tool: step.tool, status: 'done', result });
        results.push((result ?? {}) as StepResult);
        updateEntities(conversation.entities, step.tool, args, (result ?? {}) as StepResult);
      } catch (error) {
        if (!(error instanceof HttpException)) {
          this.logger.error(`chat tool ${step.tool} failed request_id=${caller.requestId}`, error instanceof Error ? error.stack : String(error));
        }
        calls.push({ tool: step.tool, arguments: args, status: 'failed', result: errorBody(error) });
        onStep('tool_result', { tool: step.tool, status: 'failed', result: errorBody(error) });
        return this.respond(conversation, { understood_by: understoodBy, agent: understood.agent, intent: understood.intent, tool_calls: calls, reply: `That did not work: ${describeFailures(calls)}` });
      }
    }
    const { reply, links, suggestions } = compose(understood.intent, calls);
    return this.respond(conversation, { understood_by: understoodBy, agent: understood.agent, intent: understood.intent, tool_calls: calls, reply, links, suggestions });
  }

  private respond(conversation: Conversation, partial: Partial<ChatResponseDto> & Pick<ChatResponseDto, 'agent' | 'intent' | 'reply'>): ChatResponseDto {
    return {
      conversation_id: conversation.conversation_id,
      tool_calls: [],
      needs_confirmation: false,
      links: [],
      suggestions: [],
      ...partial,
    };
  }
}

function mergeEntities(entities: ConversationEntities, update: Partial<ConversationEntities>): void {
  Object.assign(entities, Object.fromEntries(Object.entries(update).filter(([, value]) => value !== undefined)));
}

/** What a done call puts in play: the job it started, the model it registered, the deployment it made. */
function updateEntities(entities: ConversationEntities, tool: string, args: Record<string, unknown>, result: StepResult): void {
  if (tool === 'TrainingController_submitTrainingJob' && typeof result.job_id === 'string') {
    entities.job_id = result.job_id;
    entities.model = undefined;
  }
  if ((tool === 'TuningController_submitTuningSweepFromBase' || tool === 'TuningController_submitTuningSweep') && typeof result.sweep_id === 'string') entities.sweep_id = result.sweep_id;
  if (tool === 'RegistryController_registerModelVersion' && typeof result.name === 'string') entities.model = { name: result.name, version: String(result.version) };
  if (tool === 'ServingController_createDeployment' && typeof result.model_id === 'string') {
    entities.deployment = result.model_id;
    entities.model = { name: String(args.model_name), version: String(args.version) };
  }
  if ((tool === 'ServingController_getDeployment' || tool === 'ServingController_releaseVersion') && typeof result.model_id === 'string') {
    entities.deployment = result.model_id;
    const version = typeof args.version === 'number' ? String(args.version) : (result.variants as { version: string }[] | undefined)?.[0]?.version;
    if (typeof result.model_name === 'string') entities.model = { name: result.model_name, version };
  }
}

function errorBody(error: unknown): Record<string, unknown> {
  if (error instanceof FieldErrorsException) return { status: error.getStatus(), message: error.message, errors: error.fieldErrors };
  if (error instanceof HttpException) return { status: error.getStatus(), message: error.message };
  return { status: 500, message: 'internal error' };
}

function describePlan(steps: PlannedCall[]): string {
  return steps.map((step, index) => `${index + 1}. ${step.tool} ${JSON.stringify(step.arguments)}`).join('; ');
}

function describeFailures(calls: ChatToolCallDto[]): string {
  return calls
    .filter((call) => call.status === 'failed' || call.status === 'invalid')
    .map((call) => {
      const body = call.result as { status?: number; message?: string; errors?: { field: string; message: string }[] };
      const fields = body.errors?.map((error) => `${error.field}: ${error.message}`).join('; ');
      return `${call.tool} answered ${body.status ?? ''} ${fields !== undefined && fields !== '' ? fields : (body.message ?? '')}`.trim();
    })
    .join('; ');
}

type Composed = { reply: string; links: ChatLinkDto[]; suggestions: string[] };

/** A short answer for a person, links to charts, and next steps, from what the calls returned. */
function compose(intent: string, calls: ChatToolCallDto[]): Composed {
  const last = (calls.at(-1)?.result ?? {}) as StepResult;
  switch (intent) {
    case 'train': {
      const job = last as { job_id: string; algorithm: string; task_type: string; status: string };
      const args = calls[0].arguments as { target_column: string; dataset: { table: string } };
      return {
        reply: `Started training job ${job.job_id}: ${job.algorithm} ${job.task_type} of ${args.target_column} on ${args.dataset.table} (${job.status}).`,
        links: [{ title: 'Live progress (Server-Sent Events)', href: `/api/v1/ml/jobs/${job.job_id}/events` }],
        suggestions: ['How is the last job?', 'Which features matter most?', 'Now deploy it', 'Tune the learning rate'],
      };
    }
    case 'tune': {
      const sweep = last as { sweep_id: string; status: string };
      return {
        reply: `Launched sweep ${sweep.sweep_id} (${sweep.status})${searched(calls[0].arguments)}.`,
        links: [{ title: 'Sweep progress (Server-Sent Events)', href: `/api/v1/ml/jobs/${sweep.sweep_id}/events` }, { title: 'Sweep charts', href: `/api/v1/ml/tuning/${sweep.sweep_id}/charts` }],
        suggestions: ['How is the sweep going?', 'Cancel the sweep'],
      };
    }
    case 'importance': {
      const job = last as { job_id: string; name: string; status: string; feature_importance: Record<string, number> | null };
      const ranked = Object.entries(job.feature_importance ?? {}).sort((a, b) => b[1] - a[1]);
      const chart = { title: 'Feature importance chart', href: `/api/v1/ml/train/${job.job_id}/charts/feature_importance` };
      if (ranked.length === 0) return { reply: `Job ${job.job_id} (${job.name}) is ${job.status}: its feature importance comes when it completes.`, links: [], suggestions: ['How is the last job?'] };
      const top = ranked.slice(0, 5).map(([feature, value]) => `${feature} (${value.toFixed(3)})`);
      return { reply: `Most important features of ${job.name} (${job.job_id}): ${top.join(', ')}.`, links: [chart], suggestions: ['Deploy the best churn model to production', 'Profile the customer dataset'] };
    }
    case 'deploy': {
      const deployment = last as { model_id: string; model_name: string; status: string; variants?: { version: string; weight: number }[] };
      const versions = deployment.variants?.map((variant) => variant.version).join(', ') ?? '';
      const tool = calls.at(-1)?.tool;
      const done =
        tool === 'ServingController_getDeployment'
          ? `${deployment.model_name} version ${versions} is already serving as ${deployment.model_id} (${deployment.status}): nothing to deploy.`
          : tool === 'ServingController_releaseVersion'
            ? `Released version ${String(calls.at(-1)?.arguments.version)} of ${deployment.model_name} on ${deployment.model_id} (${deployment.status}); the previous version stays warm for a rollback.`
            : `Deployed ${deployment.model_name} version ${versions} as ${deployment.model_id} (${deployment.status}).`;
      return {
        reply: done,
        links: [{ title: 'Deployment', href: `/api/v1/ml/serving/deployments/${deployment.model_id}` }],
        suggestions: ['How accurate is my deployed model?', 'Roll it back'],
      };
    }
    case 'rollback':
    case 'undeploy': {
      const deployment = last as { model_id?: string; variants?: { version: string; weight: number }[] };
      const serving = deployment.variants?.map((variant) => `v${variant.version} ${Math.round(variant.weight * 100)} %`).join(', ');
      return { reply: intent === 'rollback' ? `Rolled back ${String(calls[0].arguments.model_id)}: now serving ${serving ?? 'the previous version'}.` : `Removed deployment ${String(calls[0].arguments.model_id)}.`, links: [], suggestions: ['What is deployed?'] };
    }
    case 'accuracy':
      return composeAccuracy(calls);
    case 'profile': {
      const profile = last as { profile_id?: string; job_id?: string; alerts?: { message: string }[] };
      if (profile.profile_id === undefined) return { reply: `The table is large: profiling runs as job ${String(profile.job_id)}.`, links: [{ title: 'Job progress', href: `/api/v1/ml/jobs/${String(profile.job_id)}/events` }], suggestions: [] };
      const alerts = profile.alerts ?? [];
      return {
        reply: `Profiled ${String((calls[0].arguments.dataset as { table: string }).table)}: ${alerts.length} alert${alerts.length === 1 ? '' : 's'}${alerts.length > 0 ? `: ${alerts.slice(0, 8).map((alert) => alert.message).join('; ')}` : ''}.`,
        links: [{ title: 'Profile report (HTML)', href: `/api/v1/ml/eda/profiles/${profile.profile_id}/report` }, { title: 'Profile charts', href: `/api/v1/ml/eda/profiles/${profile.profile_id}/charts` }],
        suggestions: ['Train a model to predict customer churn'],
      };
    }
    default:
      return { reply: `Done: ${calls.map((call) => call.tool).join(', ')}${summary(last)}.`, links: [], suggestions: [] };
  }
}

function searched(args: Record<string, unknown>): string {
  const space = args.search_space as Record<string, unknown> | undefined;
  return space === undefined ? ' over the default search space' : ` over ${Object.keys(space).join(', ')}`;
}

/** "N items" for a listing, the status for a job. */
function summary(result: StepResult): string {
  const list = Object.values(result).find(Array.isArray);
  if (list !== undefined) return `: ${list.length} found`;
  if (typeof result.status === 'string') return `: ${result.status}`;
  return '';
}

/** Feedback accuracy when there is feedback (saying so), else the deployed version's test metrics (saying so). */
function composeAccuracy(calls: ChatToolCallDto[]): Composed {
  const metrics = calls.find((call) => call.tool === 'ServingController_getServingMetrics')?.result as { model_id: string; variants: { version: string; feedback_count: number; accuracy?: number | null; rmse?: number | null }[] } | undefined;
  const version = calls.find((call) => call.tool === 'RegistryController_getModelVersion' || call.tool === 'TrainingController_getTrainingJob')?.result as { name?: string; version?: string; metrics?: Record<string, number | null> | null } | undefined;
  const withFeedback = metrics?.variants.filter((variant) => variant.feedback_count > 0) ?? [];
  if (withFeedback.length > 0) {
    const parts = withFeedback.map((variant) => `v${variant.version}: ${variant.accuracy !== null && variant.accuracy !== undefined ? `accuracy ${variant.accuracy.toFixed(3)}` : `RMSE ${String(variant.rmse)}`} from ${variant.feedback_count} feedback labels`);
    return { reply: `From feedback on live predictions (${String(metrics?.model_id)}): ${parts.join('; ')}.`, links: [], suggestions: ['Is there drift?'] };
  }
  const test = Object.entries(version?.metrics ?? {})
    .filter(([, value]) => typeof value === 'number')
    .slice(0, 6)
    .map(([name, value]) => `${name} ${(value as number).toFixed(3)}`);
  const prefix = metrics !== undefined ? `No feedback has been recorded for ${metrics.model_id} yet, so these are the test-split metrics of the deployed version` : 'Test-split metrics';
  return { reply: `${prefix}${version?.name !== undefined ? ` (${version.name} v${String(version.version)})` : ''}: ${test.join(', ') || 'none recorded'}.`, links: [], suggestions: ['Send feedback to measure live accuracy', 'Is there drift?'] };
}
