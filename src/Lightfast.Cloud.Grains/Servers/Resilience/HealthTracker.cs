namespace Lightfast.Cloud.Servers.Resilience;

/// <summary>
/// Turns ping outcomes into a health state: Healthy after a successful ping, Degraded after fewer than
/// <c>unhealthyThreshold</c> failures in a row, Unhealthy from the threshold on.
/// </summary>
internal sealed class HealthTracker(int unhealthyThreshold)
{
    public int ConsecutiveFailures { get; private set; }

    public DateTimeOffset? LastCheckAt { get; private set; }

    public double? LatencyMs { get; private set; }

    public ServerError? LastError { get; private set; }

    public HealthStatus Status => ConsecutiveFailures switch
    {
        0 => HealthStatus.Healthy,
        _ when ConsecutiveFailures >= unhealthyThreshold => HealthStatus.Unhealthy,
        _ => HealthStatus.Degraded,
    };

    public bool HasChecked => LastCheckAt is not null;

    public HealthStatus Succeeded(DateTimeOffset at, TimeSpan latency)
    {
        ConsecutiveFailures = 0;
        LastCheckAt = at;
        LatencyMs = Math.Round(latency.TotalMilliseconds, 3);
        LastError = null;
        return Status;
    }

    public HealthStatus Failed(DateTimeOffset at, ServerError error)
    {
        ConsecutiveFailures++;
        LastCheckAt = at;
        LatencyMs = null;
        LastError = error;
        return Status;
    }

    /// <summary>Forgets past checks: a new connection starts healthy until a ping says otherwise.</summary>
    public void Reset()
    {
        ConsecutiveFailures = 0;
        LastCheckAt = null;
        LatencyMs = null;
        LastError = null;
    }

    /// <summary>The health as the API shows it; before the first check, as of <paramref name="now"/>.</summary>
    public ServerHealth Snapshot(string server, ServerStatus status, DateTimeOffset now) =>
        new(server, Status, status, LastCheckAt ?? now, LatencyMs, LastError, ConsecutiveFailures);
}
