import { Controller, Delete, Get, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { type HttpRequest, nodeRequestOf, takeOverResponse } from '@app/common/http/node-http';
import { CallerTenant, type TenantContext } from '@app/common/tenant/tenant-context';
import { TenantGuard } from '@app/common/tenant/tenant.guard';
import { McpServerFactory } from '@app/ml/mcp/mcp-server.factory';

/**
 * MCP over Streamable HTTP at /mcp, stateless: each POST is answered by a fresh server and
 * transport for the caller, authenticated exactly as REST (TenantGuard: X-API-Key or
 * `Authorization: Bearer <api key>`, 401 otherwise). JSON-RPC, not REST, so not in the Swagger
 * document; README shows how to connect.
 */
@ApiExcludeController()
@UseGuards(TenantGuard)
@Controller('mcp')
export class McpController {
  constructor(private readonly servers: McpServerFactory) {}

  @Post()
  async handle(@Req() request: HttpRequest, @Res() reply: object, @CallerTenant() caller: TenantContext): Promise<void> {
    const response = takeOverResponse(reply);
    const server = this.servers.serverFor(caller);
    // JSON answers rather than an SSE stream per call: the tools answer once, without notifications.
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    response.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(nodeRequestOf(request), response, request.body);
  }

  /** Stateless: no server-initiated stream (GET) and no session to end (DELETE); the SDK's clients accept 405. */
  @Get()
  @Delete()
  @HttpCode(405)
  refuse(): object {
    return { jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this MCP endpoint is stateless; POST JSON-RPC requests.' }, id: null };
  }
}
