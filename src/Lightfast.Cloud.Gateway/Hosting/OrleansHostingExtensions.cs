using Lightfast.Cloud.Hosting;
using Lightfast.Cloud.Storage.Azure;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Configuration;

namespace Lightfast.Cloud.Gateway.Hosting;

internal static class OrleansHostingExtensions
{
    /// <summary>
    /// <c>Lightfast:Gateway:Mode</c> = <c>Local</c> | <c>Client</c>. When unset: <c>Client</c> if
    /// <c>Orleans:Clustering:ProviderType</c> is configured, otherwise <c>Local</c>.
    /// </summary>
    public static GatewayMode GetGatewayMode(this IConfiguration configuration)
    {
        var configured = configuration["Lightfast:Gateway:Mode"];
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Enum.Parse<GatewayMode>(configured, ignoreCase: true);
        }

        return string.IsNullOrWhiteSpace(configuration["Orleans:Clustering:ProviderType"]) ? GatewayMode.Local : GatewayMode.Client;
    }

    public static WebApplicationBuilder AddLightfastOrleans(this WebApplicationBuilder builder)
    {
        var mode = builder.Configuration.GetGatewayMode();
        if (mode == GatewayMode.Local)
        {
            builder.AddLocalLightfastSilo();
        }
        else
        {
            // A pure Orleans client: no embedded silo. Its clustering (for example AzureTableStorage) may need a
            // storage client named by Orleans:Clustering:ServiceKey.
            builder.Services.AddAzureStorageFromConfiguration(builder.Configuration);
            builder.UseOrleansClient(client =>
            {
                client.AddActivityPropagation();
                client.Configure<ClientMessagingOptions>(options =>
                    options.ResponseTimeout = builder.Configuration.GetValue("Orleans:Messaging:ResponseTimeout", SiloHostingExtensions.DefaultResponseTimeout));
            });
        }

        builder.Services.AddHealthChecks().AddCheck<ClusterHealthCheck>("orleans");
        return builder;
    }
}

/// <summary>Ready when a grain call to the registry answers: the cluster (embedded or remote) is reachable.</summary>
internal sealed class ClusterHealthCheck(IGrainFactory grains) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await grains.GetGrain<Lightfast.Cloud.Servers.IServerRegistryGrain>(Lightfast.Cloud.Servers.IServerRegistryGrain.DefaultKey)
                .ListServersAsync(timeout.Token);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is OrleansException or TimeoutException or OperationCanceledException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy("The Orleans cluster does not answer.", ex);
        }
    }
}
