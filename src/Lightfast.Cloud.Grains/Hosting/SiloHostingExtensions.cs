using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;

namespace Lightfast.Cloud.Hosting;

/// <summary>Adds an Orleans silo that hosts the Lightfast grains.</summary>
public static class SiloHostingExtensions
{
    /// <summary>How long a grain call may take; bounded above the longest MCP start and call timeouts.</summary>
    public static readonly TimeSpan DefaultResponseTimeout = TimeSpan.FromMinutes(5);

    /// <summary>
    /// A silo configured from Orleans' own configuration keys (<c>Orleans:ClusterId</c>, <c>Orleans:ServiceId</c>,
    /// <c>Orleans:Endpoints:*</c>, <c>Orleans:Clustering:ProviderType</c>, <c>Orleans:GrainStorage:Default:ProviderType</c>,
    /// <c>Orleans:Reminders:ProviderType</c>, with their <c>ServiceKey</c> and <c>ConnectionStrings:*</c>), exactly the
    /// keys the Aspire Orleans integration sets. <paramref name="configure"/> may add to it (the local mode does).
    /// </summary>
    public static IHostApplicationBuilder AddLightfastSilo(this IHostApplicationBuilder builder, Action<ISiloBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddLightfastGrains();
        builder.UseOrleans(silo =>
        {
            silo.AddActivityPropagation();
            silo.Configure<SiloMessagingOptions>(options =>
                options.ResponseTimeout = builder.Configuration.GetValue("Orleans:Messaging:ResponseTimeout", DefaultResponseTimeout));
            configure?.Invoke(silo);
        });

        // Grain state in Orleans' own binary format, the version-tolerant serializer grain calls use ([Id]-numbered
        // members), not the default Newtonsoft JSON with type names: that JSON cannot read back the read-only
        // collections the grains keep ("<>z__ReadOnlyArray"), and is larger. State written as JSON is still read.
        builder.Services.AddSingleton<IGrainStorageSerializer>(services => new GrainStorageSerializer(
            new OrleansGrainStorageSerializer(services.GetRequiredService<Serializer>()),
            ActivatorUtilities.CreateInstance<JsonGrainStorageSerializer>(services)));
        return builder;
    }

    /// <summary>
    /// The local, no-setup silo: localhost clustering on <c>Orleans:Endpoints:SiloPort</c> / <c>GatewayPort</c>
    /// (11111 / 30000 by default, loopback only), in-memory grain storage and reminders.
    /// </summary>
    public static IHostApplicationBuilder AddLocalLightfastSilo(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var siloPort = builder.Configuration.GetValue("Orleans:Endpoints:SiloPort", EndpointOptions.DEFAULT_SILO_PORT);
        var gatewayPort = builder.Configuration.GetValue("Orleans:Endpoints:GatewayPort", EndpointOptions.DEFAULT_GATEWAY_PORT);
        return builder.AddLightfastSilo(silo => silo
            .UseLocalhostClustering(siloPort, gatewayPort)
            .AddMemoryGrainStorageAsDefault()
            .UseInMemoryReminderService());
    }
}
