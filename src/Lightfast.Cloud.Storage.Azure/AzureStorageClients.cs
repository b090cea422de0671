using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;
using Lightfast.Cloud.Errors;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Configuration;

namespace Lightfast.Cloud.Storage.Azure;

/// <summary>
/// The Orleans Azure Storage providers (<c>ProviderType</c> <c>AzureTableStorage</c> or <c>AzureBlobStorage</c>)
/// take their storage client from the service container, by the <c>ServiceKey</c> of their configuration section
/// (that is how the Aspire Orleans integration wires them). This registers those clients from
/// <c>ConnectionStrings:{ServiceKey}</c>: a storage connection string (Azurite, keys) or a service URI, which is
/// used with <see cref="DefaultAzureCredential"/> (managed identity in Azure Container Apps). Clients already
/// registered under the key (by an Aspire client integration) are kept. It also reads the one grain-storage
/// setting the providers' configuration builders leave out, <c>DeleteStateOnClear</c>.
/// </summary>
public static class AzureStorageClients
{
    public const string TableProvider = "AzureTableStorage";
    public const string BlobProvider = "AzureBlobStorage";

    /// <summary>
    /// Registers a table and a blob service client for every service key an Azure provider names, and applies
    /// <c>Orleans:GrainStorage:{name}:DeleteStateOnClear</c> to the Azure grain storage of that name.
    /// </summary>
    public static IServiceCollection AddAzureStorageFromConfiguration(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var errors = new List<ValidationError>();
        foreach (var (path, serviceKey) in ServiceKeys(configuration))
        {
            var connection = configuration.GetConnectionString(serviceKey);
            if (string.IsNullOrWhiteSpace(connection))
            {
                errors.Add(new ValidationError($"ConnectionStrings:{serviceKey}", $"is required by {path}:ServiceKey (a storage connection string, or the service URI to use with a managed identity)"));
                continue;
            }

            services.TryAddKeyedSingleton(serviceKey, (_, _) => CreateTableClient(connection));
            services.TryAddKeyedSingleton(serviceKey, (_, _) => CreateBlobClient(connection));
        }

        foreach (var section in configuration.GetSection("Orleans:GrainStorage").GetChildren())
        {
            if (section["DeleteStateOnClear"] is not { Length: > 0 } value)
            {
                continue;
            }

            if (!bool.TryParse(value, out var deleteStateOnClear))
            {
                errors.Add(new ValidationError($"{section.Path}:DeleteStateOnClear", $"must be true or false, not '{value}'"));
            }
            else if (section["ProviderType"] == TableProvider)
            {
                services.Configure<AzureTableStorageOptions>(section.Key, options => options.DeleteStateOnClear = deleteStateOnClear);
            }
            else if (section["ProviderType"] == BlobProvider)
            {
                services.Configure<AzureBlobStorageOptions>(section.Key, options => options.DeleteStateOnClear = deleteStateOnClear);
            }
        }

        if (errors.Count > 0)
        {
            throw new ConfigurationException(
                $"Azure Storage is not configured completely: {string.Join("; ", errors.Select(e => $"{e.Path}: {e.Message}"))}",
                errors);
        }

        return services;
    }

    /// <summary>Every Orleans provider section whose provider is on Azure Storage and names a service key.</summary>
    internal static IEnumerable<(string Path, string ServiceKey)> ServiceKeys(IConfiguration configuration)
    {
        var orleans = configuration.GetSection("Orleans");
        var sections = new List<IConfigurationSection> { orleans.GetSection("Clustering"), orleans.GetSection("Reminders") };
        foreach (var group in new[] { "GrainStorage", "GrainDirectory" })
        {
            sections.AddRange(orleans.GetSection(group).GetChildren());
        }

        foreach (var section in sections)
        {
            if (section["ProviderType"] is TableProvider or BlobProvider && section["ServiceKey"] is { Length: > 0 } key)
            {
                yield return (section.Path, key);
            }
        }
    }

    internal static TableServiceClient CreateTableClient(string connection) =>
        ServiceUri(connection) is { } uri ? new TableServiceClient(uri, new DefaultAzureCredential()) : new TableServiceClient(connection);

    internal static BlobServiceClient CreateBlobClient(string connection) =>
        ServiceUri(connection) is { } uri ? new BlobServiceClient(uri, new DefaultAzureCredential()) : new BlobServiceClient(connection);

    /// <summary>The service URI when the connection is one (managed identity), null for a connection string.</summary>
    private static Uri? ServiceUri(string connection) =>
        Uri.TryCreate(connection, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http" ? uri : null;
}
