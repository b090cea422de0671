using Lightfast.Cloud.Servers;
using Lightfast.Cloud.Servers.Resilience;

namespace Lightfast.Cloud.Tests.Resilience;

public sealed class RestartBudgetAndHealthTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void TheBudgetAllowsMaxRestartsWithinTheWindowAndRefillsAsTheWindowSlides()
    {
        var budget = new RestartBudget(max: 3, window: TimeSpan.FromMinutes(10));

        Assert.True(budget.TryTake(T0));
        Assert.True(budget.TryTake(T0.AddMinutes(1)));
        Assert.True(budget.TryTake(T0.AddMinutes(2)));
        Assert.False(budget.TryTake(T0.AddMinutes(3)));
        Assert.Equal(3, budget.Used);

        // The first restart leaves the window ten minutes after it happened: one restart is available again.
        Assert.True(budget.TryTake(T0.AddMinutes(10)));
        Assert.False(budget.TryTake(T0.AddMinutes(10.5)));

        budget.Reset();
        Assert.True(budget.TryTake(T0.AddMinutes(11)));
    }

    [Fact]
    public void ABudgetOfZeroNeverRestarts()
    {
        Assert.False(new RestartBudget(0, TimeSpan.FromMinutes(1)).TryTake(T0));
    }

    [Fact]
    public void HealthIsDegradedBeforeTheThresholdAndUnhealthyFromIt()
    {
        var health = new HealthTracker(unhealthyThreshold: 3);
        var error = new ServerError("SERVER_UNAVAILABLE", "no answer", T0);

        Assert.False(health.HasChecked);
        Assert.Equal(HealthStatus.Healthy, health.Succeeded(T0, TimeSpan.FromMilliseconds(12.5)));
        Assert.Equal(12.5, health.LatencyMs);
        Assert.Equal(HealthStatus.Degraded, health.Failed(T0.AddSeconds(1), error));
        Assert.Equal(HealthStatus.Degraded, health.Failed(T0.AddSeconds(2), error));
        Assert.Equal(HealthStatus.Unhealthy, health.Failed(T0.AddSeconds(3), error));

        var snapshot = health.Snapshot("s", ServerStatus.Running, T0.AddSeconds(10));
        Assert.Equal(3, snapshot.ConsecutiveFailures);
        Assert.Equal(T0.AddSeconds(3), snapshot.CheckedAt);
        Assert.Null(snapshot.LatencyMs);
        Assert.Equal(error, snapshot.Error);

        Assert.Equal(HealthStatus.Healthy, health.Succeeded(T0.AddSeconds(4), TimeSpan.FromMilliseconds(3)));
        Assert.Equal(0, health.ConsecutiveFailures);
        Assert.Null(health.LastError);
    }
}
