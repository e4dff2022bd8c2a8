import { Module } from '@nestjs/common';
import { McpController } from '@app/ml/mcp/mcp.controller';
import { McpServerFactory } from '@app/ml/mcp/mcp-server.factory';
import { ToolsModule } from '@app/ml/tools/tools.module';

/** The MCP server over the tool registry, at /mcp; part of MlModule, so a host application serves it too. */
@Module({
  imports: [ToolsModule],
  controllers: [McpController],
  providers: [McpServerFactory],
})
export class McpModule {}
