using Lightfast.Cloud.Errors;
using Lightfast.Cloud.Servers.Configuration;
using Lightfast.Cloud.Servers.Connections;
using Lightfast.Cloud.Tools;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.Client;

namespace Lightfast.Cloud.Servers;

/// <summary>
/// Owns one MCP server: its persisted definition and desired state, and at runtime its single open
/// <see cref="McpClient"/>, which every tool call reuses. Tool calls, tool listings, pings and info interleave
/// (see the interface); configuration and lifecycle changes run one at a time.
/// </summary>
public sealed class McpServerGrain(
    [PersistentState("server")] IPersistentState<McpServerState> state,
    IMcpConnectionFactory connections,
    IOptions<McpConnectionOptions> options,
    TimeProvider time,
    ILogger<McpServerGrain> logger) : Grain, IMcpServerGrain
{
    /// <summary>A running server's activation is kept, because it holds the connection.</summary>
    private static readonly TimeSpan KeepRunningServerActive = TimeSpan.FromDays(3650);

    private McpConnection? _connection;
    private ServerStatus _status = ServerStatus.Stopped;
    private DateTimeOffset? _startedAt;
    private ServerError? _lastError;
    private long _callCount;
    private Dictionary<string, ToolDescriptor> _tools = new(StringComparer.Ordinal);

    private string Name => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _tools = state.State.Tools.ToDictionary(t => t.Name, StringComparer.Ordinal);
        if (state.State.Definition is not null && state.State.DesiredState == DesiredState.Running)
        {
            // Come back by ourselves: the activation was lost (silo restart, collection) while the server should run.
            this.RegisterGrainTimer(
                static (grain, ct) => grain.ResumeAsync(ct),
                this,
                new GrainTimerCreationOptions { DueTime = TimeSpan.Zero, Period = Timeout.InfiniteTimeSpan });
        }

        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Graceful silo shutdown or collection: close the connection (for stdio this ends the child process).
        await DisconnectAsync();
    }

    public async Task<ServerInfo> ConfigureAsync(ServerDefinition definition, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ServerSpecValidator.EnsureValid(definition);
        if (!string.Equals(definition.Name, Name, StringComparison.Ordinal))
        {
            throw new ValidationException("name", $"'{definition.Name}' does not match the server grain '{Name}'");
        }

        var wasConnected = _connection is not null;
        state.State.Definition = definition;
        if (!definition.Enabled)
        {
            state.State.DesiredState = DesiredState.Stopped;
        }

        await state.WriteStateAsync(cancellationToken);
        ServersLog.Configured(logger, Name, definition.Transport, definition.Enabled);

        if (wasConnected)
        {
            await DisconnectAsync();
            if (state.State.DesiredState == DesiredState.Running)
            {
                await TryConnectAsync(definition, cancellationToken);
            }
        }

        return BuildInfo();
    }

    public async Task RemoveAsync(CancellationToken cancellationToken = default)
    {
        RequireDefinition();
        await DisconnectAsync();
        await state.ClearStateAsync(cancellationToken);
        state.State = new McpServerState();
        _tools = new(StringComparer.Ordinal);
        _lastError = null;
        _status = ServerStatus.Stopped;
        ServersLog.Removed(logger, Name);
        DeactivateOnIdle();
    }

    public async Task<ServerInfo> StartAsync(CancellationToken cancellationToken = default)
    {
        var definition = RequireDefinition();
        if (_connection is not null)
        {
            return BuildInfo();
        }

        if (state.State.DesiredState != DesiredState.Running)
        {
            state.State.DesiredState = DesiredState.Running;
            await state.WriteStateAsync(cancellationToken);
        }

        await ConnectAsync(definition, cancellationToken);
        return BuildInfo();
    }

    public async Task<ServerInfo> StopAsync(CancellationToken cancellationToken = default)
    {
        RequireDefinition();
        if (state.State.DesiredState != DesiredState.Stopped)
        {
            state.State.DesiredState = DesiredState.Stopped;
            await state.WriteStateAsync(cancellationToken);
        }

        await DisconnectAsync();
        _status = ServerStatus.Stopped;
        _lastError = null;
        return BuildInfo();
    }

    public async Task<ServerInfo> RestartAsync(CancellationToken cancellationToken = default)
    {
        RequireDefinition();
        await DisconnectAsync();
        return await StartAsync(cancellationToken);
    }

    public Task<ServerInfo?> GetInfoAsync() =>
        Task.FromResult(state.State.Definition is null ? null : BuildInfo());

    public Task<IReadOnlyList<ToolDescriptor>> ListToolsAsync(CancellationToken cancellationToken = default)
    {
        RequireRunning();
        return Task.FromResult<IReadOnlyList<ToolDescriptor>>([.. _tools.Values.OrderBy(t => t.Name, StringComparer.Ordinal)]);
    }

    public async Task<ToolCallResult> CallToolAsync(string tool, string? argumentsJson, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(tool);
        var connection = RequireRunning();
        var definition = state.State.Definition!;
        if (!_tools.TryGetValue(tool, out var descriptor))
        {
            throw NotFoundException.Tool(Name, tool);
        }

        var arguments = ToolArguments.Parse(argumentsJson, Name, descriptor);
        _callCount++;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(definition.CallTimeout);
        var started = time.GetTimestamp();
        try
        {
            var result = await connection.Client.CallToolAsync(tool, arguments, cancellationToken: timeout.Token);
            return ToolMapper.ToResult(Name, tool, result, time.GetElapsedTime(started));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException ex)
        {
            throw Logged(new ToolExecutionException(
                ErrorCodes.ToolTimeout,
                ErrorCategory.Timeout,
                Name,
                tool,
                $"Tool '{tool}' of server '{Name}' did not answer within {definition.CallTimeout.TotalSeconds:0.###} s; the call was cancelled.",
                ex), tool);
        }
        catch (McpProtocolException ex) when (ex.ErrorCode == McpErrorCode.InvalidParams)
        {
            throw Logged(new ToolExecutionException(
                ErrorCodes.ToolInvalidArguments,
                ErrorCategory.Unprocessable,
                Name,
                tool,
                $"Server '{Name}' rejected the arguments of tool '{tool}': {ex.Message}",
                ex), tool);
        }
        catch (McpProtocolException ex)
        {
            throw Logged(new ToolExecutionException(
                ErrorCodes.ToolCallFailed,
                ErrorCategory.Upstream,
                Name,
                tool,
                $"Tool '{tool}' of server '{Name}' failed with MCP error {(int)ex.ErrorCode}: {ex.Message}",
                ex), tool);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or McpException)
        {
            var lost = await OnConnectionLostAsync(connection, ex.Message);
            throw Logged(new ServerException(
                ErrorCodes.ServerConnectionFailed,
                ErrorCategory.Upstream,
                Name,
                $"The connection to MCP server '{Name}' failed during a call to '{tool}': {lost}",
                ex), tool);
        }
    }

    public async Task<ServerHealth> CheckHealthAsync(CancellationToken cancellationToken = default)
    {
        RequireDefinition();
        var now = time.GetUtcNow();
        var connection = _connection;
        if (connection is null || _status != ServerStatus.Running)
        {
            var health = _status is ServerStatus.Stopped ? HealthStatus.Stopped : HealthStatus.Unhealthy;
            return new ServerHealth(Name, health, _status, now, null, _lastError);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.PingTimeout);
        var started = time.GetTimestamp();
        try
        {
            await connection.Client.PingAsync(cancellationToken: timeout.Token);
            return new ServerHealth(Name, HealthStatus.Healthy, _status, now, time.GetElapsedTime(started).TotalMilliseconds, null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException or McpException)
        {
            var reason = ex is OperationCanceledException
                ? $"no answer to ping within {options.Value.PingTimeout.TotalSeconds:0.###} s"
                : ex.Message;
            ServersLog.PingFailed(logger, Name, reason);
            return new ServerHealth(Name, HealthStatus.Unhealthy, _status, now, null, new ServerError(ErrorCodes.ServerUnavailable, reason, now));
        }
    }

    private async Task ResumeAsync(CancellationToken cancellationToken)
    {
        if (_connection is null && state.State is { Definition: { } definition, DesiredState: DesiredState.Running })
        {
            ServersLog.Resuming(logger, Name);
            await TryConnectAsync(definition, cancellationToken);
        }
    }

    /// <summary>Connects, recording a failure in the server's state instead of throwing it.</summary>
    private async Task TryConnectAsync(ServerDefinition definition, CancellationToken cancellationToken)
    {
        try
        {
            await ConnectAsync(definition, cancellationToken);
        }
        catch (LightfastException)
        {
            // Already recorded in _lastError and logged by ConnectAsync; the server shows the Error state.
        }
    }

    private async Task ConnectAsync(ServerDefinition definition, CancellationToken cancellationToken)
    {
        _status = ServerStatus.Starting;
        _lastError = null;
        ServersLog.Starting(logger, Name, definition.Transport);
        McpConnection? connection = null;
        try
        {
            connection = await connections.ConnectAsync(definition, cancellationToken);
            var tools = await ListServerToolsAsync(definition, connection, cancellationToken);
            _connection = connection;
            _tools = tools.ToDictionary(t => t.Name, StringComparer.Ordinal);
            _status = ServerStatus.Running;
            _startedAt = time.GetUtcNow();
            state.State.Tools = tools;
            await state.WriteStateAsync(cancellationToken);
            DelayDeactivation(KeepRunningServerActive);
            _ = ObserveCompletionAsync(connection);
            var serverVersion = ServerVersion(connection);
            ServersLog.Started(logger, Name, serverVersion, connection.Client.NegotiatedProtocolVersion, tools.Count);
        }
        catch (LightfastException ex)
        {
            await FailStartAsync(connection, ex);
            throw;
        }
        catch (OperationCanceledException)
        {
            await FailStartAsync(connection, null);
            throw;
        }
    }

    private async Task<List<ToolDescriptor>> ListServerToolsAsync(ServerDefinition definition, McpConnection connection, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.StartTimeout);
        try
        {
            var tools = await connection.Client.ListToolsAsync(cancellationToken: timeout.Token);
            return [.. tools.Select(ToolMapper.ToDescriptor)];
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is OperationCanceledException or IOException or HttpRequestException or McpException)
        {
            throw new ServerException(
                ErrorCodes.ServerStartFailed,
                ErrorCategory.Upstream,
                definition.Name,
                $"MCP server '{definition.Name}' connected but could not list its tools: {ex.Message}",
                ex);
        }
    }

    private async Task FailStartAsync(McpConnection? connection, LightfastException? error)
    {
        if (connection is not null)
        {
            await CloseAsync(connection);
        }

        _connection = null;
        if (error is null)
        {
            _status = ServerStatus.Stopped;
            return;
        }

        _status = ServerStatus.Error;
        _lastError = new ServerError(error.Code, error.Message, time.GetUtcNow());
        ServersLog.StartFailed(logger, error, Name, error.Code);
    }

    private async Task ObserveCompletionAsync(McpConnection connection)
    {
        var details = await connection.Client.Completion;
        if (!ReferenceEquals(_connection, connection))
        {
            return; // closed on purpose
        }

        var reason = details switch
        {
            StdioClientCompletionDetails stdio => $"the server process exited (exit code {stdio.ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"})"
                + (connection.StandardErrorTail is { Length: > 0 } tail ? $"; stderr: {tail}" : string.Empty),
            _ => details.Exception?.Message ?? "the session ended",
        };
        await OnConnectionLostAsync(connection, reason);
    }

    private async Task<string> OnConnectionLostAsync(McpConnection connection, string reason)
    {
        if (ReferenceEquals(_connection, connection))
        {
            _connection = null;
            _status = ServerStatus.Error;
            _lastError = new ServerError(ErrorCodes.ServerConnectionFailed, $"Connection lost: {reason}", time.GetUtcNow());
            ServersLog.ConnectionLost(logger, Name, reason);
            await CloseAsync(connection);
        }

        return reason;
    }

    private async Task DisconnectAsync()
    {
        var connection = _connection;
        if (connection is null)
        {
            return;
        }

        _status = ServerStatus.Stopping;
        _connection = null;
        await CloseAsync(connection);
        _status = ServerStatus.Stopped;
        _startedAt = null;
        ServersLog.Stopped(logger, Name);
    }

    private async Task CloseAsync(McpConnection connection)
    {
        try
        {
            await connection.DisposeAsync();
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or McpException or InvalidOperationException or OperationCanceledException)
        {
            // The connection is gone either way; what failed while closing it is worth a warning, not a failure.
            ServersLog.CloseFailed(logger, ex, Name);
        }
    }

    private ServerDefinition RequireDefinition() =>
        state.State.Definition ?? throw NotFoundException.Server(Name);

    private McpConnection RequireRunning()
    {
        RequireDefinition();
        return _connection is { } connection && _status == ServerStatus.Running
            ? connection
            : throw ServerException.NotRunning(Name, _status);
    }

    private LightfastException Logged(LightfastException exception, string tool)
    {
        ServersLog.ToolCallFailed(logger, exception, Name, tool, exception.Code);
        return exception;
    }

    private static string? ServerVersion(McpConnection connection) =>
        connection.Client.ServerInfo is { } info ? $"{info.Name} {info.Version}" : null;

    private ServerInfo BuildInfo()
    {
        var definition = state.State.Definition!;
        return new ServerInfo
        {
            Name = definition.Name,
            Description = definition.Description,
            Transport = definition.Transport,
            Status = _status,
            DesiredState = state.State.DesiredState,
            Enabled = definition.Enabled,
            StartedAt = _startedAt,
            LastError = _lastError,
            ToolCount = _status == ServerStatus.Running ? _tools.Count : 0,
            CallCount = _callCount,
            Command = definition.Command,
            Args = definition.Args,
            WorkingDirectory = definition.WorkingDirectory,
            Url = definition.Url,
            EnvNames = [.. definition.Env.Keys.Order(StringComparer.Ordinal)],
            HeaderNames = [.. definition.Headers.Keys.Order(StringComparer.OrdinalIgnoreCase)],
            CallTimeout = definition.CallTimeout,
            Tags = definition.Tags,
            ServerVersion = _connection is { } connection ? ServerVersion(connection) : null,
            ProtocolVersion = _connection?.Client.NegotiatedProtocolVersion,
        };
    }
}
