using Lightfast.Cloud.Hosting;
using Lightfast.Cloud.Storage.Azure;
using Lightfast.Cloud.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Storage;

namespace Lightfast.Cloud.IntegrationTests.Infrastructure;

/// <summary>
/// One started silo on Azurite, configured the way the silo process is (the Aspire keys, then
/// <c>AddAzureStorageFromConfiguration</c> and <c>AddLightfastSilo</c>), hosting the Lightfast grains. Besides the
/// <c>Default</c> grain storage on Azure Tables it has the named grain storages the contract tests drive directly:
/// <c>table</c> and <c>blob</c>, and <c>table-delete</c> and <c>blob-delete</c> with <c>DeleteStateOnClear</c>.
/// Conversations use a scripted model server behind the OpenAI provider.
/// </summary>
public sealed class AzureSiloFixture : IAsyncLifetime
{
    public const string ServiceId = "contract";

    private IHost? _host;

    public Azurite Azurite { get; private set; } = null!;

    public ScriptedModelServer Models { get; private set; } = null!;

    public IServiceProvider Services => _host!.Services;

    public IGrainFactory Grains => Services.GetRequiredService<IGrainFactory>();

    public IGrainStorage Storage(string name) => Services.GetRequiredKeyedService<IGrainStorage>(name);

    public async Task InitializeAsync()
    {
        Azurite = await Azurite.StartAsync();
        Models = await ScriptedModelServer.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Orleans:ClusterId"] = $"silo-{Guid.NewGuid():N}"[..20],
            ["Orleans:ServiceId"] = ServiceId,
            ["Orleans:Endpoints:SiloPort"] = $"{Repository.FreePort()}",
            ["Orleans:Endpoints:GatewayPort"] = $"{Repository.FreePort()}",
            ["Orleans:Endpoints:AdvertisedIPAddress"] = "127.0.0.1",
            ["Orleans:Clustering:ProviderType"] = "AzureTableStorage",
            ["Orleans:Clustering:ServiceKey"] = "storage",
            ["Orleans:Reminders:ProviderType"] = "AzureTableStorage",
            ["Orleans:Reminders:ServiceKey"] = "storage",
            ["ConnectionStrings:storage"] = Azurite.ConnectionString,
            ["Lightfast:AI:DefaultProvider"] = "openai",
            ["Lightfast:AI:Providers:openai:Type"] = "OpenAI",
            ["Lightfast:AI:Providers:openai:Endpoint"] = new Uri(Models.BaseAddress, "v1/").ToString(),
            ["Lightfast:AI:Providers:openai:ApiKey"] = "test-key",
            ["Lightfast:AI:Providers:openai:Model"] = "default-model",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (name, provider, deleteOnClear) in new[]
        {
            ("Default", "AzureTableStorage", false), ("table", "AzureTableStorage", false), ("table-delete", "AzureTableStorage", true),
            ("blob", "AzureBlobStorage", false), ("blob-delete", "AzureBlobStorage", true),
        })
        {
            settings[$"Orleans:GrainStorage:{name}:ProviderType"] = provider;
            settings[$"Orleans:GrainStorage:{name}:ServiceKey"] = "storage";
            settings[$"Orleans:GrainStorage:{name}:DeleteStateOnClear"] = deleteOnClear ? "true" : "false";
        }

        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddAzureStorageFromConfiguration(builder.Configuration);
        builder.AddLightfastSilo();
        _host = builder.Build();
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.StopAsync();
            _host.Dispose();
        }

        await Models.DisposeAsync();
        await Azurite.DisposeAsync();
    }
}
