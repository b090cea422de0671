using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Lightfast.Cloud.Errors;
using Lightfast.Cloud.Storage.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Lightfast.Cloud.Tests.Storage;

public sealed class AzureStorageClientsTests
{
    private static IConfiguration Configuration(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    [Fact]
    public void EveryServiceKeyOfAnAzureProviderGetsItsClientsFromItsConnectionString()
    {
        var configuration = Configuration(new()
        {
            ["Orleans:Clustering:ProviderType"] = "AzureTableStorage",
            ["Orleans:Clustering:ServiceKey"] = "clustering",
            ["Orleans:GrainStorage:Default:ProviderType"] = "AzureBlobStorage",
            ["Orleans:GrainStorage:Default:ServiceKey"] = "grainstate",
            ["Orleans:GrainStorage:Cache:ProviderType"] = "Memory",
            ["Orleans:Reminders:ProviderType"] = "AzureTableStorage",
            ["Orleans:Reminders:ServiceKey"] = "clustering",
            ["ConnectionStrings:clustering"] = "UseDevelopmentStorage=true",
            ["ConnectionStrings:grainstate"] = "https://account.blob.core.windows.net/",
        });

        Assert.Equal(
            ["Orleans:Clustering=clustering", "Orleans:GrainStorage:Default=grainstate", "Orleans:Reminders=clustering"],
            AzureStorageClients.ServiceKeys(configuration).Select(k => $"{k.Path}={k.ServiceKey}").Order(StringComparer.Ordinal));

        using var services = new ServiceCollection().AddAzureStorageFromConfiguration(configuration).BuildServiceProvider();
        var table = services.GetRequiredKeyedService<TableServiceClient>("clustering");
        Assert.Equal("devstoreaccount1", table.AccountName);
        var blob = services.GetRequiredKeyedService<BlobServiceClient>("grainstate");
        Assert.Equal(new Uri("https://account.blob.core.windows.net/"), blob.Uri); // a service URI: managed identity
        Assert.Equal("account", blob.AccountName);
    }

    [Fact]
    public void AServiceKeyWithoutItsConnectionStringIsAClearStartUpError()
    {
        var configuration = Configuration(new()
        {
            ["Orleans:Clustering:ProviderType"] = "AzureTableStorage",
            ["Orleans:Clustering:ServiceKey"] = "clustering",
        });

        var error = Assert.Throws<ConfigurationException>(() => new ServiceCollection().AddAzureStorageFromConfiguration(configuration));

        var problem = Assert.Single(error.Errors);
        Assert.Equal("ConnectionStrings:clustering", problem.Path);
        Assert.Contains("Orleans:Clustering:ServiceKey", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AClientAlreadyRegisteredUnderTheKeyIsKept()
    {
        var mine = new TableServiceClient("UseDevelopmentStorage=true");
        var configuration = Configuration(new()
        {
            ["Orleans:Clustering:ProviderType"] = "AzureTableStorage",
            ["Orleans:Clustering:ServiceKey"] = "clustering",
            ["ConnectionStrings:clustering"] = "UseDevelopmentStorage=true",
        });

        using var services = new ServiceCollection()
            .AddKeyedSingleton("clustering", mine)
            .AddAzureStorageFromConfiguration(configuration)
            .BuildServiceProvider();

        Assert.Same(mine, services.GetRequiredKeyedService<TableServiceClient>("clustering"));
    }

    [Fact]
    public void DeleteStateOnClearIsReadForEachAzureGrainStorageAndAnInvalidValueIsAStartUpError()
    {
        var configuration = Configuration(new()
        {
            ["Orleans:GrainStorage:Default:ProviderType"] = "AzureTableStorage",
            ["Orleans:GrainStorage:Default:ServiceKey"] = "storage",
            ["Orleans:GrainStorage:Default:DeleteStateOnClear"] = "true",
            ["Orleans:GrainStorage:archive:ProviderType"] = "AzureBlobStorage",
            ["Orleans:GrainStorage:archive:ServiceKey"] = "storage",
            ["Orleans:GrainStorage:archive:DeleteStateOnClear"] = "True",
            ["ConnectionStrings:storage"] = "UseDevelopmentStorage=true",
        });

        using var services = new ServiceCollection().AddAzureStorageFromConfiguration(configuration).BuildServiceProvider();

        Assert.True(services.GetRequiredService<IOptionsMonitor<AzureTableStorageOptions>>().Get("Default").DeleteStateOnClear);
        Assert.False(services.GetRequiredService<IOptionsMonitor<AzureTableStorageOptions>>().Get("archive").DeleteStateOnClear);
        Assert.True(services.GetRequiredService<IOptionsMonitor<AzureBlobStorageOptions>>().Get("archive").DeleteStateOnClear);

        var invalid = Configuration(new()
        {
            ["Orleans:GrainStorage:Default:ProviderType"] = "AzureTableStorage",
            ["Orleans:GrainStorage:Default:DeleteStateOnClear"] = "sometimes",
        });
        var error = Assert.Throws<ConfigurationException>(() => new ServiceCollection().AddAzureStorageFromConfiguration(invalid));
        Assert.Equal("Orleans:GrainStorage:Default:DeleteStateOnClear", Assert.Single(error.Errors).Path);
    }
}
