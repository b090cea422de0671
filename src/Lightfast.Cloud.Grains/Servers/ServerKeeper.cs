using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lightfast.Cloud.Servers;

/// <summary>
/// Runs on every silo: once the silo is active, and then every <see cref="ServerKeeperOptions.Interval"/>, it asks
/// the registry to wake every server up (<see cref="IServerRegistryGrain.EnsureDesiredStateAsync"/>). A server
/// whose silo died is activated again on a live silo by that call and reconnects by itself; no client call is
/// needed. Every silo runs one, so the keeper itself has no single point of failure; the sweeps are idempotent.
/// </summary>
internal sealed class ServerKeeper(
    IGrainFactory grains,
    IOptions<ServerKeeperOptions> options,
    TimeProvider time,
    ILogger<ServerKeeper> logger) : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private CancellationTokenSource? _stopping;
    private Task? _loop;

    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(nameof(ServerKeeper), ServiceLifecycleStage.Active, StartAsync, StopAsync);
    }

    private Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Enabled)
        {
            _stopping = new CancellationTokenSource();
            _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stopping is null || _loop is null)
        {
            return;
        }

        await _stopping.CancelAsync();
        await _loop.WaitAsync(cancellationToken);
    }

    public void Dispose() => _stopping?.Dispose();

    private async Task RunAsync(CancellationToken stopping)
    {
        var registry = grains.GetGrain<IServerRegistryGrain>(IServerRegistryGrain.DefaultKey);
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var count = await registry.EnsureDesiredStateAsync(stopping);
                ServersLog.KeeperSwept(logger, count);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // A silo that just died, a registry being moved: the next sweep tries again. Logged, not lost.
                ServersLog.KeeperSweepFailed(logger, ex);
            }

            try
            {
                await Task.Delay(options.Value.Interval, time, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

/// <summary>The server keeper. Bound from <c>Lightfast:Keeper</c>.</summary>
public sealed class ServerKeeperOptions
{
    public const string SectionName = "Lightfast:Keeper";

    /// <summary>Whether this silo runs a keeper.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often the keeper sweeps: the longest a server that should run stays down after its silo died, once the silo is declared dead.</summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(15);
}
