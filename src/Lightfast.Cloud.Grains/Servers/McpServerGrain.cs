using System.Globalization;
using System.Net;
using Lightfast.Cloud.Errors;
using Lightfast.Cloud.Observability;
using Lightfast.Cloud.Persistence;
using Lightfast.Cloud.Servers.Configuration;
using Lightfast.Cloud.Servers.Connections;
using Lightfast.Cloud.Servers.Resilience;
using Lightfast.Cloud.Tools;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Lightfast.Cloud.Servers;

/// <summary>
/// Owns one MCP server: its persisted definition and desired state, and at runtime its single open
/// <see cref="McpClient"/>, which every tool call reuses. Tool calls, tool listings, pings and info interleave
/// (see the interface); configuration and lifecycle changes run one at a time.
/// </summary>
/// <remarks>
/// <para>Resilience: every call goes through the server's <see cref="ServerCallPipeline"/> (retry of transient
/// failures, circuit breaker, timeout). A connection that is lost while the server should run is re-established:
/// a stdio process is restarted at once, within its <see cref="RestartBudget"/>; an HTTP server is reconnected by
/// the next call or health check, with backoff. An HTTP server that forgot our session (404) gets a new session
/// and the call is sent once more.</para>
/// <para>A grain timer checks health every <see cref="ServerResilience.HealthInterval"/> and resumes a server
/// whose activation was lost (silo restart or failure) while its desired state is running.</para>
/// </remarks>
public sealed class McpServerGrain(
    [PersistentState("server")] IPersistentState<McpServerState> state,
    IMcpConnectionFactory connections,
    IOptions<McpConnectionOptions> options,
    LightfastMetrics metrics,
    ILocalSiloDetails silo,
    TimeProvider time,
    ILogger<McpServerGrain> logger) : Grain, IMcpServerGrain, IDisposable
{
    /// <summary>A server that should run keeps its activation, because the activation holds the connection.</summary>
    private static readonly TimeSpan KeepRunningServerActive = TimeSpan.FromDays(3650);

    /// <summary>The longest wait between reconnect attempts to an unreachable HTTP server, or between restarts.</summary>
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);

    private McpConnection? _connection;
    private ServerStatus _status = ServerStatus.Stopped;
    private DateTimeOffset? _startedAt;
    private ServerError? _lastError;
    private long _callCount;
    private int _reconnects;
    private Dictionary<string, ToolDescriptor> _tools = new(StringComparer.Ordinal);

    // Resilience, rebuilt from the definition's settings.
    private ServerCallPipeline? _pipeline;
    private HealthTracker _health = new(ServerResilience.Default.UnhealthyThreshold);
    private RestartBudget _restarts = new(ServerResilience.Default.MaxRestarts, ServerResilience.Default.RestartWindow);
    private IGrainTimer? _healthTimer;

    // Recovery: the connection was lost while the server should run and may be re-established.
    private bool _recoverable;
    private bool _resumePending;
    private Task<McpConnection>? _recovery;
    private int _reconnectFailures;
    private DateTimeOffset _nextReconnectAt;
    private CancellationTokenSource _lifetime = new();

    private string Name => this.GetPrimaryKeyString();

    /// <summary>How storage errors name this grain's state.</summary>
    private string StateName => $"MCP server '{Name}'";

    private bool ShouldRun => state.State is { Definition: not null, DesiredState: DesiredState.Running };

    /// <summary>Not connected, but a connection is being or may be (re-)established: calls wait for it.</summary>
    private bool CanRecover => ShouldRun && (_recovery is not null || _recoverable || _resumePending);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _tools = state.State.Tools.ToDictionary(t => t.Name, StringComparer.Ordinal);
        if (state.State.Definition is { } definition)
        {
            ApplySettings(definition);
        }

        if (ShouldRun)
        {
            // Come back by ourselves: the activation was lost (silo restart or failure, collection) while the
            // server should run. The first health tick, at once, reconnects.
            DelayDeactivation(KeepRunningServerActive);
            _resumePending = true;
            _healthTimer = StartHealthTimer(dueTime: TimeSpan.Zero);
        }

        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Graceful silo shutdown or collection: end any recovery and close the connection (for stdio this ends
        // the child process; for HTTP it ends the MCP session). Everything persisted was written when it changed.
        await EndRecoveryAsync();
        await DisconnectAsync();
        metrics.Forget(Name);
    }

    public async Task<ServerInfo> ConfigureAsync(ServerDefinition definition, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ServerSpecValidator.EnsureValid(definition);
        if (!string.Equals(definition.Name, Name, StringComparison.Ordinal))
        {
            throw new ValidationException("name", $"'{definition.Name}' does not match the server grain '{Name}'");
        }

        var wasActive = _connection is not null || _recovery is not null || _recoverable;
        state.State.Definition = definition;
        if (!definition.Enabled)
        {
            state.State.DesiredState = DesiredState.Stopped;
        }

        await state.WriteOrRejectAsync(StateName, cancellationToken);
        ServersLog.Configured(logger, Name, definition.Transport, definition.Enabled);

        if (wasActive)
        {
            await EndRecoveryAsync();
            await DisconnectAsync();
        }

        ApplySettings(definition);
        if (wasActive && ShouldRun)
        {
            await TryConnectAsync(definition, cancellationToken);
        }

        return BuildInfo();
    }

    public async Task RemoveAsync(CancellationToken cancellationToken = default)
    {
        RequireDefinition();
        await EndRecoveryAsync();
        StopHealthTimer();
        await DisconnectAsync();
        await state.ClearStateAsync(cancellationToken);
        state.State = new McpServerState();
        _tools = new(StringComparer.Ordinal);
        _lastError = null;
        _status = ServerStatus.Stopped;
        metrics.Forget(Name);
        ServersLog.Removed(logger, Name);
        DeactivateOnIdle();
    }

    public async Task<ServerInfo> StartAsync(CancellationToken cancellationToken = default)
    {
        var definition = RequireDefinition();
        if (_recovery is { } recovery)
        {
            await WaitQuietlyAsync(recovery);
        }

        if (_connection is not null)
        {
            return BuildInfo();
        }

        if (state.State.DesiredState != DesiredState.Running)
        {
            state.State.DesiredState = DesiredState.Running;
            await state.WriteOrRejectAsync(StateName, cancellationToken);
        }

        // An operator's start is a fresh start: the restart budget and the reconnect backoff begin again.
        _restarts.Reset();
        _reconnectFailures = 0;
        try
        {
            await ConnectAsync(definition, cancellationToken);
        }
        catch (ServerException) when (definition.Transport != McpTransportKind.Stdio && !cancellationToken.IsCancellationRequested)
        {
            // A remote server that is not up yet: keep trying, with backoff, from the health timer.
            ScheduleReconnect(definition);
            DelayDeactivation(KeepRunningServerActive);
            _healthTimer ??= StartHealthTimer(definition.Resilience.HealthInterval);
            throw;
        }

        return BuildInfo();
    }

    public async Task<ServerInfo> StopAsync(CancellationToken cancellationToken = default)
    {
        RequireDefinition();
        if (state.State.DesiredState != DesiredState.Stopped)
        {
            state.State.DesiredState = DesiredState.Stopped;
            await state.WriteOrRejectAsync(StateName, cancellationToken);
        }

        await EndRecoveryAsync();
        StopHealthTimer();
        await DisconnectAsync();
        _status = ServerStatus.Stopped;
        _lastError = null;
        return BuildInfo();
    }

    public async Task<ServerInfo> RestartAsync(CancellationToken cancellationToken = default)
    {
        RequireDefinition();
        await EndRecoveryAsync();
        await DisconnectAsync();
        return await StartAsync(cancellationToken);
    }

    public Task<ServerInfo?> GetInfoAsync() =>
        Task.FromResult(state.State.Definition is null ? null : BuildInfo());

    public Task<IReadOnlyList<ToolDescriptor>> ListToolsAsync(CancellationToken cancellationToken = default)
    {
        RequireDefinition();

        // While a lost connection is being re-established the server's tools stay offered: a call waits for
        // the new connection (or fails with a clear error) instead of the tools vanishing from the catalog.
        EnsureServing();
        return Task.FromResult<IReadOnlyList<ToolDescriptor>>([.. _tools.Values.OrderBy(t => t.Name, StringComparer.Ordinal)]);
    }

    public async Task<ToolCallResult> CallToolAsync(string tool, string? argumentsJson, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(tool);
        var definition = RequireDefinition();
        var pipeline = _pipeline!;
        var started = time.GetTimestamp();
        var outcome = LightfastMetrics.Outcomes.Failed;
        try
        {
            EnsureServing();
            if (!_tools.TryGetValue(tool, out var descriptor))
            {
                throw NotFoundException.Tool(Name, tool);
            }

            IReadOnlyDictionary<string, object?>? arguments;
            try
            {
                arguments = ToolArguments.Parse(argumentsJson, Name, descriptor);
            }
            catch (LightfastException)
            {
                outcome = LightfastMetrics.Outcomes.InvalidArguments;
                throw;
            }

            _callCount++;
            var result = await pipeline.ExecuteAsync(ct => AttemptAsync(definition, tool, arguments, ct), cancellationToken);
            outcome = result.IsError is true ? LightfastMetrics.Outcomes.ToolError : LightfastMetrics.Outcomes.Success;
            return ToolMapper.ToResult(Name, tool, result, time.GetElapsedTime(started));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            outcome = LightfastMetrics.Outcomes.Cancelled;
            throw;
        }
        catch (TimeoutRejectedException ex)
        {
            outcome = LightfastMetrics.Outcomes.Timeout;
            throw Logged(new ToolExecutionException(
                ErrorCodes.ToolTimeout,
                ErrorCategory.Timeout,
                Name,
                tool,
                $"Tool '{tool}' of server '{Name}' did not answer within {definition.CallTimeout.TotalSeconds:0.###} s; the call was cancelled.",
                ex), tool);
        }
        catch (BrokenCircuitException ex)
        {
            outcome = LightfastMetrics.Outcomes.CircuitOpen;
            throw Logged(ServerException.CircuitOpen(Name, ex.RetryAfter ?? pipeline.BreakDuration), tool);
        }
        catch (TransientCallException ex)
        {
            throw Logged(ex.Error, tool);
        }
        catch (McpProtocolException ex) when (ex.ErrorCode == McpErrorCode.InvalidParams)
        {
            outcome = LightfastMetrics.Outcomes.InvalidArguments;
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
        finally
        {
            metrics.ToolCall(Name, outcome, time.GetElapsedTime(started));
        }
    }

    public async Task<ServerHealth> CheckHealthAsync(CancellationToken cancellationToken = default)
    {
        RequireDefinition();
        if (_connection is { } connection)
        {
            await PingAsync(connection, cancellationToken);
        }

        return HealthSnapshot();
    }

    public Task<ServerStatus> EnsureDesiredStateAsync()
    {
        if (ShouldRun)
        {
            DelayDeactivation(KeepRunningServerActive);
            _healthTimer ??= StartHealthTimer(dueTime: TimeSpan.Zero);
        }

        return Task.FromResult(state.State.Definition is null ? ServerStatus.Stopped : _status);
    }

    public async Task<IReadOnlyList<ToolDescriptor>> RefreshToolsAsync(CancellationToken cancellationToken = default)
    {
        var definition = RequireDefinition();
        if (_connection is not { } connection)
        {
            throw NotRunning();
        }

        var tools = await ListServerToolsAsync(definition, connection, cancellationToken);
        if (ReferenceEquals(connection, _connection))
        {
            _tools = tools.ToDictionary(t => t.Name, StringComparer.Ordinal);
            state.State.Tools = tools;
            await state.WriteOrRejectAsync(StateName, cancellationToken);
            ServersLog.ToolsRefreshed(logger, Name, tools.Count);
        }

        return [.. _tools.Values.OrderBy(t => t.Name, StringComparer.Ordinal)];
    }

    /// <summary>
    /// One attempt of a call: get the connection (re-establishing a lost one), call, and sort the failures into
    /// transient ones (worth another attempt: <see cref="TransientCallException"/>) and the rest.
    /// </summary>
    private async Task<CallToolResult> AttemptAsync(ServerDefinition definition, string tool, IReadOnlyDictionary<string, object?>? arguments, CancellationToken cancellationToken)
    {
        var connection = await AcquireConnectionAsync(definition, "call", cancellationToken);
        try
        {
            return await connection.Client.CallToolAsync(tool, arguments, cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (IsSessionLost(ex))
        {
            // The server restarted and forgot our session: the request was refused before it ran, so a new
            // session and one more send lose nothing and run the call at most once.
            ServersLog.SessionExpired(logger, Name);
            await OnConnectionLostAsync(connection, $"the server no longer knows the MCP session ({ex.Message})", reconnectReason: "session_expired");
            connection = await AcquireConnectionAsync(definition, "session_expired", cancellationToken);
            try
            {
                return await connection.Client.CallToolAsync(tool, arguments, cancellationToken: cancellationToken);
            }
            catch (Exception again) when (IsConnectionFailure(again) || IsSessionLost(again) || IsDeadConnection(connection, again, cancellationToken))
            {
                throw await ConnectionFailedAsync(connection, tool, again);
            }
        }
        catch (Exception ex) when (IsConnectionFailure(ex) || IsDeadConnection(connection, ex, cancellationToken))
        {
            throw await ConnectionFailedAsync(connection, tool, ex);
        }
    }

    /// <summary>The connection to use now: the open one, or the one a recovery (started here if needed) brings.</summary>
    private async Task<McpConnection> AcquireConnectionAsync(ServerDefinition definition, string reason, CancellationToken cancellationToken)
    {
        if (_connection is { } open)
        {
            return open;
        }

        if (!CanRecover)
        {
            throw NotRunning();
        }

        // A new activation that has not resumed yet resumes now rather than at its first health tick.
        var recovery = _recovery ?? Recover(_resumePending ? "resume" : reason);
        try
        {
            return await recovery.WaitAsync(cancellationToken);
        }
        catch (ServerException ex) when (definition.Transport != McpTransportKind.Stdio && ex.Code is ErrorCodes.ServerConnectionFailed or ErrorCodes.ServerStartFailed)
        {
            // An HTTP server that cannot be reached now may be back in a moment.
            throw new TransientCallException(ex);
        }
    }

    private async Task<Exception> ConnectionFailedAsync(McpConnection connection, string tool, Exception exception)
    {
        var transient = exception is not HttpRequestException { StatusCode: { } status } || IsTransientStatus(status);
        var reason = exception.Message;
        if (transient)
        {
            reason = await OnConnectionLostAsync(connection, exception.Message, reconnectReason: "connection_lost");
        }

        var error = new ServerException(
            ErrorCodes.ServerConnectionFailed,
            ErrorCategory.Upstream,
            Name,
            $"The connection to MCP server '{Name}' failed during a call to '{tool}': {reason}",
            exception);
        return transient ? new TransientCallException(error) : error;
    }

    private static bool IsConnectionFailure(Exception exception) =>
        exception is IOException or HttpRequestException || (exception is McpException and not McpProtocolException);

    /// <summary>
    /// The server no longer knows our MCP session: HTTP 404 for the <c>Mcp-Session-Id</c> (the specification), or
    /// the 400 "No valid session ID" that servers built on the TypeScript SDK answer instead (-32000).
    /// </summary>
    private static bool IsSessionLost(Exception exception) => exception switch
    {
        HttpRequestException { StatusCode: HttpStatusCode.NotFound } => true,
        McpProtocolException protocol => (int)protocol.ErrorCode == -32000 && protocol.Message.Contains("session", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    /// <summary>
    /// Once a session has ended, the SDK fails further requests with a cancellation the caller did not ask for:
    /// that is a dead connection, not a cancelled call.
    /// </summary>
    private static bool IsDeadConnection(McpConnection connection, Exception exception, CancellationToken cancellationToken) =>
        exception is OperationCanceledException && !cancellationToken.IsCancellationRequested && connection.Client.Completion.IsCompleted;

    private static bool IsTransientStatus(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout;

    /// <summary>A health check: ping over MCP, at most PingTimeout; Unhealthy after the threshold reconnects.</summary>
    private async Task OnHealthTickAsync(CancellationToken cancellationToken)
    {
        if (!ShouldRun)
        {
            return;
        }

        if (_connection is { } connection)
        {
            await PingAsync(connection, cancellationToken);
            if (_health.Status == HealthStatus.Unhealthy && ReferenceEquals(connection, _connection))
            {
                await OnConnectionLostAsync(connection, $"{_health.ConsecutiveFailures} health checks failed in a row", reconnectReason: "unhealthy", recoverNow: "unhealthy");
            }

            return;
        }

        if (_recovery is not null)
        {
            return;
        }

        if (_resumePending)
        {
            // A new activation of a server that should run (its silo died or restarted): resume it.
            ServersLog.Resuming(logger, Name);
            RecoverInBackground("resume");
        }
        else if (_recoverable && time.GetUtcNow() >= _nextReconnectAt)
        {
            RecoverInBackground("reconnect");
        }
    }

    private async Task PingAsync(McpConnection connection, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.PingTimeout);
        var started = time.GetTimestamp();
        try
        {
            await connection.Client.PingAsync(cancellationToken: timeout.Token);
            RecordHealth(_health.Succeeded(time.GetUtcNow(), time.GetElapsedTime(started)));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is OperationCanceledException or McpException || IsConnectionFailure(ex))
        {
            var noAnswer = ex is OperationCanceledException && !connection.Client.Completion.IsCompleted;
            var reason = noAnswer ? $"no answer to ping within {options.Value.PingTimeout.TotalSeconds:0.###} s" : ex.Message;
            ServersLog.PingFailed(logger, Name, reason);
            var now = time.GetUtcNow();
            RecordHealth(_health.Failed(now, new ServerError(ErrorCodes.ServerUnavailable, reason, now)));

            // A server that does not answer in time may be busy: it gets UnhealthyThreshold chances. A connection
            // that is broken (refused, reset, session forgotten, transport closed) is replaced now: keeping it
            // would only fail every call (and the SDK's HTTP client retries its event stream in a busy loop).
            var broken = !noAnswer && ex is not McpProtocolException || IsSessionLost(ex);
            if (broken && ReferenceEquals(connection, _connection))
            {
                var sessionLost = IsSessionLost(ex);
                await OnConnectionLostAsync(
                    connection,
                    reason,
                    reconnectReason: sessionLost ? "session_expired" : "connection_lost",
                    recoverNow: sessionLost ? "session_expired" : "reconnect");
            }
        }
    }

    private void RecordHealth(HealthStatus health)
    {
        metrics.Health(Name, health);
        ServersLog.HealthChecked(logger, Name, health, _health.ConsecutiveFailures, _health.LatencyMs);
    }

    private ServerHealth HealthSnapshot()
    {
        var now = time.GetUtcNow();
        if (_connection is not null)
        {
            return _health.Snapshot(Name, _status, now);
        }

        var health = _status is ServerStatus.Stopped && !ShouldRun ? HealthStatus.Stopped : HealthStatus.Unhealthy;
        return new ServerHealth(Name, health, _status, now, null, _lastError, _health.ConsecutiveFailures);
    }

    /// <summary>
    /// Re-establishes a lost connection; every caller that needs it meanwhile shares this one attempt. A stdio
    /// server is restarted, with backoff, until its restart budget is spent; an HTTP server is tried once (calls
    /// and health checks try again later, with backoff).
    /// </summary>
    private Task<McpConnection> Recover(string reason) => _recovery ??= RunRecoveryAsync(reason, _lifetime.Token);

    /// <summary>Starts (or joins) a recovery nobody waits for; its outcome is recorded in the server's state.</summary>
    private void RecoverInBackground(string reason) => _ = WaitQuietlyAsync(Recover(reason));

    private async Task<McpConnection> RunRecoveryAsync(string reason, CancellationToken cancellationToken)
    {
        // Never complete synchronously, so that _recovery is set before it is cleared below.
        await Task.Yield();
        var definition = state.State.Definition!;
        if (reason == "resume")
        {
            _resumePending = false;
        }

        try
        {
            if (definition.Transport != McpTransportKind.Stdio || reason == "resume")
            {
                var connection = await ReconnectAsync(definition, reason, cancellationToken);
                return connection;
            }

            while (true)
            {
                if (!_restarts.TryTake(time.GetUtcNow()))
                {
                    throw RestartsExhausted();
                }

                var delay = Backoff(definition.Resilience.RetryDelay, _restarts.Used - 1);
                ServersLog.Restarting(logger, Name, _restarts.Used, _restarts.Max, delay.TotalMilliseconds);
                await Task.Delay(delay, time, cancellationToken);
                try
                {
                    return await ReconnectAsync(definition, "process_exited", cancellationToken);
                }
                catch (ServerException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    // Recorded as the last error by ConnectAsync; try again while the budget lasts.
                    ServersLog.RestartFailed(logger, Name, ex.Code, ex.Message);
                }
            }
        }
        catch (LightfastException) when (definition.Transport != McpTransportKind.Stdio && !cancellationToken.IsCancellationRequested && ShouldRun)
        {
            ScheduleReconnect(definition);
            throw;
        }
        finally
        {
            _recovery = null;
        }
    }

    /// <summary>An HTTP server could not be reached: try again from the health timer, waiting longer each time.</summary>
    private void ScheduleReconnect(ServerDefinition definition)
    {
        _recoverable = true;
        _reconnectFailures++;
        _nextReconnectAt = time.GetUtcNow() + Backoff(definition.Resilience.HealthInterval, _reconnectFailures - 1);
    }

    private async Task<McpConnection> ReconnectAsync(ServerDefinition definition, string reason, CancellationToken cancellationToken)
    {
        var connection = await ConnectAsync(definition, cancellationToken);
        _reconnectFailures = 0;
        _reconnects++;
        metrics.Reconnect(Name, reason);
        ServersLog.Reconnected(logger, Name, reason, _reconnects);
        return connection;
    }

    private ServerException RestartsExhausted()
    {
        var last = _lastError?.Message ?? "the connection was lost";
        var error = new ServerException(
            ErrorCodes.ServerProcessExited,
            ErrorCategory.Upstream,
            Name,
            $"MCP server '{Name}' was restarted {_restarts.Max} times within {_restarts.Window.TotalMinutes:0.#} min and is not restarted again; start it to try again. Last: {last}");
        _recoverable = false;
        _status = ServerStatus.Error;
        _lastError = new ServerError(error.Code, error.Message, time.GetUtcNow());
        ServersLog.RestartsExhausted(logger, Name, _restarts.Max, last);
        return error;
    }

    private static TimeSpan Backoff(TimeSpan baseDelay, int attempt)
    {
        var factor = Math.Pow(2, Math.Clamp(attempt, 0, 20));
        var delay = TimeSpan.FromMilliseconds(baseDelay.TotalMilliseconds * factor);
        return delay > MaxBackoff ? MaxBackoff : delay;
    }

    /// <summary>Cancels a recovery in progress (stop, remove, reconfigure, deactivation) and waits for it to end.</summary>
    private async Task EndRecoveryAsync()
    {
        _recoverable = false;
        _resumePending = false;
        if (_recovery is { } recovery)
        {
            await _lifetime.CancelAsync();
            await WaitQuietlyAsync(recovery);
        }

        if (_lifetime.IsCancellationRequested)
        {
            _lifetime.Dispose();
            _lifetime = new CancellationTokenSource();
        }
    }

    /// <summary>Waits for a recovery whose outcome is already recorded in the server's state and logged.</summary>
    private static async Task WaitQuietlyAsync(Task recovery)
    {
        try
        {
            await recovery;
        }
        catch (Exception ex) when (ex is LightfastException or OperationCanceledException)
        {
            // Recorded in _status/_lastError and logged where it happened.
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

    private async Task<McpConnection> ConnectAsync(ServerDefinition definition, CancellationToken cancellationToken)
    {
        _status = ServerStatus.Starting;
        ServersLog.Starting(logger, Name, definition.Transport);
        McpConnection? connection = null;
        try
        {
            connection = await connections.ConnectAsync(definition, cancellationToken);
            var tools = await ListServerToolsAsync(definition, connection, cancellationToken);
            _connection = connection;
            _tools = tools.ToDictionary(t => t.Name, StringComparer.Ordinal);
            _status = ServerStatus.Running;
            _lastError = null;
            _recoverable = false;
            _resumePending = false;
            _startedAt = time.GetUtcNow();
            _health.Reset();
            state.State.Tools = tools;
            await state.WriteOrRejectAsync(StateName, cancellationToken);
            DelayDeactivation(KeepRunningServerActive);
            _healthTimer ??= StartHealthTimer(definition.Resilience.HealthInterval);

            WatchToolListChanges(connection);
            _ = ObserveCompletionAsync(connection);
            ServersLog.Started(logger, Name, ServerVersion(connection), connection.Client.NegotiatedProtocolVersion, tools.Count);
            return connection;
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

    /// <summary>A server that says its tools changed (<c>notifications/tools/list_changed</c>) is listed again.</summary>
    private void WatchToolListChanges(McpConnection connection)
    {
        var self = this.AsReference<IMcpServerGrain>();
        var name = Name;
        connection.Client.RegisterNotificationHandler(NotificationMethods.ToolListChangedNotification, (_, _) =>
        {
            // The SDK calls this on its own thread: go through the grain, which lists the tools in turn.
            _ = RefreshAfterNotificationAsync(self, name, logger);
            return ValueTask.CompletedTask;
        });
    }

    private static async Task RefreshAfterNotificationAsync(IMcpServerGrain server, string name, ILogger logger)
    {
        ServersLog.ToolsChanged(logger, name);
        try
        {
            await server.RefreshToolsAsync();
        }
        catch (Exception ex) when (ex is LightfastException or OrleansException or TimeoutException)
        {
            // Nobody waits for this refresh: record why the catalog may be stale.
            ServersLog.ToolsRefreshFailed(logger, ex, name);
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
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && (ex is OperationCanceledException || IsConnectionFailure(ex) || ex is McpException))
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
        await connection.Client.Completion;
        if (ReferenceEquals(_connection, connection))
        {
            await OnConnectionLostAsync(connection, "the session ended", reconnectReason: "process_exited");
        }
    }

    /// <summary>
    /// The connection broke (a process exited, a transport failed, too many health checks failed): close it,
    /// record why, and when the server should run, re-establish it: a stdio server at once; an HTTP server at once
    /// when <paramref name="recoverNow"/> names why (a health check), else at the next call or health tick. Returns
    /// the reason, with the exit code and standard error of a stdio process.
    /// </summary>
    private async Task<string> OnConnectionLostAsync(McpConnection connection, string reason, string reconnectReason, string? recoverNow = null)
    {
        if (!ReferenceEquals(_connection, connection))
        {
            return reason;
        }

        // Everything a call arriving meanwhile looks at is settled before the first await.
        _connection = null;
        _status = ServerStatus.Error;
        _lastError = new ServerError(ErrorCodes.ServerConnectionFailed, $"Connection lost: {reason}", time.GetUtcNow());
        _recoverable = ShouldRun;
        _nextReconnectAt = time.GetUtcNow();

        await CloseAsync(connection);
        var described = Describe(connection, reason);
        var code = connection.Client.Completion.IsCompleted && connection.Client.Completion.Result is StdioClientCompletionDetails
            ? ErrorCodes.ServerProcessExited
            : ErrorCodes.ServerConnectionFailed;
        if (_connection is null && _status == ServerStatus.Error)
        {
            _lastError = new ServerError(code, $"Connection lost: {described}", time.GetUtcNow());
        }

        ServersLog.ConnectionLost(logger, Name, described, reconnectReason);
        var recovery = state.State.Definition?.Transport == McpTransportKind.Stdio ? "process_exited" : recoverNow;
        if (recovery is not null && _recoverable && ShouldRun && _recovery is null && _connection is null)
        {
            RecoverInBackground(recovery);
        }

        return described;
    }

    /// <summary>For a stdio server whose process ended: its exit code and the tail of its standard error.</summary>
    private static string Describe(McpConnection connection, string reason)
    {
        var completion = connection.Client.Completion;
        if (!completion.IsCompletedSuccessfully)
        {
            return reason;
        }

        if (completion.Result is not StdioClientCompletionDetails stdio)
        {
            return completion.Result.Exception?.Message ?? reason;
        }

        var exit = stdio.ExitCode is { } code ? code.ToString(CultureInfo.InvariantCulture) : "unknown";
        var tail = connection.StandardErrorTail;
        return $"the server process exited (exit code {exit}){(tail.Length > 0 ? $"; stderr: {tail}" : string.Empty)}";
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

    private void ApplySettings(ServerDefinition definition)
    {
        var settings = definition.Resilience;
        _pipeline = new ServerCallPipeline(Name, settings, definition.CallTimeout, metrics, logger);
        _health = new HealthTracker(settings.UnhealthyThreshold);
        _restarts = new RestartBudget(settings.MaxRestarts, settings.RestartWindow);
        if (_healthTimer is not null)
        {
            StopHealthTimer();
            _healthTimer = StartHealthTimer(settings.HealthInterval);
        }
    }

    private IGrainTimer StartHealthTimer(TimeSpan dueTime)
    {
        var interval = state.State.Definition?.Resilience.HealthInterval ?? ServerResilience.Default.HealthInterval;
        return this.RegisterGrainTimer(
            static (grain, ct) => grain.OnHealthTickAsync(ct),
            this,
            new GrainTimerCreationOptions { DueTime = dueTime, Period = interval });
    }

    private void StopHealthTimer()
    {
        _healthTimer?.Dispose();
        _healthTimer = null;
    }

    /// <summary>Orleans disposes a grain after its deactivation.</summary>
    public void Dispose() => _lifetime.Dispose();

    private ServerDefinition RequireDefinition() =>
        state.State.Definition ?? throw NotFoundException.Server(Name);

    /// <summary>Connected, or a connection is being or may be re-established; otherwise SERVER_NOT_RUNNING.</summary>
    private void EnsureServing()
    {
        if (_connection is null && !CanRecover)
        {
            throw NotRunning();
        }
    }

    private ServerException NotRunning()
    {
        var error = ServerException.NotRunning(Name, _status);
        if (_lastError is { } last)
        {
            error.WithDetail("lastError", last.Code);
        }

        return error;
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
            Health = _health.HasChecked || _connection is null ? HealthSnapshot() : null,
            Circuit = _pipeline?.Circuit ?? CircuitState.Closed,
            Reconnects = _reconnects,
            Silo = silo.SiloAddress.ToString(),
            Resilience = definition.Resilience,
        };
    }
}
