using Lightfast.Cloud.Servers;
using Lightfast.Cloud.Servers.Configuration;

namespace Lightfast.Cloud.Gateway.Servers;

/// <summary>
/// Loads the servers file named by <c>Lightfast:ServersFile</c> (YAML or JSON) when the gateway starts. The file
/// is read and validated before the gateway accepts requests: an invalid file stops start-up with every problem
/// listed, and nothing is loaded. Registering and starting the servers then runs in the background, so slow
/// servers do not hold up the gateway; each outcome is logged and visible in the API.
/// </summary>
internal sealed class ServersFileImport(
    IConfiguration configuration,
    IGrainFactory grains,
    IHostApplicationLifetime lifetime,
    ILogger<ServersFileImport> logger) : IHostedService, IDisposable
{
    public const string ConfigurationKey = "Lightfast:ServersFile";

    private Task _import = Task.CompletedTask;
    private readonly CancellationTokenSource _stopping = new();

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var path = configuration[ConfigurationKey];
        if (string.IsNullOrWhiteSpace(path))
        {
            return Task.CompletedTask;
        }

        GatewayLog.LoadingServersFile(logger, path);
        var definitions = ServersFileLoader.Load(path);
        lifetime.ApplicationStarted.Register(() => _import = ImportAsync(definitions, _stopping.Token));
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _import.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public void Dispose() => _stopping.Dispose();

    private async Task ImportAsync(IReadOnlyList<ServerDefinition> definitions, CancellationToken cancellationToken)
    {
        try
        {
            var results = await grains.GetGrain<IServerRegistryGrain>(IServerRegistryGrain.DefaultKey).ImportAsync(definitions, cancellationToken);
            foreach (var result in results)
            {
                if (result.Error is { } error)
                {
                    GatewayLog.ImportedServerFailed(logger, result.Name, error.Code, error.Message);
                }
                else
                {
                    GatewayLog.ImportedServer(logger, result.Name, result.Status.ToString());
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is Lightfast.Cloud.Errors.LightfastException or OrleansException or TimeoutException)
        {
            GatewayLog.ImportFailed(logger, ex);
        }
    }
}

internal static class ServersFileImportExtensions
{
    public static WebApplicationBuilder AddServersFileImport(this WebApplicationBuilder builder)
    {
        builder.Services.AddHostedService<ServersFileImport>();
        return builder;
    }
}
