import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ChatAgent, ConversationEntities, Understanding } from '@app/ml/chat/chat-types';
import type { ConversationTurn } from '@app/ml/chat/conversation.store';
import { CAPABILITIES } from '@app/ml/chat/nlu/intents';
import { ML_OPTIONS, type ResolvedMlModuleOptions } from '@app/ml/ml-module-options';
import { ToolRegistry } from '@app/ml/tools/tool-registry';

/** Turns of history sent with a message (the newest). */
const HISTORY_TURNS = 12;

/** The agent of a tool the model chose: by its controller; live serving metrics and drift are monitoring. */
export function agentOfTool(tool: string): ChatAgent {
  if (/^ServingController_(getServingMetrics|getDrift)$/.test(tool)) return 'monitoring';
  const controller = tool.split('_')[0];
  const agents: Record<string, ChatAgent> = {
    TrainingController: 'training',
    JobsController: 'training',
    TuningController: 'tuning',
    ServingController: 'serving',
    EdaController: 'eda',
    EdaComparisonsController: 'eda',
    DatasetsController: 'eda',
    RegistryController: 'registry',
    TrackingController: 'tracking',
    FeaturesController: 'features',
  };
  return agents[controller] ?? 'none';
}

/** The intent whose reply chat composes for a tool the model chose (others get the generic reply). */
const INTENT_OF_TOOL: Record<string, string> = {
  TrainingController_submitTrainingJob: 'train',
  TuningController_submitTuningSweepFromBase: 'tune',
  TuningController_submitTuningSweep: 'tune',
  ServingController_createDeployment: 'deploy',
  ServingController_rollbackDeployment: 'rollback',
  ServingController_deleteDeployment: 'undeploy',
  ServingController_getServingMetrics: 'accuracy',
  EdaController_createProfile: 'profile',
};

interface CompletionMessage {
  content?: string | null;
  tool_calls?: { type?: string; function?: { name?: string; arguments?: string } }[];
}

/**
 * The optional model-driven understanding: an OpenAI-compatible `POST {baseUrl}/chat/completions`
 * with the tool registry as its tools (name, description, the DTO's JSON Schema), the conversation's
 * recent turns and the entities in play. The model only proposes calls: chat validates them with
 * the tools' own validation, asks for a yes before any destructive one and runs them, exactly as
 * for the embedded understanding. Any failure (unreachable, timeout, non-2xx, an unreadable answer,
 * a tool the registry lacks) answers undefined, and chat falls back to the embedded understanding.
 */
@Injectable()
export class LlmPlanner {
  private readonly logger = new Logger(LlmPlanner.name);

  constructor(
    @Inject(ML_OPTIONS) private readonly options: ResolvedMlModuleOptions,
    private readonly registry: ToolRegistry,
  ) {}

  get configured(): boolean {
    return this.options.llm !== null;
  }

  async plan(message: string, history: ConversationTurn[], entities: ConversationEntities, requestId: string): Promise<Understanding | undefined> {
    const llm = this.options.llm;
    if (llm === null) return undefined;
    const { last_arguments: _arguments, ...inPlay } = entities;
    const body = {
      model: llm.model,
      messages: [
        {
          role: 'system',
          content: `You operate a tenant's ML platform through the given tools only. ${CAPABILITIES} Use the REST field names of each tool's schema. Things in play in this conversation (resolve "it", "the last job" with them): ${JSON.stringify(inPlay)}. If the request is outside these tools, call no tool and say so briefly.`,
        },
        ...history.slice(-HISTORY_TURNS - 1, -1).map((turn) => ({ role: turn.role, content: turn.text })),
        { role: 'user', content: message },
      ],
      tools: this.registry.tools.map((tool) => ({ type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.inputSchema } })),
      tool_choice: 'auto',
    };
    let answer: CompletionMessage | undefined;
    try {
      const response = await fetch(`${llm.baseUrl.replace(/\/+$/, '')}/chat/completions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(llm.apiKey ? { Authorization: `Bearer ${llm.apiKey}` } : {}), 'X-Request-ID': requestId },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(llm.timeoutMs ?? 20_000),
      });
      if (!response.ok) throw new Error(`answered ${response.status}`);
      answer = ((await response.json()) as { choices?: { message?: CompletionMessage }[] }).choices?.[0]?.message;
    } catch (error) {
      this.logger.warn(`LLM at ${llm.baseUrl} failed request_id=${requestId}: ${error instanceof Error ? error.message : String(error)}; using the embedded understanding`);
      return undefined;
    }
    return this.toUnderstanding(answer, requestId);
  }

  private toUnderstanding(answer: CompletionMessage | undefined, requestId: string): Understanding | undefined {
    if (answer === undefined) return undefined;
    const calls = answer.tool_calls ?? [];
    if (calls.length === 0) {
      if (typeof answer.content !== 'string' || answer.content.trim() === '') return undefined;
      return { agent: 'none', intent: 'llm_reply', steps: [], reply: answer.content.trim(), entities: {} };
    }
    const steps = [];
    for (const call of calls) {
      const name = call.function?.name ?? '';
      if (this.registry.get(name) === undefined) {
        this.logger.warn(`LLM proposed unknown tool ${name} request_id=${requestId}; using the embedded understanding`);
        return undefined;
      }
      let args: unknown;
      try {
        args = JSON.parse(call.function?.arguments || '{}');
      } catch {
        this.logger.warn(`LLM sent unreadable arguments for ${name} request_id=${requestId}; using the embedded understanding`);
        return undefined;
      }
      if (args === null || typeof args !== 'object' || Array.isArray(args)) return undefined;
      steps.push({ tool: name, arguments: args as Record<string, unknown> });
    }
    const main = steps.at(-1)?.tool ?? '';
    return { agent: agentOfTool(main), intent: INTENT_OF_TOOL[main] ?? 'llm', steps, entities: {} };
  }
}
