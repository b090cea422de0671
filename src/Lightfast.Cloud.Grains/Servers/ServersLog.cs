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

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "MCP server {Server} lost its connection ({Kind}): {Reason}")]
    public static partial void ConnectionLost(ILogger logger, string server, string reason, string kind);

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

    [LoggerMessage(EventId = 1012, Level = LogLevel.Information, Message = "Retrying a call to MCP server {Server} (attempt {Attempt}) in {DelayMs:0} ms after: {Reason}")]
    public static partial void RetryingCall(ILogger logger, string server, int attempt, double delayMs, string? reason);

    [LoggerMessage(EventId = 1013, Level = LogLevel.Warning, Message = "Circuit of MCP server {Server} opened for {BreakSeconds:0.#} s after: {Reason}")]
    public static partial void CircuitOpened(ILogger logger, string server, double breakSeconds, string? reason);

    [LoggerMessage(EventId = 1014, Level = LogLevel.Information, Message = "Circuit of MCP server {Server} is half-open: the next call probes the server")]
    public static partial void CircuitHalfOpened(ILogger logger, string server);

    [LoggerMessage(EventId = 1015, Level = LogLevel.Information, Message = "Circuit of MCP server {Server} closed")]
    public static partial void CircuitClosed(ILogger logger, string server);

    [LoggerMessage(EventId = 1016, Level = LogLevel.Information, Message = "MCP server {Server} no longer knows our session; opening a new one and sending the call once more")]
    public static partial void SessionExpired(ILogger logger, string server);

    [LoggerMessage(EventId = 1017, Level = LogLevel.Debug, Message = "Health of MCP server {Server}: {Health} ({ConsecutiveFailures} failed checks in a row, latency {LatencyMs} ms)")]
    public static partial void HealthChecked(ILogger logger, string server, HealthStatus health, int consecutiveFailures, double? latencyMs);

    [LoggerMessage(EventId = 1018, Level = LogLevel.Warning, Message = "Restarting MCP server {Server} ({Restart} of {MaxRestarts}) in {DelayMs:0} ms")]
    public static partial void Restarting(ILogger logger, string server, int restart, int maxRestarts, double delayMs);

    [LoggerMessage(EventId = 1019, Level = LogLevel.Warning, Message = "Restart of MCP server {Server} failed: {Code} {Message}")]
    public static partial void RestartFailed(ILogger logger, string server, string code, string message);

    [LoggerMessage(EventId = 1020, Level = LogLevel.Error, Message = "MCP server {Server} was restarted {MaxRestarts} times and is not restarted again. Last: {Last}")]
    public static partial void RestartsExhausted(ILogger logger, string server, int maxRestarts, string last);

    [LoggerMessage(EventId = 1021, Level = LogLevel.Information, Message = "MCP server {Server} connected again ({Reason}; {Reconnects} reconnects so far)")]
    public static partial void Reconnected(ILogger logger, string server, string reason, int reconnects);

    [LoggerMessage(EventId = 1022, Level = LogLevel.Information, Message = "MCP server {Server} says its tools changed")]
    public static partial void ToolsChanged(ILogger logger, string server);

    [LoggerMessage(EventId = 1023, Level = LogLevel.Information, Message = "Tools of MCP server {Server} listed again: {ToolCount} tools")]
    public static partial void ToolsRefreshed(ILogger logger, string server, int toolCount);

    [LoggerMessage(EventId = 1024, Level = LogLevel.Warning, Message = "Tools of MCP server {Server} could not be listed again after it said they changed")]
    public static partial void ToolsRefreshFailed(ILogger logger, Exception exception, string server);

    [LoggerMessage(EventId = 1025, Level = LogLevel.Warning, Message = "The server keeper could not check desired states")]
    public static partial void KeeperSweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1026, Level = LogLevel.Debug, Message = "Server keeper: {Count} servers checked")]
    public static partial void KeeperSwept(ILogger logger, int count);
}
