using Lightfast.Cloud.Conversations.Providers;
using Lightfast.Cloud.Observability;
using Lightfast.Cloud.Servers;
using Lightfast.Cloud.Servers.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Lightfast.Cloud.Hosting;

/// <summary>Registers what the grains need in a silo.</summary>
public static class LightfastGrainsExtensions
{
    public static IServiceCollection AddLightfastGrains(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<McpConnectionOptions>().BindConfiguration(McpConnectionOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ServerRegistryOptions>().BindConfiguration(ServerRegistryOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<IMcpConnectionFactory, McpConnectionFactory>();
        services.AddMetrics();
        services.TryAddSingleton<LightfastMetrics>();
        services.AddOptions<ServerKeeperOptions>().BindConfiguration(ServerKeeperOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ServerKeeper>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<ServerKeeper>());
        services.AddOptions<AiOptions>().BindConfiguration(AiOptions.SectionName);
        services.TryAddSingleton<IChatClientProvider, ChatClientProvider>();
        return services;
    }
}
