namespace Lightfast.Cloud.Servers;

/// <summary>Lifecycle state of a server's MCP connection.</summary>
[GenerateSerializer]
[Alias("lightfast.ServerStatus")]
public enum ServerStatus
{
    Stopped = 0,
    Starting = 1,
    Running = 2,
    Stopping = 3,
    Error = 4,
}

/// <summary>What the operator wants a server to be; survives restarts.</summary>
[GenerateSerializer]
[Alias("lightfast.DesiredState")]
public enum DesiredState
{
    Stopped = 0,
    Running = 1,
}

/// <summary>The last error a server ran into, with its stable code.</summary>
[GenerateSerializer, Immutable]
[Alias("lightfast.ServerError")]
public sealed record ServerError(
    [property: Id(0)] string Code,
    [property: Id(1)] string Message,
    [property: Id(2)] DateTimeOffset At);

/// <summary>
/// A server as the API shows it: its configuration without secrets (only the names of environment variables
/// and headers), its state and its counters.
/// </summary>
[GenerateSerializer, Immutable]
[Alias("lightfast.ServerInfo")]
public sealed record ServerInfo
{
    [Id(0)]
    public required string Name { get; init; }

    [Id(1)]
    public string? Description { get; init; }

    [Id(2)]
    public McpTransportKind Transport { get; init; }

    [Id(3)]
    public ServerStatus Status { get; init; }

    [Id(4)]
    public DesiredState DesiredState { get; init; }

    [Id(5)]
    public bool Enabled { get; init; }

    [Id(6)]
    public DateTimeOffset? StartedAt { get; init; }

    [Id(7)]
    public ServerError? LastError { get; init; }

    [Id(8)]
    public int ToolCount { get; init; }

    [Id(9)]
    public long CallCount { get; init; }

    [Id(10)]
    public string? Command { get; init; }

    [Id(11)]
    public IReadOnlyList<string> Args { get; init; } = [];

    [Id(12)]
    public string? WorkingDirectory { get; init; }

    [Id(13)]
    public Uri? Url { get; init; }

    /// <summary>Names of the configured environment variables; their values are never returned.</summary>
    [Id(14)]
    public IReadOnlyList<string> EnvNames { get; init; } = [];

    /// <summary>Names of the configured headers; their values are never returned.</summary>
    [Id(15)]
    public IReadOnlyList<string> HeaderNames { get; init; } = [];

    [Id(16)]
    public TimeSpan CallTimeout { get; init; }

    [Id(17)]
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>The name and version the server reported when it was initialized.</summary>
    [Id(18)]
    public string? ServerVersion { get; init; }

    /// <summary>The MCP protocol version negotiated with the server.</summary>
    [Id(19)]
    public string? ProtocolVersion { get; init; }

    /// <summary>The last health check of the running server (null before the first).</summary>
    [Id(20)]
    public ServerHealth? Health { get; init; }

    /// <summary>The state of the server's circuit breaker.</summary>
    [Id(21)]
    public CircuitState Circuit { get; init; }

    /// <summary>How many times the server's connection was re-established (process restarts, reconnects) since this activation began.</summary>
    [Id(22)]
    public int Reconnects { get; init; }

    /// <summary>The silo that hosts the server's connection (for stdio: where its process runs).</summary>
    [Id(23)]
    public string? Silo { get; init; }

    /// <summary>The server's retry, circuit breaker, restart and health settings.</summary>
    [Id(24)]
    public ServerResilience Resilience { get; init; } = ServerResilience.Default;
}

/// <summary>The state of a server's circuit breaker.</summary>
[GenerateSerializer]
[Alias("lightfast.CircuitState")]
public enum CircuitState
{
    /// <summary>Calls go through.</summary>
    Closed = 0,

    /// <summary>Too many calls failed: calls fail at once with <c>SERVER_UNAVAILABLE</c> until the break is over.</summary>
    Open = 1,

    /// <summary>The break is over: the next call is a probe; its success closes the circuit, its failure opens it again.</summary>
    HalfOpen = 2,
}

/// <summary>The result of one server's part of a bulk operation (start all, stop all).</summary>
[GenerateSerializer, Immutable]
[Alias("lightfast.ServerOperationResult")]
public sealed record ServerOperationResult(
    [property: Id(0)] string Name,
    [property: Id(1)] bool Succeeded,
    [property: Id(2)] ServerStatus Status,
    [property: Id(3)] ServerError? Error);

/// <summary>Health of one server as seen by an MCP ping.</summary>
[GenerateSerializer]
[Alias("lightfast.HealthStatus")]
public enum HealthStatus
{
    /// <summary>Running and answered the last ping.</summary>
    Healthy = 0,

    /// <summary>
    /// Did not answer <see cref="ServerResilience.UnhealthyThreshold"/> pings in a row, or is in the Error state,
    /// or is not connected while it should run. An unhealthy running server is reconnected, with backoff.
    /// </summary>
    Unhealthy = 1,

    /// <summary>Not running on purpose; nothing to check.</summary>
    Stopped = 2,

    /// <summary>Running, but the last ping (and fewer than the threshold in a row) failed.</summary>
    Degraded = 3,
}

[GenerateSerializer, Immutable]
[Alias("lightfast.ServerHealth")]
public sealed record ServerHealth(
    [property: Id(0)] string Name,
    [property: Id(1)] HealthStatus Health,
    [property: Id(2)] ServerStatus Status,
    [property: Id(3)] DateTimeOffset CheckedAt,
    [property: Id(4)] double? LatencyMs,
    [property: Id(5)] ServerError? Error,
    [property: Id(6)] int ConsecutiveFailures = 0);

/// <summary>What <c>PUT</c> of a server did.</summary>
[GenerateSerializer, Immutable]
[Alias("lightfast.PutServerResult")]
public sealed record PutServerResult([property: Id(0)] ServerInfo Server, [property: Id(1)] bool Created);
