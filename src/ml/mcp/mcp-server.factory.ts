import { HttpException, Injectable, Logger } from '@nestjs/common';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, type CallToolResult, ListToolsRequestSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { FieldErrorsException } from '@app/common/filters/field-errors.exception';
import type { TenantContext } from '@app/common/tenant/tenant-context';
import type { MlTool } from '@app/ml/tools/ml-tool';
import { ToolRegistry } from '@app/ml/tools/tool-registry';

/** The argument that carries a caller's yes to a destructive tool. */
export const CONFIRM_ARGUMENT = 'confirm';

/**
 * Builds the MCP server (the SDK's low-level `Server`) for one caller: the registry's tools with
 * their MCP annotations, each call run for that caller's tenant. A server per request keeps the
 * endpoint stateless (no session to pin to a replica) and makes it impossible for one tenant's call
 * to run with another's context.
 */
@Injectable()
export class McpServerFactory {
  private readonly logger = new Logger(McpServerFactory.name);

  constructor(private readonly registry: ToolRegistry) {}

  serverFor(caller: TenantContext): Server {
    const server = new Server({ name: 'ai-service-ml', version: '0.1.0' }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: this.registry.tools.map(toMcpTool) }));
    server.setRequestHandler(CallToolRequestSchema, async (request) => {
      const tool = this.registry.get(request.params.name);
      if (tool === undefined) {
        return failure(`Unknown tool ${request.params.name}; tools/list names them`);
      }
      return this.call(tool, request.params.arguments ?? {}, caller);
    });
    return server;
  }

  /**
   * Validates, then refuses a destructive tool without `"confirm": true` (a result with isError and
   * the exact plan, nothing done), then runs it. Errors are results, as MCP asks, with REST's
   * status, message and field errors.
   */
  private async call(tool: MlTool, rawArguments: Record<string, unknown>, caller: TenantContext): Promise<CallToolResult> {
    const { [CONFIRM_ARGUMENT]: confirm, ...args } = rawArguments;
    try {
      const input = await tool.prepare(args, caller);
      if (tool.risk === 'destructive' && confirm !== true) {
        const plan = { tool: tool.name, arguments: args };
        return {
          isError: true,
          content: [
            {
              type: 'text',
              text: `Not done: ${tool.name} (${tool.title}) is destructive and needs confirmation. Plan: ${JSON.stringify(plan)}. Call it again with the same arguments and "${CONFIRM_ARGUMENT}": true to carry it out.`,
            },
          ],
          structuredContent: { needs_confirmation: true, plan },
        };
      }
      const result = await tool.run(input, caller);
      return success(result);
    } catch (error) {
      if (error instanceof HttpException) {
        const body = { status: error.getStatus(), message: error.message, ...(error instanceof FieldErrorsException && error.fieldErrors.length > 0 ? { errors: error.fieldErrors } : {}) };
        return { isError: true, content: [{ type: 'text', text: JSON.stringify(body) }], structuredContent: body };
      }
      this.logger.error(`tool ${tool.name} failed request_id=${caller.requestId}`, error instanceof Error ? error.stack : String(error));
      return failure(`Internal error (request_id ${caller.requestId})`);
    }
  }
}

/** The tool as tools/list shows it; destructive ones take the confirmation argument. */
export function toMcpTool(tool: MlTool): Tool {
  const schema = tool.inputSchema as Tool['inputSchema'];
  const inputSchema =
    tool.risk === 'destructive'
      ? {
          ...schema,
          properties: {
            ...schema.properties,
            [CONFIRM_ARGUMENT]: { type: 'boolean', description: 'true carries the call out; without it the call only answers its plan (nothing is changed).' },
          },
        }
      : schema;
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema,
    annotations: {
      title: tool.title,
      readOnlyHint: tool.risk === 'read',
      destructiveHint: tool.risk === 'destructive',
      // Reads repeat safely; a repeated submission starts another job, a repeated cancel fails.
      idempotentHint: tool.risk === 'read',
      // The tools act inside the caller's own ML platform, never on the open world.
      openWorldHint: false,
    },
  };
}

function success(result: unknown): CallToolResult {
  if (result === undefined) {
    return { content: [{ type: 'text', text: 'Done.' }] };
  }
  const structured = result !== null && typeof result === 'object' && !Array.isArray(result) ? { structuredContent: result as Record<string, unknown> } : {};
  return { content: [{ type: 'text', text: JSON.stringify(result) }], ...structured };
}

function failure(message: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: message }] };
}
