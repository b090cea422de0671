using Lightfast.Cloud.Errors;
using Lightfast.Cloud.Persistence;
using Lightfast.Cloud.Servers.Configuration;
using Lightfast.Cloud.Tools;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lightfast.Cloud.Servers;

/// <summary>The names of a registry's servers; each server's definition lives in its own grain.</summary>
[GenerateSerializer]
[Alias("lightfast.ServerRegistryState")]
public sealed class ServerRegistryState
{
    [Id(0)]
    public SortedSet<string> Names { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Knows which servers are configured, validates their definitions, and fans bulk operations out to the server
/// grains, at most <see cref="ServerRegistryOptions.MaxConcurrency"/> at a time, one result per server.
/// </summary>
public sealed class ServerRegistryGrain(
    [PersistentState("registry")] IPersistentState<ServerRegistryState> state,
    IOptions<ServerRegistryOptions> options,
    TimeProvider time,
    ILogger<ServerRegistryGrain> logger) : Grain, IServerRegistryGrain
{
    public async Task<ServerInfo> AddServerAsync(ServerDefinition definition, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ServerSpecValidator.EnsureValid(definition);
        if (state.State.Names.Contains(definition.Name))
        {
            throw (ConflictException)new ConflictException(ErrorCodes.ServerAlreadyExists, $"An MCP server named '{definition.Name}' is already registered; use PUT to replace it.")
                .WithDetail("server", definition.Name);
        }

        return await StoreAsync(definition, cancellationToken);
    }

    public async Task<PutServerResult> PutServerAsync(ServerDefinition definition, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ServerSpecValidator.EnsureValid(definition);
        var created = !state.State.Names.Contains(definition.Name);
        return new PutServerResult(await StoreAsync(definition, cancellationToken), created);
    }

    public async Task<IReadOnlyList<ServerOperationResult>> ImportAsync(IReadOnlyList<ServerDefinition> definitions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(definitions);
        var errors = new List<ValidationError>();
        for (var i = 0; i < definitions.Count; i++)
        {
            ServerSpecValidator.Validate(definitions[i], $"servers[{i}]", errors);
        }

        foreach (var duplicate in definitions.GroupBy(d => d.Name, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            errors.Add(new ValidationError("servers", $"the name '{duplicate.Key}' is used {duplicate.Count()} times"));
        }

        if (errors.Count > 0)
        {
            throw new ValidationException(errors);
        }

        var byName = definitions.ToDictionary(d => d.Name, StringComparer.Ordinal);
        var infos = await ForEachServerAsync(byName.Keys, (server, ct) => server.ConfigureAsync(byName[server.GetPrimaryKeyString()], ct), cancellationToken);
        var added = false;
        foreach (var name in byName.Keys)
        {
            added |= state.State.Names.Add(name);
        }

        if (added)
        {
            await state.WriteOrRejectAsync(StateName, cancellationToken);
        }

        var toStart = infos.Where(i => i.Enabled && i.Status != ServerStatus.Running).Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        return await ForEachServerAsync(byName.Keys, async (server, ct) =>
        {
            var name = server.GetPrimaryKeyString();
            if (toStart.Contains(name))
            {
                return await RunAsync("start", server, server.StartAsync, ct);
            }

            var info = await server.GetInfoAsync();
            return new ServerOperationResult(name, true, info?.Status ?? ServerStatus.Stopped, info?.LastError);
        }, cancellationToken);
    }

    public async Task RemoveServerAsync(string name, CancellationToken cancellationToken = default)
    {
        if (!state.State.Names.Contains(name))
        {
            throw NotFoundException.Server(name);
        }

        await Server(name).RemoveAsync(cancellationToken);
        state.State.Names.Remove(name);
        await state.WriteOrRejectAsync(StateName, cancellationToken);
    }

    public async Task<IReadOnlyList<ServerInfo>> ListServersAsync(CancellationToken cancellationToken = default)
    {
        var infos = await ForEachServerAsync(state.State.Names, (server, _) => server.GetInfoAsync(), cancellationToken);
        return [.. infos.OfType<ServerInfo>()];
    }

    public async Task<IReadOnlyList<ServerOperationResult>> StartAllAsync(CancellationToken cancellationToken = default)
    {
        var infos = await ForEachServerAsync(state.State.Names, (server, _) => server.GetInfoAsync(), cancellationToken);
        var enabled = infos.OfType<ServerInfo>().Where(i => i.Enabled).Select(i => i.Name).ToList();
        return await ForEachServerAsync(enabled, (server, ct) => RunAsync("start", server, server.StartAsync, ct), cancellationToken);
    }

    public Task<IReadOnlyList<ServerOperationResult>> StopAllAsync(CancellationToken cancellationToken = default) =>
        ForEachServerAsync(state.State.Names, (server, ct) => RunAsync("stop", server, server.StopAsync, ct), cancellationToken);

    public Task<IReadOnlyList<ServerHealth>> GetHealthAsync(CancellationToken cancellationToken = default) =>
        ForEachServerAsync(state.State.Names, async (server, ct) =>
        {
            var name = server.GetPrimaryKeyString();
            try
            {
                return await server.CheckHealthAsync(ct);
            }
            catch (LightfastException ex)
            {
                ServersLog.BulkOperationFailed(logger, ex, "health", name, ex.Code);
                return new ServerHealth(name, HealthStatus.Unhealthy, ServerStatus.Error, time.GetUtcNow(), null, new ServerError(ex.Code, ex.Message, time.GetUtcNow()));
            }
        }, cancellationToken);

    public async Task<int> EnsureDesiredStateAsync(CancellationToken cancellationToken = default)
    {
        var names = state.State.Names.ToList();
        await ForEachServerAsync(names, (server, _) => server.EnsureDesiredStateAsync(), cancellationToken);
        return names.Count;
    }

    public async Task<ToolCatalog> GetToolCatalogAsync(CancellationToken cancellationToken = default)
    {
        var perServer = await ForEachServerAsync(state.State.Names, async (server, ct) =>
        {
            var name = server.GetPrimaryKeyString();
            try
            {
                return (name, Tools: await server.ListToolsAsync(ct), Error: (ServerOperationResult?)null);
            }
            catch (LightfastException ex)
            {
                return (name, Tools: (IReadOnlyList<ToolDescriptor>)[], Error: await FailedAsync(server, ex));
            }
        }, cancellationToken);

        var tools = new List<CatalogTool>();
        var unavailable = new List<ServerOperationResult>();
        foreach (var (name, serverTools, error) in perServer)
        {
            if (error is not null)
            {
                unavailable.Add(error);
                continue;
            }

            tools.AddRange(serverTools.Select(tool => new CatalogTool
            {
                QualifiedName = ToolNameQualifier.Qualify(name, tool.Name),
                Server = name,
                Tool = tool.Name,
                Title = tool.Title,
                Description = tool.Description,
                InputSchema = tool.InputSchema,
                OutputSchema = tool.OutputSchema,
            }));
        }

        return new ToolCatalog([.. tools.OrderBy(t => t.QualifiedName, StringComparer.Ordinal)], unavailable);
    }

    /// <summary>How storage errors name this grain's state.</summary>
    private string StateName => $"Server registry '{this.GetPrimaryKeyString()}'";

    private async Task<ServerInfo> StoreAsync(ServerDefinition definition, CancellationToken cancellationToken)
    {
        var server = Server(definition.Name);
        var info = await server.ConfigureAsync(definition, cancellationToken);
        if (state.State.Names.Add(definition.Name))
        {
            await state.WriteOrRejectAsync(StateName, cancellationToken);
        }

        if (definition.Enabled && info.Status is not ServerStatus.Running)
        {
            try
            {
                info = await server.StartAsync(cancellationToken);
            }
            catch (LightfastException ex)
            {
                // The server is registered; it shows the Error state with this error's code.
                ServersLog.BulkOperationFailed(logger, ex, "start", definition.Name, ex.Code);
                info = await server.GetInfoAsync() ?? info;
            }
        }

        return info;
    }

    private async Task<ServerOperationResult> RunAsync(
        string operation,
        IMcpServerGrain server,
        Func<CancellationToken, Task<ServerInfo>> action,
        CancellationToken cancellationToken)
    {
        var name = server.GetPrimaryKeyString();
        try
        {
            var info = await action(cancellationToken);
            return new ServerOperationResult(name, true, info.Status, null);
        }
        catch (LightfastException ex)
        {
            ServersLog.BulkOperationFailed(logger, ex, operation, name, ex.Code);
            return await FailedAsync(server, ex);
        }
    }

    /// <summary>A server's failed part of a bulk operation, with the state the server is in now.</summary>
    private async Task<ServerOperationResult> FailedAsync(IMcpServerGrain server, LightfastException error)
    {
        var status = (await server.GetInfoAsync())?.Status ?? ServerStatus.Error;
        return new ServerOperationResult(server.GetPrimaryKeyString(), false, status, new ServerError(error.Code, error.Message, time.GetUtcNow()));
    }

    /// <summary>Runs <paramref name="work"/> for each server, at most MaxConcurrency at once, keeping the order of names.</summary>
    private async Task<IReadOnlyList<T>> ForEachServerAsync<T>(
        IEnumerable<string> names,
        Func<IMcpServerGrain, CancellationToken, Task<T>> work,
        CancellationToken cancellationToken)
    {
        using var gate = new SemaphoreSlim(options.Value.MaxConcurrency);
        var tasks = names.ToList().Select(async name =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                return await work(Server(name), cancellationToken);
            }
            finally
            {
                gate.Release();
            }
        });
        return await Task.WhenAll(tasks);
    }

    private IMcpServerGrain Server(string name) => GrainFactory.GetGrain<IMcpServerGrain>(name);
}
