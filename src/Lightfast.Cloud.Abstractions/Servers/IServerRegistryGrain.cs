using Lightfast.Cloud.Tools;
using Orleans.Concurrency;

namespace Lightfast.Cloud.Servers;

/// <summary>
/// The set of configured servers of one tenant (<see cref="DefaultKey"/> for now). It validates definitions,
/// fans lifecycle operations out to the server grains with bounded concurrency and aggregates their tools.
/// Bulk operations return one result per server; one failing server never fails the others.
/// </summary>
[Alias("lightfast.IServerRegistryGrain")]
public interface IServerRegistryGrain : IGrainWithStringKey
{
    /// <summary>The key of the registry used when there is a single tenant.</summary>
    const string DefaultKey = "default";

    /// <summary>
    /// Registers a new server (<c>SERVER_ALREADY_EXISTS</c> if the name is taken) and starts it when enabled.
    /// A server that fails to start is still registered, in the Error state.
    /// </summary>
    [Alias("add")]
    Task<ServerInfo> AddServerAsync(ServerDefinition definition, CancellationToken cancellationToken = default);

    /// <summary>Creates or replaces a server's definition; a running server is restarted with the new one.</summary>
    [Alias("put")]
    Task<PutServerResult> PutServerAsync(ServerDefinition definition, CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates or replaces several servers at once (a servers file): all are validated first and nothing is
    /// stored if any is invalid; then the enabled ones are started, a bounded number at a time.
    /// </summary>
    [Alias("import")]
    Task<IReadOnlyList<ServerOperationResult>> ImportAsync(IReadOnlyList<ServerDefinition> definitions, CancellationToken cancellationToken = default);

    /// <summary>Stops and removes a server (<c>SERVER_NOT_FOUND</c> if there is none).</summary>
    [Alias("remove")]
    Task RemoveServerAsync(string name, CancellationToken cancellationToken = default);

    [Alias("list"), AlwaysInterleave, ReadOnly]
    Task<IReadOnlyList<ServerInfo>> ListServersAsync(CancellationToken cancellationToken = default);

    /// <summary>Starts every enabled server, a bounded number at a time.</summary>
    [Alias("start-all")]
    Task<IReadOnlyList<ServerOperationResult>> StartAllAsync(CancellationToken cancellationToken = default);

    [Alias("stop-all")]
    Task<IReadOnlyList<ServerOperationResult>> StopAllAsync(CancellationToken cancellationToken = default);

    [Alias("health"), AlwaysInterleave, ReadOnly]
    Task<IReadOnlyList<ServerHealth>> GetHealthAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Asks every server to be in its desired state (see <see cref="IMcpServerGrain.EnsureDesiredStateAsync"/>), so
    /// that servers that should run come back after the loss of a silo. Returns how many servers were asked.
    /// </summary>
    [Alias("ensure"), AlwaysInterleave]
    Task<int> EnsureDesiredStateAsync(CancellationToken cancellationToken = default);

    /// <summary>The tools of all running servers under their qualified names.</summary>
    [Alias("catalog"), AlwaysInterleave, ReadOnly]
    Task<ToolCatalog> GetToolCatalogAsync(CancellationToken cancellationToken = default);
}
