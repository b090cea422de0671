using Microsoft.Extensions.Logging;

namespace Lightfast.Cloud.Servers;

/// <summary>Log events of the server and registry grains. Never log env or header values: they are secrets.</summary>
internal static partial class ServersLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Starting MCP server {Server} over {Transport}")]
    public static partial void Starting(ILogger logger, string server, McpTransportKind transport);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "MCP server {Server} is running ({ServerVersion}, protocol {ProtocolVersion}) with {ToolCount} tools")]
    public static partial void Started(ILogger logger, string server, string? serverVersion, string? protocolVersion, int toolCount);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "MCP server {Server} failed to start: {Code}")]
    public static partial void StartFailed(ILogger logger, Exception exception, string server, string code);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "MCP server {Server} stopped")]
    public static partial void Stopped(ILogger logger, string server);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "MCP server {Server} lost its connection: {Reason}")]
    public static partial void ConnectionLost(ILogger logger, string server, string reason);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "MCP server {Server} configured ({Transport}, enabled {Enabled})")]
    public static partial void Configured(ILogger logger, string server, McpTransportKind transport, bool enabled);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Information, Message = "MCP server {Server} removed")]
    public static partial void Removed(ILogger logger, string server);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Warning, Message = "Tool call {Server}/{Tool} failed: {Code}")]
    public static partial void ToolCallFailed(ILogger logger, Exception exception, string server, string tool, string code);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Warning, Message = "MCP server {Server} did not answer a ping: {Reason}")]
    public static partial void PingFailed(ILogger logger, string server, string reason);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Information, Message = "Resuming MCP server {Server}: its desired state is running")]
    public static partial void Resuming(ILogger logger, string server);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Warning, Message = "Registry operation {Operation} failed for server {Server}: {Code}")]
    public static partial void BulkOperationFailed(ILogger logger, Exception exception, string operation, string server, string code);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning, Message = "Error while closing the connection of MCP server {Server}")]
    public static partial void CloseFailed(ILogger logger, Exception exception, string server);
}
