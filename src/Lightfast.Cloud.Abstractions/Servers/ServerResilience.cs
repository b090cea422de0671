namespace Lightfast.Cloud.Servers;

/// <summary>
/// How a server's calls are protected and how the server is watched: retries of transient failures, the circuit
/// breaker, restarts of a stdio process that exits, and the health check. Every server has these defaults;
/// a servers file or the API may override any of them (<c>resilience:</c>).
/// </summary>
[GenerateSerializer, Immutable]
[Alias("lightfast.ServerResilience")]
public sealed record ServerResilience
{
    /// <summary>The defaults every server gets.</summary>
    public static readonly ServerResilience Default = new();

    /// <summary>
    /// Retries of a call that failed for a transient reason (connection refused or reset, HTTP 5xx or 429, a
    /// process that exited). A tool's own error, invalid arguments and timeouts are never retried.
    /// </summary>
    [Id(0)]
    public int MaxRetries { get; init; } = 2;

    /// <summary>The first retry's delay; each further retry doubles it, with jitter.</summary>
    [Id(1)]
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The share of failed calls within <see cref="CircuitSamplingDuration"/> that opens the circuit.</summary>
    [Id(2)]
    public double CircuitFailureRatio { get; init; } = 0.5;

    /// <summary>The least number of calls within <see cref="CircuitSamplingDuration"/> before the circuit may open.</summary>
    [Id(3)]
    public int CircuitMinimumCalls { get; init; } = 5;

    /// <summary>The window in which failures are counted.</summary>
    [Id(4)]
    public TimeSpan CircuitSamplingDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open circuit rejects calls before one probe call may try the server again.</summary>
    [Id(5)]
    public TimeSpan CircuitBreakDuration { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How many times a stdio server whose process exited is restarted within <see cref="RestartWindow"/>.</summary>
    [Id(6)]
    public int MaxRestarts { get; init; } = 3;

    /// <summary>The window over which restarts are counted; once more have been needed, the server goes to Error.</summary>
    [Id(7)]
    public TimeSpan RestartWindow { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How often a running server is pinged over MCP.</summary>
    [Id(8)]
    public TimeSpan HealthInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Consecutive failed pings after which the server is Unhealthy and is reconnected (fewer: Degraded).</summary>
    [Id(9)]
    public int UnhealthyThreshold { get; init; } = 3;
}
