using Lightfast.Cloud.Tools;
using Orleans.Concurrency;

namespace Lightfast.Cloud.Servers;

/// <summary>
/// One configured MCP server, keyed by its name. The activation owns the server's single MCP connection:
/// opened by <see cref="StartAsync"/>, reused by every call, closed by <see cref="StopAsync"/>. Reads and tool
/// calls interleave over that connection; configuration and lifecycle changes do not.
/// </summary>
[Alias("lightfast.IMcpServerGrain")]
public interface IMcpServerGrain : IGrainWithStringKey
{
    /// <summary>Stores (or replaces) the server's definition; a running server is restarted with it.</summary>
    [Alias("configure")]
    Task<ServerInfo> ConfigureAsync(ServerDefinition definition, CancellationToken cancellationToken = default);

    /// <summary>Stops the server and forgets its definition.</summary>
    [Alias("remove")]
    Task RemoveAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Connects to the server (starting its process for stdio) and lists its tools. A failure leaves the server
    /// in <see cref="ServerStatus.Error"/> with the error's code in <see cref="ServerInfo.LastError"/> and throws it.
    /// </summary>
    [Alias("start")]
    Task<ServerInfo> StartAsync(CancellationToken cancellationToken = default);

    [Alias("stop")]
    Task<ServerInfo> StopAsync(CancellationToken cancellationToken = default);

    [Alias("restart")]
    Task<ServerInfo> RestartAsync(CancellationToken cancellationToken = default);

    /// <summary>The server's state, or null when no server of this name is configured.</summary>
    [Alias("info"), AlwaysInterleave, ReadOnly]
    Task<ServerInfo?> GetInfoAsync();

    /// <summary>The tools the running server offers.</summary>
    [Alias("tools"), AlwaysInterleave, ReadOnly]
    Task<IReadOnlyList<ToolDescriptor>> ListToolsAsync(CancellationToken cancellationToken = default);

    /// <summary>Calls a tool with arguments given as a JSON object (null for none).</summary>
    [Alias("call"), AlwaysInterleave]
    Task<ToolCallResult> CallToolAsync(string tool, string? argumentsJson, CancellationToken cancellationToken = default);

    /// <summary>Pings the running server over MCP and reports its health; never throws for an unhealthy server.</summary>
    [Alias("health"), AlwaysInterleave]
    Task<ServerHealth> CheckHealthAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Wakes the server up: a server whose desired state is running and that is not connected (its activation was
    /// lost with its silo) reconnects in the background. Returns at once with the current status. Called by the
    /// keeper on every silo; harmless to call at any time.
    /// </summary>
    [Alias("ensure")]
    Task<ServerStatus> EnsureDesiredStateAsync();

    /// <summary>Lists the running server's tools again (done by itself when the server sends <c>tools/list_changed</c>).</summary>
    [Alias("refresh-tools")]
    Task<IReadOnlyList<ToolDescriptor>> RefreshToolsAsync(CancellationToken cancellationToken = default);
}
