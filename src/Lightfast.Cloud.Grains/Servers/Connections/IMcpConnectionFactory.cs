namespace Lightfast.Cloud.Servers.Connections;

/// <summary>Opens MCP connections to configured servers.</summary>
public interface IMcpConnectionFactory
{
    /// <summary>
    /// Connects and initializes the MCP session. Throws a <see cref="Errors.ServerException"/> with
    /// <c>SERVER_COMMAND_NOT_FOUND</c>, <c>SERVER_START_FAILED</c> or <c>SERVER_CONNECTION_FAILED</c>.
    /// </summary>
    Task<McpConnection> ConnectAsync(ServerDefinition definition, CancellationToken cancellationToken);
}
